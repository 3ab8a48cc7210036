"""RunSpec: what a job's runners are, as plain data -- the factory pages hand to the job manager.

A job's factory is any zero-argument callable that returns its runners. A closure works for the local backend
(worker threads in this process), but the Ray backend builds the runners in another process, after a failure
even on another machine: there the factory has to be picklable, and it must not drag `ganlab.ui` (and
Streamlit) into the worker. A RunSpec is both: frozen data (configs, uploaded points, a data folder, a
checkpoint to continue) whose call builds the runners.

    manager.submit(owner, RunSpec((config_a, config_b), points=uploaded), label="A vs B")
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class RunSpec:
    """configs: one TrainConfig per runner (2-D toy or image runs; the Mode collapse lab's A and B advance
    together), or one TheoryConfig (the 1-D game). points: uploaded 2-D points (toy `csv` data). data_dir:
    where torchvision datasets live (None: the server's GANLAB_DATA; pages never name one). score: image runs
    log the quality columns (FID, classes present). resume: a checked ganlab.checkpoint.Run to continue, up to
    configs[0].steps G steps in all, or a tuple of them, one per config (a stored A/B job: ganlab/store/)."""

    configs: tuple
    points: np.ndarray | None = None
    data_dir: str | None = None
    score: bool = True
    resume: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "configs", tuple(self.configs))
        if not self.configs:
            raise ValueError("a RunSpec needs at least one config")

    def __call__(self) -> list:
        """Build the runners (in the worker that will step them)."""
        from ganlab.theory.config import TheoryConfig

        if isinstance(self.configs[0], TheoryConfig):
            from ganlab.theory.trainer import Theory1D

            return [Theory1D(c) for c in self.configs]
        if isinstance(self.resume, tuple):
            return [self._resumed(run, c) for run, c in zip(self.resume, self.configs, strict=True)]
        if self.resume is not None:
            return [self._resumed(self.resume, self.configs[0])]
        return [self._fresh(c) for c in self.configs]

    def _fresh(self, config):
        from ganlab.engine.runner import TrainerRunner

        if config.is_toy:
            return TrainerRunner(config, points=self.points)
        from ganlab.data import notes
        from ganlab.data.images import DataUnavailable

        try:  # a torchvision dataset whose files are missing falls back to the embedded MNIST (the note says so)
            runner = TrainerRunner(config, data_dir=self.data_dir)
        except DataUnavailable as e:
            runner = TrainerRunner(config.replace(data="mnist"))
            why = e.public if self.data_dir is None else e  # the server's folder: no path on a student's page
            runner.trainer.data.note = notes.FALLBACK.format(why=why)
        if self.score:
            from ganlab import quality

            quality.attach(runner.trainer)
        return runner

    def _resumed(self, resume, config):
        from ganlab import quality
        from ganlab.data.images import DataUnavailable
        from ganlab.engine.runner import TrainerRunner

        try:
            if config.is_toy:  # uploaded points (csv data) come back with the spec
                trainer = resume.make_trainer(points=self.points)
            else:
                trainer = resume.make_trainer(data_dir=self.data_dir)
        except DataUnavailable as e:  # the job's error reaches the student's page: no server path in it
            if self.data_dir is not None:
                raise
            raise DataUnavailable(e.public, e.public) from None
        if not config.is_toy:
            quality.attach(trainer)
        steps = config.steps
        if steps != trainer.config.steps:
            trainer.apply(steps=steps)
        return TrainerRunner(trainer.config, trainer=trainer)
