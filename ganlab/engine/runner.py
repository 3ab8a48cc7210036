"""TrainerRunner: a Trainer as a job-manager runner (ganlab.jobs.runner.Runner), with its per-run views.

The Trainer steps past its budget if asked (tests and benchmarks do); the runner is what a job drives, so it
logs the partial interval when the budget is reached. Its snapshots reuse one `RunViews` (the toy view box,
the real-image grid and the sample-grid timeline, each computed once per run).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ganlab import checkpoint as ckpt
from ganlab.config import TrainConfig
from ganlab.engine.factory import make_trainer
from ganlab.engine.trainer import Trainer
from ganlab.engine.weights import RunWeights, weights_of
from ganlab.snapshot import RunViews, Snapshot, take


def _trainer_attr(name: str, doc: str) -> property:
    return property(lambda self: getattr(self.trainer, name), doc=doc)


class TrainerRunner:
    config = _trainer_attr("config", "The run's TrainConfig (changes with live settings).")
    status = _trainer_attr("status", "'ready' | 'diverged' (RunStatus).")
    step_count = _trainer_attr("step_count", "G updates made so far.")
    budget = _trainer_attr("budget", "config.steps: the G updates the job runs to.")
    log_every = _trainer_attr("log_every", "G updates per logging interval.")

    def __init__(self, config: TrainConfig, points: np.ndarray | None = None, data_dir: str | None = None,
                 trainer: Trainer | None = None):
        self.trainer = trainer or make_trainer(config, points=points, data_dir=data_dir)
        self.views = RunViews()
        self._parked = False
        self._weights: RunWeights | None = None  # the last copy weights() made

    def step(self, n: int) -> dict[str, float]:
        out = self.trainer.step(n)
        if self.trainer.step_count >= self.budget:
            out = self.trainer.flush()
        return out

    def snapshot(self) -> Snapshot:
        return take(self.trainer, self.views)

    def apply(self, **changes: Any) -> None:
        self.trainer.apply(**changes)

    def park(self) -> None:
        self.trainer.park()
        self._parked = True

    def holds_networks(self) -> bool:
        return self.trainer is not None and self.trainer.G is not None

    def weights(self) -> RunWeights | None:
        """Copies while the run may still train (the same ones again while its step and settings stay); a
        parked run's own (CPU, eval mode) modules."""
        if self._parked:
            return weights_of(self.trainer, copy_modules=False)
        held, t = self._weights, self.trainer
        if held is None or held.step != t.step_count or held.config is not t.config:
            self._weights = held = weights_of(t, copy_modules=True)
        return held

    def checkpoint(self, optimizers: bool = True) -> bytes | None:
        t = self.trainer
        if t.G is None:
            return None
        return ckpt.to_bytes(t, optimizers=optimizers and t.opt_g is not None)

    def release(self) -> None:
        self.trainer.release()
