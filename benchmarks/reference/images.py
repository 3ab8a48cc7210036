"""The image cases' real data: 5,000 random 28x28 "images" in [-1, 1] held on the CPU, a random batch per step.

A tutorial's DataLoader hands out CPU batches that the loop moves to the device; speed does not depend on the
pixels, so random values of the right shape stand in for MNIST.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

N_IMAGES = 5000


def random_batches(shape: tuple[int, ...], batch: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Batches of `batch` rows of a (5000, *shape) uniform [-1, 1] set, drawn with replacement."""
    images = torch.rand(N_IMAGES, *shape) * 2 - 1
    while True:
        pick = torch.randint(0, N_IMAGES, (batch,))
        yield images[pick].to(device)
