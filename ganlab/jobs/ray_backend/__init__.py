"""The job interface on a Ray cluster (GANLAB_BACKEND=ray): every job's runners live in a Ray actor.

manager      RayJobManager: the local JobManager's caps, queue, owners and reaper, with a RayPool as its transport
job          RemoteJob (another replica's job, read from the registry), `record` (what the registry keeps of one)
pool         RayPool, a Transport (ganlab/jobs/transport.py): gives each job (a PolledJob) an actor, polls the
             actors, restarts failed ones
hosts        which jobs share an actor's stack group (a student's stackable toy run), the pool's Host (an actor
             and its jobs), a job's Seat (its actor and Host)
actor        TrainActor: the other end of the transport, an Executor in a Ray actor holding one job or a class-
             engine group of them, each checkpointed on its own (a dead actor's jobs restart alone from theirs)
registry     Registry: one named detached actor shared by every app replica (job ids, every replica's jobs,
             nicknames, the announcement); RayClassroom reads the class from it
connect      joining the cluster: RAY_ADDRESS, else a local Ray (no dashboard, loopback only)

Only `connect`, `pool`, `job`, `registry` and `manager` import Ray; `actor` and `hosts` are plain Python and
run (and are tested) without it. A job's periodic checkpoints, and restoring them after a failure, are
ganlab/jobs/checkpoints.py (the run store of every backend saves with them too).
"""
