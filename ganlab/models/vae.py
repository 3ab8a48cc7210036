"""VAE (Kingma & Welling 2014) networks for 28x28 and 32x32 images, made of the DCGAN's (ganlab/models/dcgan.py).

decoder p(x | z): the DCGAN generator itself (same class, layers and init), z (B, z_dim) -> tanh(a) (B, C, H, W).
    Read as Bernoulli pixels: the mean of pixel x in [0, 1] is (tanh(a) + 1) / 2 = sigmoid(2a), so its logit
    is 2a (`DCGANGenerator.pre_tanh`). Sampling is G's: z ~ N(0, I) -> decoder(z).
encoder q(z | x): D's mirror, the DCGAN discriminator with a head of 2 * z_dim numbers instead of one score,
    x (B, C, H, W) -> features (B, F) -> (mu, log sigma^2), each (B, z_dim); q(z | x) = N(mu, diag(sigma^2)).
The registry hands them out as (G, D) = (decoder, encoder), so checkpoints, grids and the latent page treat
the decoder as the generator.
"""
from __future__ import annotations

import torch
from torch import nn

from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator


def build_vae(config, shape: tuple[int, ...], n_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """(decoder, encoder) of width config.dcgan_width; unconditional (config validation refuses conditional)."""
    w = config.dcgan_width
    decoder = DCGANGenerator(config.z_dim, shape, w)
    encoder = DCGANDiscriminator(shape, w, batchnorm=True, sn=config.spectral_norm, slope=0.2,
                                 out=2 * config.z_dim)
    return decoder, encoder


def encode(encoder: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """q(z | x): x (B, C, H, W) -> (mu, log sigma^2), each (B, z_dim)."""
    mu, logvar = encoder(x).chunk(2, dim=1)
    return mu, logvar
