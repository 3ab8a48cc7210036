"""A job's checkpoints into the run store (ganlab/store/): about every CHECKPOINT_S seconds of training and at
its end, on every backend that trains in this process (the server's worker threads, the training process).

The saving itself is the Ray backend's (ganlab/jobs/checkpoints.py): a Checkpointer for a job of
Trainers (the lab's A and B, saved together at a logging step they share), MemberCheckpoints for a class-engine
member. `JobSaves` is called by the job in its worker between slices (Job._turn: never inside a step, no host
sync added to the step), takes the bytes there (a toy run: ~0.1 MB, about a millisecond) and hands them to the
store's writer thread, which does the disk work off the worker. The job's status is the manager's to write
(JobManager.submit, _on_finished): the training process only writes checkpoints and steps.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ganlab.jobs.checkpoints import Checkpointer, MemberCheckpoints, member_of
from ganlab.store import paths

NUMBER_COLUMNS = ("d_loss", "g_loss", "modes_captured", "high_quality_frac", "reverse_kl", "fid")


def numbers(runner: Any) -> dict[str, float]:
    """The lesson's numbers of a runner's newest logged interval (and the data's mode count), plain floats."""
    trainer = getattr(runner, "trainer", None)
    history = getattr(runner, "history", None) or getattr(trainer, "history", None)
    out: dict[str, float] = {}
    if history is not None and len(history):
        last = history.last()  # one row; a column logged less often (FID) is looked up further back
        arrays = None
        for col in NUMBER_COLUMNS:
            value = last.get(col)
            if value is not None and not math.isfinite(value):
                arrays = arrays if arrays is not None else history.arrays()  # one copy, whatever column needs it
                finite = arrays[col][np.isfinite(arrays[col])]
                value = float(finite[-1]) if len(finite) else None
            if value is not None:
                out[col] = value
    config = getattr(runner, "config", None)
    if config is not None and getattr(config, "is_toy", False):
        data = getattr(trainer, "data", None) or getattr(getattr(runner, "_member", None), "data", None)
        centers = getattr(data, "centers", None)
        if centers is not None:
            out["n_modes"] = float(len(centers))
    return out


class JobSaves:
    """The run store's side of one job: `due`/`save` between slices, `finish` once it is over."""

    def __init__(self, store, key: str, job: Any, every_s: float | None = None):
        self.store, self.key, self.job = store, key, job
        self.every_s = paths.every_s() if every_s is None else every_s
        self._last = time.monotonic()
        self._plain: Checkpointer | None = None
        self._member: MemberCheckpoints | None = None
        self._final = False

    def _savers(self) -> tuple[Checkpointer | None, MemberCheckpoints | None]:
        if self._plain is None and self._member is None and self.job.runners:
            if member_of(self.job) is not None:
                self._member = MemberCheckpoints(self.job, self.every_s)
            else:
                self._plain = Checkpointer(self.every_s)
                self._plain._runners = list(self.job.runners)
        return self._plain, self._member

    def due(self) -> bool:
        return not self._final and time.monotonic() - self._last >= self.every_s

    def save(self) -> bool:
        """A periodic save, in the job's worker between slices; False when the runs are not at a step that can
        be saved (mid-interval, nothing new): the next slice tries again."""
        plain, member = self._savers()
        ck = None
        if member is not None:
            ck = member.save(complete=False)  # where it stands: no steps of its own in the group's time
        elif plain is not None and any(getattr(r, "trainer", None) is not None for r in plain._runners):
            if plain._in_step() and plain._moved():
                ck = plain.take()
        if ck is None:
            return False
        self._last = time.monotonic()
        self.store.put(self.key, ck.data, ck.step, [numbers(r) for r in self.job.runners], str(self.job.status))
        return True

    def before_park(self) -> None:
        """The job is over, its runners not parked yet: Trainers are saved now, with their optimiser states."""
        plain, _member = self._savers()
        if plain is not None and not self._final:
            self._final = True
            self._put(plain.take())

    def after_park(self) -> None:
        """Its runners parked: a class-engine member is saved now (weights, history, step; parked_state)."""
        _plain, member = self._savers()
        if member is not None and not self._final:
            self._final = True
            member.finish()
            self._put(member.latest())

    def _put(self, ck) -> None:
        if ck is not None:
            self.store.put(self.key, ck.data, ck.step, [numbers(r) for r in self.job.runners])

