"""The class's toy runs in a training process of their own, beside the app server.

Why: Streamlit serves every student from threads of one Python process. Training threads in that process share
its interpreter lock with every session's reruns and with the event loop that sends their pages; with a class
of 30 on a 2-core server the event loop spent about half its time waiting for the lock (measured with py-spy,
docs/architecture.md "The training process"), so live views lagged by up to a second. Here the stacked toy runs
(the class engine's groups, ganlab/jobs/stacking.py) train in one child process with its own lock, and the
server only draws.

client   TrainProcess, a Transport (ganlab/jobs/transport.py): starts the child, sends each PolledJob's start
         and commands, one round trip per poll for every job's status, steps and new snapshots
manager  ProcessJobManager: the server's JobManager with a TrainProcess as its transport
server   the child: a local Executor (placement, stacking, stepping), driven by the parent's messages over a socket pair

Which jobs go there (when GANLAB_TRAIN_PROCESS is not "0"): every 2-D toy job, stacked by the class engine
when it takes the run (see manager.py). Image runs and the 1-D game train in the server's worker threads as
before. If the child dies, its runs end with an error saying so and the next Start starts a
fresh child: the server itself never goes down with it.
"""
