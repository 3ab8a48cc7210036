"""TrainerRunner: a Trainer as a job-manager runner (ganlab.jobs.runner.Runner), with its per-run views.

The Trainer steps past its budget if asked (tests and benchmarks do); the runner is what a job drives, so it
logs the partial interval when the budget is reached. Its snapshots reuse one `RunViews` (the toy view box,
the real-image grid and the sample-grid timeline, each computed once per run).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.config import TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.snapshot import RunViews, Snapshot, take


class TrainerRunner:
    def __init__(self, config: TrainConfig, points: np.ndarray | None = None, data_dir: str | None = None,
                 trainer: Trainer | None = None):
        self.trainer = trainer or Trainer(config, points=points, data_dir=data_dir)
        self.views = RunViews()

    @property
    def config(self) -> TrainConfig:
        return self.trainer.config

    @property
    def status(self) -> str:
        return self.trainer.status

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    @property
    def budget(self) -> int:
        return self.trainer.budget

    @property
    def log_every(self) -> int:
        return self.trainer.log_every

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

    def release(self) -> None:
        self.trainer.release()
