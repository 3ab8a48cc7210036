"""The image presets say what their lessons claim: the WGAN clips its critic, the VAE is a VAE, twins exist."""
from __future__ import annotations

import torch

from ganlab.data import Dataset
from ganlab.engine.factory import make_trainer
from ganlab.presets import PRESETS


def digits(n: int = 128) -> Dataset:
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 10, n_classes=10)


def test_mnist_wgan_is_the_papers_weight_clipping():
    c = PRESETS["mnist-wgan"].config
    assert (c.loss, c.clip_value, c.optimizer, c.d_lr, c.g_lr, c.d_steps) == ("wgan", 0.01, "rmsprop", 5e-5, 5e-5, 5)
    t = make_trainer(c.replace(dcgan_width=8, batch_size=16, device="cpu"), dataset=digits())
    t.step(2)
    assert all(p.abs().max() <= 0.01 for p in t.D.parameters())  # every critic weight in [-c, c]
