"""TrainActor: an Executor inside a Ray actor -- the other end of the Ray transport (ganlab/jobs/ray_backend/pool.py).

One actor class for every job of the Ray backend. RayPool sends an actor either one job (A vs B, an image run,
the 1-D game, a run restarted after a failure) or up to stacking.CPU_MEMBERS (GPU_MEMBERS) students' single toy
runs that share one stack key (ganlab.engine.batched.stack_key). Inside, an ExecutorService (ganlab/jobs/service.py)
over a private Executor does what the training process does: `start` runs the job's RunSpec where the same
placement (ganlab/jobs/placement.py) puts it -- a class-engine stack group, stepped by one worker thread in one
vectorised step (ganlab/jobs/stacking.py), or the job's own runners. The methods only read and command the
executor's jobs, so they answer while the worker trains:

    start(jid, spec, label, applies, resume, paused)   a new job (applies: its live changes so far; resume: a
                                                        checkpoint to continue from, after a failure; paused)
    command(jid, name, *args)                           a page's command (Job.perform)
    poll({jid: (version, checkpoint_seq)})              -> {jid: Report} for every job in one round trip: status,
                                                        steps, snapshots when newer, the newest checkpoint when
                                                        newer; a job reported done is forgotten here
    snapshots(jid, version)                             another replica's Class page reads a job
    close()                                             stop every job (the actor is killed right after)

An actor is made before it has a job (a spare: its process has imported the training stack by the time a
student presses Start).

Checkpoints (fault tolerance). A job that trains alone: its runners are wrapped by a checkpoints.Checkpointer,
which saves them between steps at a logging step every CHECKPOINT_S. A class-engine member: its job saves it at
the start of its slice, in the thread that steps the group, between two stacked steps (the engine's lock is free
there: a save neither waits for a step nor races one). Every CHECKPOINT_S a member that moved since its last
save is saved as a single run's checkpoint with its Adam states (ganlab/engine/batched/export.py; about 0.6 MB
and 5 ms for a preset's 2x128 networks), at a logging step: a member mid-way through an interval first takes
the rest of it alone, as a page's "step once" does. A finished member's final state (weights, history, step; no
optimiser) is saved once when it is reported done. Poll hands each job's newest one to the driver, which keeps
it: when this actor dies, every job restarts alone in an actor of its own from its own checkpoint (`start` with
`resume`: the Trainer takes the member's very next steps), and the student reads "restarted from step N after a
worker failure (M steps lost)". A job without a checkpoint yet restarts from the beginning, and says so.
Plain Python: ray.remote wraps it where actors are created.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Sequence

from ganlab.jobs.checkpoints import CHECKPOINT_S, Checkpointer, MemberCheckpoints, restore
from ganlab.jobs.executor import Executor
from ganlab.jobs.job import Job
from ganlab.jobs.report import Checkpoint, Report, of, with_checkpoint
from ganlab.jobs.service import ExecutorService
from ganlab.jobs.spec import RunSpec


class MemberJob(Job):
    """A job of the actor's executor: a class-engine member saves itself (`saves`) at the start of its slice,
    when due; StackGroup.run_slice runs every member's slice just before the group's stacked step."""

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


class TrainActor(ExecutorService):
    """threads: torch intra-op threads (None: leave torch's setting); checkpoint_s: seconds between a job's
    checkpoints; stacking: the admitting manager's (so the placement here is the one it made)."""

    def __init__(self, threads: int | None = None, checkpoint_s: float = CHECKPOINT_S, stacking: bool = True):
        import torch

        import ganlab.engine.batched  # noqa: F401  (the class engine)
        import ganlab.engine.batched.export  # noqa: F401
        import ganlab.engine.runner  # noqa: F401  (the single-run training stack)

        if threads:
            torch.set_num_threads(threads)
        # optimiser state_dict() and load_state_dict() import torch._dynamo (seconds): pay it now, not in a save
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True).state_dict()
        self.checkpoint_s = checkpoint_s
        super().__init__(_Executor(workers=1, stacking=stacking))
        self._saves: dict[int, Any] = {}  # jid -> MemberCheckpoints, or the Checkpointer of a job alone

    # ---- jobs -------------------------------------------------------------------------------------------------
    def start(self, jid: int, spec: RunSpec, label: str = "", applies: Sequence[tuple[int | None, dict]] = (),
              resume: Checkpoint | None = None, paused: bool = False) -> None:
        """A new job: its RunSpec, placed here as the driver placed it. `applies` (the live changes so far) and a
        pause go before any command that overtook the start, and before its first step."""
        alone = Checkpointer(self.checkpoint_s, first_seq=resume.seq + 1 if resume is not None else 1)
        first = [("pause",)] if paused else []
        job = self.submit(jid, _Checkpointed(spec, alone, resume), label,
                          first=first + [("apply", i, c) for i, c in applies])
        if job is not None:
            with self._lock:
                if job._group is not None:  # a class-engine member (else `alone` saves the job's own runners)
                    job.saves = MemberCheckpoints(job, self.checkpoint_s)
                if jid not in self._gone:  # (a job that failed at once may be reported and forgotten already)
                    self._saves[jid] = job.saves or alone

    def command(self, jid: int, name: str, *args: Any) -> None:
        self.perform(jid, (name, *args))

    # ---- reading ---------------------------------------------------------------------------------------------
    def report(self, jid: int, job: Job, held: tuple[int, int]) -> Report:
        """poll's report of a job (held: the (snapshot version, checkpoint seq) the driver has), with its newest
        checkpoint when the driver does not hold it; done means everything after it is final, the checkpoint of
        the final state included."""
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
        """(version, snapshots) of one job when newer than `version`; None when not (or not held here)."""
        job = self.job(jid)
        if job is None:
            return None
        current = job.version
        return (current, job.snapshots()) if current != version else None


@dataclass(frozen=True)
class _Checkpointed:
    """A job's factory here: its RunSpec's runners (restored from `resume` after a failure), checkpointed by
    `saves` when they train alone. Names the spec as `.spec` (ganlab/jobs/placement.py), except for a restart:
    a continued checkpoint trains alone."""

    build: RunSpec
    saves: Checkpointer
    resume: Checkpoint | None = None

    @property
    def spec(self) -> RunSpec | None:
        return self.build if self.resume is None else None

    def __call__(self) -> list:
        runners = list(self.build())
        if self.resume is not None:
            restore(runners, self.resume)
        return self.saves.wrap(runners)
