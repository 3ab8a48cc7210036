"""Reference case `mnist-mlp`: the tutorials' first image GAN, MLPs on flattened 28x28 digits.

G: z (100) -> 128 -> 128 -> 784 -> tanh;  D: 784 -> 128 -> 128 -> 1 -> sigmoid; LeakyReLU(0.01) between layers.
Adam lr 1e-3; batch 100 in the bench.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from benchmarks.reference.images import random_batches

NAME = "mnist-mlp"
Z_DIM = 100
LR = 1e-3
PIXELS = 28 * 28
HIDDEN = 128


def networks() -> tuple[nn.Module, nn.Module]:
    G = nn.Sequential(
        nn.Linear(Z_DIM, HIDDEN), nn.LeakyReLU(0.01),
        nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.01),
        nn.Linear(HIDDEN, PIXELS), nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Linear(PIXELS, HIDDEN), nn.LeakyReLU(0.01),
        nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.01),
        nn.Linear(HIDDEN, 1), nn.Sigmoid(),
    )
    return G, D


def real_batches(batch: int, device: torch.device) -> Iterator[torch.Tensor]:
    return random_batches((PIXELS,), batch, device)
