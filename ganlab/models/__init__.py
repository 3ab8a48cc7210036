"""Model registry: `build(config, sample_shape, n_classes)` -> (G, D), one entry per architecture (mlp, dcgan,
vae); `summary` lists a network's layers and weight counts."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ganlab.config import TrainConfig
from ganlab.models.mlp import MLPDiscriminator, MLPGenerator


def _mlp(c: TrainConfig, shape: tuple[int, ...], n_classes: int) -> tuple[nn.Module, nn.Module]:
    images = len(shape) == 3
    G = MLPGenerator(c.z_dim, shape, c.g_width, c.g_depth, c.activation, c.leaky_slope, c.g_batchnorm,
                     n_classes, tanh_out=images, widths=c.hidden_widths("g"))
    D = MLPDiscriminator(shape, c.d_width, c.d_depth, c.activation, c.leaky_slope, c.d_dropout, c.spectral_norm,
                         n_classes, c.pack, widths=c.hidden_widths("d"))
    return G, D


def _dcgan(c: TrainConfig, shape: tuple[int, ...], n_classes: int) -> tuple[nn.Module, nn.Module]:
    from ganlab.models.dcgan import build_dcgan

    return build_dcgan(c, shape, n_classes)


def _vae(c: TrainConfig, shape: tuple[int, ...], n_classes: int) -> tuple[nn.Module, nn.Module]:
    from ganlab.models.vae import build_vae

    return build_vae(c, shape, n_classes)  # (decoder, encoder) in G's and D's places


BUILDERS: dict[str, Callable[[TrainConfig, tuple[int, ...], int], tuple[nn.Module, nn.Module]]] = {
    "mlp": _mlp,
    "dcgan": _dcgan,
    "vae": _vae,
}


def build(config: TrainConfig, sample_shape: tuple[int, ...], n_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """G(z[, labels]) -> (B, *sample_shape); D(x[, labels]) -> (B / pack, 1) raw scores.
    For model 'vae', G is the decoder and D the encoder, x -> (B, 2 * z_dim) = (mu, log sigma^2)."""
    return BUILDERS[config.model](config, tuple(sample_shape), n_classes if config.conditional else 0)
