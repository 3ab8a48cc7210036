"""Reference case `dcgan`: the PyTorch DCGAN tutorial's networks, sized for 28x28 single-channel images.

G (z = 100 numbers, seen as a 100x1x1 image):
    ConvT 100->256, k7          -> 256x7x7,   BatchNorm, ReLU
    ConvT 256->128, k4 s2 p1    -> 128x14x14, BatchNorm, ReLU
    ConvT 128->1,   k4 s2 p1    -> 1x28x28,   tanh
D:
    Conv 1->64,   k4 s2 p1      -> 64x14x14,  LeakyReLU(0.2)
    Conv 64->128, k4 s2 p1      -> 128x7x7,   BatchNorm, LeakyReLU(0.2)
    Linear 128*7*7 -> 1, sigmoid
Convolutions carry no bias (BatchNorm's shift replaces it), as in the tutorial. Adam lr 2e-4; batch 64 in the bench.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from benchmarks.reference.images import random_batches

NAME = "dcgan"
Z_DIM = 100
LR = 2e-4


class Generator(nn.Module):
    def __init__(self, nz: int = Z_DIM):
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, 256, kernel_size=7, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(256, 128, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(128, 1, kernel_size=4, stride=2, padding=1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (N, nz) -> (N, 1, 28, 28)
        return self.main(z.view(-1, self.nz, 1, 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=4, stride=2, padding=1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.classify = nn.Sequential(nn.Linear(128 * 7 * 7, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, 28, 28) -> (N, 1) probabilities
        return self.classify(self.features(x).flatten(1))


def networks() -> tuple[nn.Module, nn.Module]:
    return Generator(), Discriminator()


def real_batches(batch: int, device: torch.device) -> Iterator[torch.Tensor]:
    return random_batches((1, 28, 28), batch, device)
