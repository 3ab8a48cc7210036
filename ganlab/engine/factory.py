"""`make_trainer(config)`: the trainer a config's model needs (the GAN Trainer, or the VAETrainer for 'vae').

Everything that builds a trainer from a config (the job runner, the CLI, checkpoints, scripts) goes through here,
so a new kind of model is one entry in TRAINERS.
"""
from __future__ import annotations

from ganlab.config import TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.engine.vae import VAETrainer

TRAINERS: dict[str, type[Trainer]] = {"vae": VAETrainer}  # model -> trainer; any other model: Trainer


def trainer_class(config: TrainConfig) -> type[Trainer]:
    return TRAINERS.get(config.model, Trainer)


def make_trainer(config: TrainConfig, **kw) -> Trainer:
    """trainer_class(config)(config, **kw): dataset, points, data_dir as Trainer takes them."""
    return trainer_class(config)(config, **kw)
