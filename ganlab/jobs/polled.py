"""PolledRunner: one runner of a job that trains in another process, as a page reads it.

The job (a RayJob, or a ProcJob of the training process) keeps what its poller last received: each runner's
(step, status) in `job.progress()` and its snapshot in `job.snapshots()`. A PolledRunner reads its row of those
and sends commands through the job; it never steps. Subclasses say where the run trains (`WHERE`), where its
budget and logging interval come from, and how a local copy of its Trainer is made.
"""
from __future__ import annotations

from typing import Any


class PolledRunner:
    WHERE = "another process"

    def __init__(self, job, index: int):
        self._job, self.index = job, index
        self._copy: Any = None  # a subclass's local copy of the run's Trainer, and what it was made from

    def _progress(self) -> tuple:
        p = self._job.progress()
        return p[self.index] if self.index < len(p) else (0, "ready")

    @property
    def status(self) -> str:
        return self._progress()[1]

    @property
    def step_count(self) -> int:
        return self._progress()[0]

    def snapshot(self) -> Any:
        snaps = self._job.snapshots()
        return snaps[self.index] if self.index < len(snaps) else None

    def step(self, n: int) -> dict[str, float]:
        raise RuntimeError(f"this run trains in {self.WHERE}: send its job a command instead")

    def apply(self, **changes: Any) -> None:
        self._job.apply(self.index, **changes)

    def park(self) -> None:
        pass

    def release(self) -> None:
        self._copy = None
