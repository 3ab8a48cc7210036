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


def test_every_twin_is_an_image_preset_and_the_vae_decoder_is_the_dcgans_g():
    for p in PRESETS.values():
        if p.twin:
            assert p.twin in PRESETS and not PRESETS[p.twin].config.is_toy and p.twin != p.name, p.name
    assert PRESETS["mnist-wgan"].twin == "mnist-wgan-gp" and PRESETS["mnist-dcgan"].twin == "mnist-vae"
    vae, dcgan = PRESETS["mnist-vae"].config, PRESETS["mnist-dcgan"].config
    assert vae.is_vae and vae.dcgan_width == dcgan.dcgan_width  # the same G network, fed an 8-number code
    assert vae.z_dim == 8 < dcgan.z_dim


def test_presets_markdown_names_the_vaes_objective(capsys):
    from ganlab.cli.main import main

    assert main(["presets", "--markdown"]) == 0
    rows = {line.split("|")[1].strip(" `"): line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "| ELBO |" in rows["mnist-vae"] and "| hinge + pack 4 |" in rows["mnist-dcgan"]
    assert "| wgan |" in rows["mnist-wgan"] and set(rows) == set(PRESETS)
