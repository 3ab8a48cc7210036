"""RunWeights: a run's networks as a page reads them (the Latent space page's "your run"), whatever trains it.

Every runner (ganlab.jobs.runner.Runner) answers `weights()` with one of these, or None when it holds no networks
(released, a run that failed before it had them, the 1-D theory game): the in-process TrainerRunner and a class
engine's member from their own modules, the runners of a run that trains elsewhere (the training process, a Ray
actor) from the CPU Trainer they rebuild from its checkpoint. Pages never reach into a Trainer.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from ganlab.config import TrainConfig

REAL_POINTS = 1000  # of a 2-D toy run's data, drawn under its generator's samples


@dataclass(frozen=True)
class RunWeights:
    config: TrainConfig
    step: int  # G updates made when the weights were read
    G: nn.Module  # the generator samples come from: G's weight average when config.g_ema > 0, else G
    encoder: nn.Module | None  # a VAE's encoder (it sits in D's place); None for a GAN
    real: np.ndarray | None  # (<= REAL_POINTS, 2) real points of a 2-D toy run; None for images


def weights_of(trainer: Any, copy_modules: bool) -> RunWeights | None:
    """RunWeights of a Trainer (or what reads like one: a class-engine member's view), None once it is released.

    copy_modules: private CPU copies in eval mode (a run that still trains: its worker keeps changing the
    originals); else the trainer's own modules (a parked run: CPU, eval mode, never stepped again)."""
    if trainer is None or getattr(trainer, "G", None) is None:
        return None
    G, E = trainer.sampler, trainer.D if trainer.config.is_vae else None
    if copy_modules:
        G = copy.deepcopy(G).cpu().eval()
        E = copy.deepcopy(E).cpu().eval() if E is not None else None
    data = trainer.data
    real = data.x[:REAL_POINTS].detach().cpu().numpy() if data is not None and data.is_toy else None
    return RunWeights(trainer.config, int(trainer.step_count), G, E, real)
