"""GroupActor: many students' single toy runs trained as one class-engine group inside a Ray actor.

Where a JobActor (actor.py) holds one job, a GroupActor holds up to stacking.CPU_MEMBERS (GPU_MEMBERS) member jobs
whose configs share one stack key (ganlab.engine.batched.stack_key): RayPool (pool.py) sends it only those. Inside,
a private Executor with stacking on does what the training process's executor does for a class
(ganlab/jobs/train_process/server.py): `start` submits the member's RunSpec, which the same placement
(ganlab/jobs/placement.py) puts in the manager's StackGroup, and one worker thread steps every running member in one
vectorised step (ganlab/jobs/stacking.py). Each member keeps its own commands, snapshots, status and budget. The
actor's methods only read and command the manager's jobs, so they answer while the worker trains:

    start(jid, spec, label, applies)          a new member (spec: its RunSpec, built here only if the engine
                                              refuses the config after all; applies: live changes so far)
    command(jid, name, *args)                 a page's command to one member (Job.perform)
    poll({jid: (version, checkpoint_seq)})    -> {jid: report} for every member in one round trip: JobActor's
                                              report (status, steps, snapshots when newer, the newest
                                              checkpoint when newer); a member reported "done" is forgotten
    snapshots(jid, version)                   another replica's Class page reads a member
    close()                                   stop every member (the actor is killed right after)

Checkpoints, per member (fault tolerance): a member's job saves it at the start of its slice, in the thread
that steps the group, between two stacked steps (the engine's lock is free there: a save neither waits for a
step nor races one; a saver thread of its own would wait on the lock, which the stepping thread takes back
between chunks before a waiting thread wakes). Every CHECKPOINT_S a member that moved since its last save is
saved as a single run's checkpoint with its Adam states (ganlab/engine/batched/export.py; about 0.6 MB and
5 ms for a preset's 2x128 networks), at a logging step, as a single run's checkpoints are: the group's chunks
do not end on every member's logging steps (members join at any time, and the first chunk is one step), so a
member mid-way through an interval first takes the rest of it alone, as a page's "step once" does (at most
log_every - 1 steps at a single run's speed, once per CHECKPOINT_S). A finished member's final state
(weights, history, step; no optimiser) is saved once when it is reported done. Poll hands each member's newest
one to the driver, which keeps it: when this actor dies, every member restarts alone in its own JobActor from
its own checkpoint (JobActor.start with `resume`; the Trainer takes the member's very next steps, and its own
checkpoints go on at logging steps), and the student reads "restarted from step N after a worker failure
(M steps lost)". A member that has no checkpoint yet restarts from the beginning, and says so.

A member whose config the engine refuses here (it cannot happen for what RayPool sends, but a node's device
may differ from the driver's) trains through its RunSpec in the manager's worker, checkpointed between steps
by checkpoints.Checkpointer as in a JobActor. Plain Python: ray.remote wraps it where actors are created.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Sequence

from ganlab.jobs.executor import Executor
from ganlab.jobs.job import Job
from ganlab.jobs.ray_backend.checkpoints import CHECKPOINT_S, Checkpointer, MemberCheckpoints
from ganlab.jobs.report import Report, of, with_checkpoint
from ganlab.jobs.service import ExecutorService
from ganlab.jobs.spec import RunSpec


class MemberJob(Job):
    """A job of the group actor's manager: a class-engine member saves itself (`saves`) at the start of its
    slice, when due; StackGroup.run_slice runs every member's slice just before the group's stacked step."""

    saves: MemberCheckpoints | None = None

    def run_slice(self, seconds: float) -> bool:
        saves = self.saves
        if saves is not None and saves.due():
            try:
                saves.save()
            except Exception:  # noqa: BLE001 - a failed save is tried again at the next slice; training goes on
                traceback.print_exc()
        return super().run_slice(seconds)


class _Executor(Executor):
    job_class = MemberJob


class GroupActor(ExecutorService):
    """threads: torch intra-op threads (None: leave torch's setting); checkpoint_s: seconds between a member's
    checkpoints; workers: the manager's worker threads (one steps the group)."""

    def __init__(self, threads: int | None = None, checkpoint_s: float = CHECKPOINT_S, workers: int = 1):
        import torch

        import ganlab.engine.batched  # noqa: F401  (the class engine)
        import ganlab.engine.batched.export  # noqa: F401
        import ganlab.engine.runner  # noqa: F401  (a refused member's single-run stack)

        if threads:
            torch.set_num_threads(threads)
        # optimiser state_dict() and load_state_dict() import torch._dynamo (seconds): pay it now, not in a save
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True).state_dict()
        self.checkpoint_s = checkpoint_s
        super().__init__(_Executor(workers=workers, stacking=True))
        self._saves: dict[int, Any] = {}  # jid -> MemberCheckpoints, or a Checkpointer (a refused member)

    # ---- members ------------------------------------------------------------------------------------------------
    def start(self, jid: int, spec: RunSpec, label: str = "", applies: Sequence[tuple[int | None, dict]] = ()) -> None:
        """A new member: its RunSpec, placed by the local executor as the driver placed it; `applies` (the live
        changes so far) go before any command that overtook the start."""
        alone = Checkpointer(self.checkpoint_s)  # used only if the class engine does not take the config here
        job = self.submit(jid, _Checkpointed(spec, alone), label, first=[("apply", i, c) for i, c in applies])
        if job is not None:
            with self._lock:
                if job._group is not None:  # a class-engine member (else `alone` saves the job's own runner)
                    job.saves = MemberCheckpoints(job, self.checkpoint_s)
                if jid not in self._gone:  # (a member that failed at once may be reported and forgotten already)
                    self._saves[jid] = job.saves or alone

    def command(self, jid: int, name: str, *args: Any) -> None:
        self.perform(jid, (name, *args))

    # ---- reading ---------------------------------------------------------------------------------------------
    def report(self, jid: int, job: Job, held: tuple[int, int]) -> Report:
        """poll's report of a member (held: the (snapshot version, checkpoint seq) the driver has): JobActor's
        Report, with the member's newest checkpoint; a member reported done is forgotten here."""
        version, seq = held
        rep = of(job, version)
        with self._lock:
            saves = self._saves.get(jid)
        if saves is None:
            return rep
        if rep.done and isinstance(saves, MemberCheckpoints):
            saves.finish()  # its final state, in this very report
        return with_checkpoint(rep, saves.latest(), seq)

    def ended(self, jid: int) -> None:
        with self._lock:
            self._saves.pop(jid, None)

    def snapshots(self, jid: int, version: int) -> tuple[int, tuple] | None:
        """(version, snapshots) of one member when newer than `version`; None when not (or not held here)."""
        job = self.job(jid)
        if job is None:
            return None
        current = job.version
        return (current, job.snapshots()) if current != version else None

    def close(self, timeout: float = 5.0) -> None:
        """Stop every member (the actor is killed right after)."""
        super().close(timeout)


@dataclass(frozen=True)
class _Checkpointed:
    """A member's factory: its RunSpec's runners, checkpointed as a JobActor's are (used only when the member
    trains alone here). Names the spec as `.spec`, so the placement is the spec's (ganlab/jobs/placement.py)."""

    spec: RunSpec
    saves: Checkpointer

    def __call__(self) -> list:
        return self.saves.wrap(self.spec())
