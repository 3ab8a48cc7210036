"""JobActor: one job's runners inside a Ray actor, driven by the same machinery as a local job.

An actor is made before it has a job (a spare: its process has imported the training stack by the time a
student presses Start); `start` then gives it the job. Inside, a private Executor (one job, one worker
thread) does what it does in a server: builds the runners from the factory (a RunSpec), steps them in chunks,
applies commands between chunks, publishes snapshots. The actor's methods only read and command that job, so
they answer while the worker trains: `poll` hands back the status, the live step counts, the snapshots when
newer than the caller's, and the newest checkpoint when newer than the caller's
(ganlab/jobs/ray_backend/checkpoints.py); `command` forwards a page's command. Plain Python: ray.remote wraps
it where actors are created (ganlab/jobs/ray_backend/pool.py).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from ganlab.jobs.executor import Executor
from ganlab.jobs.ray_backend.checkpoints import CHECKPOINT_S, Checkpoint, Checkpointer, restore
from ganlab.jobs.report import Report, of, with_checkpoint
from ganlab.jobs.service import ExecutorService


class JobActor(ExecutorService):
    """One job's worker process. Created ahead of need (a spare) it pays the imports and torch's lazy set-up
    first, so `start` trains at once. threads: torch intra-op threads here (None: leave torch's setting). The job
    is held under one id (JOB); commands that reach the actor before its job are kept for it (another caller's
    call may overtake the start)."""

    JOB = 0

    def __init__(self, threads: int | None = None, checkpoint_s: float = CHECKPOINT_S):
        import torch

        import ganlab.engine.runner  # noqa: F401  (the training stack)

        if threads:
            torch.set_num_threads(threads)
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)  # imports its kernels' modules now
        super().__init__(Executor(workers=1), forget_done=False)
        self.checkpoint_s = checkpoint_s
        self._checkpointer: Checkpointer | None = None

    def start(self, build: Callable[[], Sequence[Any]], resume: Checkpoint | None = None, paused: bool = False,
              applies: Sequence[tuple[int | None, dict]] = ()) -> None:
        """build: the job's factory (a RunSpec). resume: a checkpoint to continue from (after a failure);
        paused: start paused; applies: live changes made so far (replayed: a setting applied twice is the same
        setting)."""
        checkpointer = Checkpointer(self.checkpoint_s, first_seq=resume.seq + 1 if resume is not None else 1)
        queued = threading.Event()  # set once the pause and replayed changes below are in the job's queue

        def factory() -> list:  # runs in the job's worker, whose first drain follows it: not one step unpaused
            queued.wait(5.0)
            runners = list(build())
            if resume is not None:
                restore(runners, resume)
            return checkpointer.wrap(runners)

        self._checkpointer = checkpointer
        first = [("pause",)] if paused else []  # drained right after the runners are built: not one step taken
        self.submit(self.JOB, factory, "ray", first=first + [("apply", i, c) for i, c in applies])
        queued.set()

    def poll(self, version: int, checkpoint_seq: int) -> Report:
        """The job's Report (ganlab/jobs/report.py), with the newest checkpoint when its seq is not
        `checkpoint_seq`. Done means everything after it is final: the last snapshot and, for runners with a
        Trainer, the checkpoint of their final state."""
        return super().poll({self.JOB: (version, checkpoint_seq)})[self.JOB]

    def report(self, jid: int, job, held: tuple[int, int]) -> Report:
        version, seq = held
        rep = of(job, version)
        return with_checkpoint(rep, self._checkpointer.latest() if self._checkpointer is not None else None, seq)

    def snapshots(self, version: int) -> tuple[int, tuple] | None:
        """(version, snapshots) when newer than `version` (another replica's Class page reads them)."""
        job = self.job(self.JOB)
        if job is None:
            return None
        current = job.version
        return (current, job.snapshots()) if current != version else None

    def command(self, name: str, *args: Any) -> None:
        self.perform(self.JOB, (name, *args))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the job and free its runners (the actor is killed right after)."""
        super().close(timeout)
