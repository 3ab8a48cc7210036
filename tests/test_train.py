"""Trainer: short fixed-seed runs with real assertions."""
import numpy as np
import pytest
import torch

from ganlab.config import ConfigError, TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.losses import LOSSES
from ganlab.metrics import mode_stats

SMALL = dict(data="ring", z_dim=2, g_width=64, d_width=64, batch_size=128, log_every=25, steps=100)


def test_coverage_improves_on_ring():
    t = Trainer(TrainConfig(**{**SMALL, "seed": 1}))
    t.step(50)
    early = t.history.last()
    t.step(450)
    late = t.history.last()
    # measured (seed 1): 1 mode, KL 2.08 at step 50 -> 7 modes, KL 0.37 at step 500
    assert early["modes_captured"] <= 3 and late["modes_captured"] >= 6
    assert late["reverse_kl"] < early["reverse_kl"] - 1.0
    assert late["high_quality_frac"] > early["high_quality_frac"]


def test_same_seed_same_numbers():
    a, b = Trainer(TrainConfig(**SMALL)), Trainer(TrainConfig(**SMALL))
    a.step(50), b.step(50)
    assert a.history.last()["d_loss"] == b.history.last()["d_loss"]
    np.testing.assert_array_equal(a.sample(10, seed=3)[0].numpy(), b.sample(10, seed=3)[0].numpy())


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains_finite(loss):
    t = Trainer(TrainConfig(**{**SMALL, "loss": loss}))
    row = t.step(50)
    assert t.status == "ready" and t.step_count == 50
    assert all(np.isfinite(row[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake", "g_grad"))


def test_wgan_clips_weights():
    t = Trainer(TrainConfig(**{**SMALL, "loss": "wgan", "clip_value": 0.01}))
    t.step(5)
    assert max(float(p.detach().abs().max()) for p in t.D.parameters()) <= 0.01 + 1e-7


@pytest.mark.parametrize("extra", [{"unrolled_steps": 3}, {"pack": 4}, {"d_steps": 3}, {"r1_gamma": 1.0},
                                   {"spectral_norm": True}, {"g_batchnorm": True, "d_dropout": 0.2}])
def test_remedies_run(extra):
    t = Trainer(TrainConfig(**{**SMALL, **extra}))
    t.step(25)
    assert t.status == "ready" and len(t.history) == 1


def test_nan_stops_with_the_step():
    t = Trainer(TrainConfig(**SMALL))
    t.step(30)
    t.data.x[:] = float("nan")  # the data goes bad from step 31 on
    t.step(40)
    assert t.status == "diverged"
    assert t.diverged_at == 31
    assert t.step_count == 50  # stopped at the end of the logging interval that saw it
    before = t.step_count
    t.step(10)  # a diverged run does not move
    assert t.step_count == before


def test_no_host_sync_between_logging_intervals(monkeypatch):
    t = Trainer(TrainConfig(**SMALL))
    t.step(1)

    def boom(*a, **k):
        raise AssertionError("host sync inside the training step")

    for name in ("item", "cpu", "tolist", "numpy", "__bool__", "__float__"):
        monkeypatch.setattr(torch.Tensor, name, boom)
    t.step(20)  # steps 2..21: no logging boundary (log_every 25)
    monkeypatch.undo()
    t.step(4)
    assert len(t.history) == 1


def test_live_changes_keep_weights_and_refuse_architecture():
    t = Trainer(TrainConfig(**SMALL))
    t.step(25)
    w = t.G.net[0].weight.detach().clone()
    t.apply(loss="hinge", g_lr=5e-4)
    assert t.config.loss == "hinge" and t.opt_g.param_groups[0]["lr"] == 5e-4
    assert torch.equal(w, t.G.net[0].weight)
    with pytest.raises(ConfigError, match="cannot change during a run"):
        t.apply(z_dim=8)
    with pytest.raises(ConfigError, match="g_lr"):
        t.apply(g_lr=-1)
    t.step(25)
    assert t.status == "ready"


def test_sample_and_toy_metric_shapes():
    t = Trainer(TrainConfig(**SMALL))
    x, y = t.sample(2500)
    assert x.shape == (2500, 2) and y is None
    s = mode_stats(x.numpy(), t.data.centers, t.data.std)
    assert s["n_modes"] == 8


def test_conditional_mlp_on_digits():
    t = Trainer(TrainConfig(data="digits", conditional=True, z_dim=16, batch_size=64, log_every=10, steps=10,
                            activation="leaky_relu"))
    t.step(10)
    x, y = t.sample(20)
    assert x.shape == (20, 1, 8, 8) and y.tolist() == [i % 10 for i in range(20)]
    assert float(x.abs().max()) <= 1.0


def test_csv_points_need_upload():
    with pytest.raises(ValueError, match="upload a CSV"):
        Trainer(TrainConfig(data="csv"))
    pts = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    t = Trainer(TrainConfig(data="csv", log_every=5, steps=5), points=pts)
    t.step(5)
    assert t.data.centers is None and len(t.history) == 1
