"""Reference case `toy`: a ring of 8 Gaussians in 2-D, G and D MLPs with two hidden layers of 128 ReLU units.

G: z (2) -> 128 -> 128 -> 2 (a point);  D: 2 -> 128 -> 128 -> 1 -> sigmoid (the probability "real").
Adam lr 1e-3. Each batch is drawn fresh on the CPU and moved to the device, as a tutorial's sampler does.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

NAME = "toy"
Z_DIM = 2
LR = 1e-3
MODES, RADIUS, STD = 8, 2.0, 0.02


def networks() -> tuple[nn.Module, nn.Module]:
    G = nn.Sequential(
        nn.Linear(Z_DIM, 128), nn.ReLU(),
        nn.Linear(128, 128), nn.ReLU(),
        nn.Linear(128, 2),
    )
    D = nn.Sequential(
        nn.Linear(2, 128), nn.ReLU(),
        nn.Linear(128, 128), nn.ReLU(),
        nn.Linear(128, 1), nn.Sigmoid(),
    )
    return G, D


def sample_ring(n: int) -> torch.Tensor:
    """(n, 2): a mode k uniform in 0..7 at angle 2 pi k / 8 on the circle of radius 2, plus N(0, 0.02^2) noise."""
    mode = torch.randint(0, MODES, (n,))
    theta = mode * (2 * math.pi / MODES)
    centre = RADIUS * torch.stack([theta.cos(), theta.sin()], dim=1)
    return centre + STD * torch.randn(n, 2)


def real_batches(batch: int, device: torch.device) -> Iterator[torch.Tensor]:
    while True:
        yield sample_ring(batch).to(device)
