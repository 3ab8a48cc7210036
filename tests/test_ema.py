"""G's weight average (config.g_ema): the textbook EMA update, what samples and grids use, live on/off, and
checkpoints that keep it."""
from __future__ import annotations

import io

import pytest
import torch

from ganlab import checkpoint, snapshot
from ganlab.config import ConfigError, TrainConfig
from ganlab.engine.trainer import Trainer


def trainer(g_ema: float = 0.9, **kw) -> Trainer:
    cfg = TrainConfig(data="ring", z_dim=4, g_width=16, d_width=16, batch_size=32, log_every=5, device="cpu",
                      seed=2, g_ema=g_ema, **kw)
    return Trainer(cfg)


def params(m: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def test_average_follows_the_textbook_update():
    t = trainer(g_ema=0.8)
    avg = params(t.G)  # the average starts at G's initial weights
    for _ in range(3):
        t.step(1)
        # theta_avg <- d * theta_avg + (1 - d) * theta_G, after every G step
        avg = [0.8 * a + 0.2 * g for a, g in zip(avg, params(t.G))]
    for a, b in zip(avg, t.G_ema.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
    assert not any(p.requires_grad for p in t.G_ema.parameters())
    assert any(not torch.equal(a, g) for a, g in zip(t.G_ema.parameters(), t.G.parameters()))


def test_samples_and_snapshots_come_from_the_average():
    t = trainer()
    t.step(10)
    z = torch.randn(7, 4, generator=torch.Generator().manual_seed(5))
    x, _ = t.sample(7, seed=5)
    with torch.no_grad():
        torch.testing.assert_close(x, t.G_ema(z), rtol=0, atol=0)
        assert not torch.allclose(x, t.G(z))
    assert t.sampler is t.G_ema
    assert snapshot.take(t).fake.shape[1] == 2


def test_off_by_default_and_switchable_live():
    t = trainer(g_ema=0.0)
    assert t.G_ema is None and t.sampler is t.G
    t.step(5)
    t.apply(g_ema=0.9)  # starts from G's current weights
    for a, b in zip(t.G_ema.parameters(), t.G.parameters()):
        assert torch.equal(a, b)
    t.step(5)
    assert t.status == "ready" and t.config.g_ema == 0.9
    t.apply(g_ema=0.0)
    assert t.G_ema is None


@pytest.mark.parametrize("bad", [0.3, 1.0, -0.1])
def test_decay_is_validated(bad):
    with pytest.raises(ConfigError, match="g_ema"):
        TrainConfig(g_ema=bad)


def test_checkpoint_keeps_the_average(tmp_path):
    t = trainer()
    t.step(10)
    path = tmp_path / "ema.pt"
    checkpoint.save(t, path)
    run = checkpoint.load(path)
    z = torch.randn(9, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(run.make_generator()(z), t.G_ema(z), rtol=0, atol=0)
    t2 = run.make_trainer(device="cpu")
    for a, b in zip(t2.G_ema.parameters(), t.G_ema.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(t2.G.parameters(), t.G.parameters()):
        assert torch.equal(a, b)


def test_checkpoint_refuses_a_misshapen_average(tmp_path):
    t = trainer()
    state = checkpoint.state(t)
    state["g_ema_state"] = {k: v[..., :1] for k, v in state["g_ema_state"].items()}
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(checkpoint.CheckpointError, match="generator average"):
        checkpoint.load(path)


def test_average_only_file_holds_the_average_once():
    t = trainer()
    t.step(10)
    full = checkpoint.to_bytes(t)
    buf = io.BytesIO()
    checkpoint.save(t, buf, optimizers=True, average_only=True)
    small = buf.getvalue()
    run = checkpoint.load(io.BytesIO(small))
    assert run.g_ema_state is None and len(small) < len(full)
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(run.make_generator()(z), t.G_ema(z), rtol=0, atol=0)
