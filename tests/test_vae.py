"""The VAE: its networks (decoder = the DCGAN's G, encoder = D's mirror), its trainer on the common loop (ELBO
columns, quality columns, divergence), checkpoints, and the CLI's JSON for a VAE."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from ganlab import checkpoint
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import Dataset
from ganlab.engine.factory import make_trainer
from ganlab.engine.runner import TrainerRunner
from ganlab.engine.vae import VAETrainer
from ganlab.models import build
from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator

VAE = dict(data="mnist", model="vae", z_dim=8, dcgan_width=8, batch_size=16, log_every=4, g_lr=1e-3, d_lr=1e-3,
           beta1=0.9, device="cpu", seed=0)


def digits(n: int = 128) -> Dataset:
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 10, n_classes=10)


def test_decoder_is_the_dcgan_generator_and_encoder_mirrors_d():
    c = TrainConfig(**VAE)
    dec, enc = build(c, (1, 28, 28))
    gan_g, gan_d = build(c.replace(model="dcgan"), (1, 28, 28))
    assert type(dec) is DCGANGenerator and type(enc) is DCGANDiscriminator
    assert [tuple(p.shape) for p in dec.parameters()] == [tuple(p.shape) for p in gan_g.parameters()]
    convs = [tuple(p.shape) for m in enc.modules() if isinstance(m, nn.Conv2d) for p in m.parameters()]
    assert convs == [tuple(p.shape) for m in gan_d.modules() if isinstance(m, nn.Conv2d) for p in m.parameters()]
    assert enc(torch.zeros(3, 1, 28, 28)).shape == (3, 2 * c.z_dim)  # (mu, log sigma^2)
    z = torch.randn(2, c.z_dim)
    dec.eval()
    torch.testing.assert_close(torch.tanh(dec.pre_tanh(z)), dec(z))


@pytest.mark.parametrize("bad", [dict(conditional=True), dict(pack=2), dict(d_steps=2), dict(data="digits"),
                                 dict(data="ring")])
def test_vae_config_refuses_gan_only_settings(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**{**VAE, **bad})


def test_trainer_logs_the_elbo_terms_and_learns():
    t = make_trainer(TrainConfig(**VAE), dataset=digits())
    assert isinstance(t, VAETrainer)
    t.step(40)
    h = t.history.arrays()
    assert set(h) >= {"step", "recon", "kl", "elbo"} and "d_loss" not in h
    np.testing.assert_allclose(h["elbo"], -(h["recon"] + h["kl"]), rtol=1e-6)
    assert h["recon"][-1] < h["recon"][0]  # it learns to reconstruct
    assert (h["kl"] >= 0).all()
    x, _ = t.sample(5)
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert t.reconstruct(t.data.x[:3]).shape == (3, 1, 28, 28)


def test_a_vae_runner_snapshot_has_the_grid():
    r = TrainerRunner(TrainConfig(**{**VAE, "steps": 8}), trainer=make_trainer(TrainConfig(**{**VAE, "steps": 8}),
                                                                                 dataset=digits()))
    r.step(8)
    s = r.snapshot()
    assert s.grid_jpeg[:2] == b"\xff\xd8" and s.step == 8 and "recon" in s.history


def test_vae_only_takes_its_live_settings():
    t = make_trainer(TrainConfig(**VAE), dataset=digits())
    t.apply(g_lr=5e-4, steps=99)
    assert t.config.g_lr == 5e-4 and t.opt_g.param_groups[0]["lr"] == 5e-4
    with pytest.raises(ConfigError, match="VAE"):
        t.apply(loss="wgan_gp")


def test_a_nan_makes_the_vae_diverge():
    t = make_trainer(TrainConfig(**VAE), dataset=digits())
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    t.step(8)
    assert t.status == "diverged" and t.diverged_at == 1


def test_checkpoint_round_trip_and_resume(tmp_path):
    t = make_trainer(TrainConfig(**VAE), dataset=digits())
    t.step(8)
    checkpoint.save(t, tmp_path / "vae.pt")
    run = checkpoint.load(tmp_path / "vae.pt")
    assert run.config.model == "vae"
    z = torch.randn(3, 8)
    t.G.eval()
    with torch.no_grad():
        torch.testing.assert_close(run.make_generator()(z), t.G(z))
    assert "vae on mnist, trained on the ELBO, 8 steps" in checkpoint.describe(run)
    from ganlab.ui.image_gan.checkpoint import file_name

    assert file_name(t.config, t.step_count) == "ganlab-mnist-vae-elbo-step8.pt"
    enc = run.make_encoder()
    assert enc(torch.zeros(2, 1, 28, 28)).shape == (2, 16) and not enc.training
    t2 = run.make_trainer(device="cpu", dataset=digits())
    assert isinstance(t2, VAETrainer) and t2.step_count == 8
    t2.step(4)
    assert t2.history.last()["step"] == 12
    # a GAN checkpoint has no encoder
    gan = make_trainer(TrainConfig(**{**VAE, "model": "dcgan"}), dataset=digits())
    checkpoint.save(gan, tmp_path / "gan.pt")
    with pytest.raises(ValueError, match="encoder"):
        checkpoint.load(tmp_path / "gan.pt").make_encoder()


def test_cli_json_for_a_vae(tmp_path, capsys):
    from ganlab.cli.main import main

    code = main(["train", "--preset", "mnist-vae", "--steps", "6", "--set", "dcgan_width=8", "log_every=3",
                 "--json", "--quiet", "--n-samples", "20", "--out", str(tmp_path)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    final = out["final"]
    assert final["d_loss"] is None and final["g_loss"] is None and final["d_real"] is None
    assert final["recon"] > 0 and final["kl"] >= 0
    assert out["status"] == "done" and "fid" in out["metrics"]
    assert checkpoint.load(tmp_path / "checkpoint.pt").config.model == "vae"
