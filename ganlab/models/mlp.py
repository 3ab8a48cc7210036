"""Fully connected generator and discriminator (toy data, and the tutorials' MLP GAN on MNIST).

Shapes: G: z (B, z_dim) [+ labels (B,)] -> x (B, *sample_shape); D: x (B, *sample_shape) [+ labels] -> s (B/pack, 1).
A conditional model concatenates a learned label embedding (n_classes wide) to G's z and to D's flattened x.
Hidden layers are `width` repeated `depth` times, or one width per layer (`widths`, e.g. the Keras tutorial's
G 128-256-512-1024 and D 1024-512-256). Each hidden layer is Linear -> activation [-> BatchNorm (G) | Dropout (D)],
the Keras tutorial's order.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def activation(name: str, slope: float) -> nn.Module:
    return {"relu": nn.ReLU, "tanh": nn.Tanh}.get(name, lambda: nn.LeakyReLU(slope))()


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, sample_shape: tuple[int, ...], width: int, depth: int, act: str = "relu",
                 slope: float = 0.2, batchnorm: bool = False, n_classes: int = 0, tanh_out: bool = False,
                 widths: Sequence[int] | None = None):
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        layers: list[nn.Module] = []
        d_in = z_dim + n_classes
        for width in widths or (width,) * depth:
            layers += [nn.Linear(d_in, width), activation(act, slope)]
            if batchnorm:
                # Keras BatchNormalization(momentum=0.8): running = 0.8 running + 0.2 batch, i.e. torch's
                # momentum 0.2 (torch weights the new batch by `momentum`); Keras's epsilon is 1e-3.
                layers.append(nn.BatchNorm1d(width, eps=1e-3, momentum=0.2))
            d_in = width
        layers.append(nn.Linear(d_in, math.prod(self.sample_shape)))
        if tanh_out:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], 1)
        return self.net(z).view(z.shape[0], *self.sample_shape)


class MLPDiscriminator(nn.Module):
    """Outputs a raw score; sigmoid(score) is D's probability for the probabilistic losses.

    pack > 1 (PacGAN, Lin et al. 2018): D sees `pack` samples concatenated, (B, d) -> (B / pack, pack * d),
    so a batch that lacks diversity is easy to spot.
    """

    def __init__(self, sample_shape: tuple[int, ...], width: int, depth: int, act: str = "relu", slope: float = 0.2,
                 dropout: float = 0.0, sn: bool = False, n_classes: int = 0, pack: int = 1,
                 widths: Sequence[int] | None = None):
        super().__init__()
        self.pack = pack
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        wrap = spectral_norm if sn else (lambda m: m)
        layers: list[nn.Module] = []
        d_in = (math.prod(sample_shape) + n_classes) * pack
        for width in widths or (width,) * depth:
            layers += [wrap(nn.Linear(d_in, width)), activation(act, slope)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            d_in = width
        layers.append(wrap(nn.Linear(d_in, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = x.flatten(1)
        if self.embed is not None:
            h = torch.cat([h, self.embed(labels)], 1)
        if self.pack > 1:
            h = h.reshape(h.shape[0] // self.pack, -1)
        return self.net(h)
