"""ganlab.engine.torch_compat: each private torch API and its public fallback give the same numbers; a missing
or misbehaving private op is detected by its check, warned about once, and the fallback is used instead."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from ganlab import latent
from ganlab.config import TrainConfig
from ganlab.engine import optim, torch_compat
from ganlab.engine.trainer import Trainer
from ganlab.models import build
from ganlab.theory import Theory1D, TheoryConfig


@pytest.fixture(params=[True, False], ids=["private", "public"])
def path(request, monkeypatch):
    """Run the test on the private path and again with every fallback forced."""
    monkeypatch.setattr(torch_compat, "ENABLED", request.param)
    return request.param


@pytest.fixture
def fresh_checks(monkeypatch):
    """Forget which private ops passed their checks (restored after the test)."""
    monkeypatch.setattr(torch_compat, "_checked", {})


def _tensors(seed: int, shapes=((3,), (4, 5), (2, 3, 2))) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g) for s in shapes]


def _adam_run(lr_change_at: int = 3) -> tuple[list[torch.Tensor], dict]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = optim.make("adam", net.parameters(), 1e-2, (0.5, 0.999))
    for i in range(5):
        if i == lr_change_at:
            opt.param_groups[0]["lr"] = 3e-3
        x = torch.randn(32, 3, generator=torch.Generator().manual_seed(i))
        optim.apply(opt, torch.autograd.grad(net(x).pow(2).mean(), list(net.parameters())))
    return [p.detach().clone() for p in net.parameters()], opt.state_dict()["state"]


def _reference_adam() -> tuple[list[torch.Tensor], dict]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.5, 0.999), fused=True)
    for i in range(5):
        if i == 3:
            opt.param_groups[0]["lr"] = 3e-3
        opt.zero_grad()
        net(torch.randn(32, 3, generator=torch.Generator().manual_seed(i))).pow(2).mean().backward()
        opt.step()
    return [p.detach().clone() for p in net.parameters()], opt.state_dict()["state"]


def _assert_same_adam(a, b) -> None:
    for x, y in zip(a[0], b[0], strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    for k in b[1]:
        for key in b[1][k]:
            torch.testing.assert_close(a[1][k][key], b[1][k][key], rtol=0, atol=0)


def test_adam_both_paths_equal_torch_adam_exactly(path):
    _assert_same_adam(_adam_run(), _reference_adam())


def _broken(breakage: str):
    """Stand-ins for the private call (torch's own Adam.step uses the same op, so torch itself is left alone)."""
    real = torch_compat._fused_adam

    def missing(opt):
        raise AttributeError("module 'torch' has no attribute '_fused_adam_'")

    def changed_signature(opt):
        raise TypeError("_fused_adam_() got an unexpected keyword argument 'beta1'")

    def wrong_numbers(opt):  # runs, but not Adam's update any more
        opt.param_groups[0]["lr"] *= 2
        try:
            real(opt)
        finally:
            opt.param_groups[0]["lr"] /= 2

    return {"missing": missing, "changed signature": changed_signature, "wrong numbers": wrong_numbers}[breakage]


@pytest.mark.parametrize("breakage", ["missing", "changed signature", "wrong numbers"])
def test_a_broken_fused_adam_is_caught_and_the_fallback_keeps_the_numbers(breakage, fresh_checks, monkeypatch):
    monkeypatch.setattr(torch_compat, "_fused_adam", _broken(breakage))
    with pytest.warns(RuntimeWarning, match="_fused_adam_"):
        got = _adam_run()
    assert torch_compat._checked[("_fused_adam_", "cpu")] is False
    _assert_same_adam(got, _reference_adam())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not at every step
        _adam_run()


def test_foreach_ops_both_paths_agree(path):
    dst, src = _tensors(0), _tensors(1)
    want_lerp = [d.clone().lerp_(s, 0.1) for d, s in zip(dst, src)]
    torch_compat.lerp_(dst, src, 0.1)
    for a, b in zip(dst, want_lerp):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch_compat.copy_(dst, src)
    assert all(torch.equal(a, b) for a, b in zip(dst, src))
    want_norms = torch.stack([torch.linalg.vector_norm(t) for t in src])
    torch.testing.assert_close(torch_compat.norms(src), want_norms, rtol=0, atol=0)


def test_batchnorm_detection_both_paths(path):
    assert torch_compat.has_batchnorm(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    assert torch_compat.has_batchnorm(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    assert not torch_compat.has_batchnorm(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2), nn.InstanceNorm1d(2)))


def test_with_child_both_paths_share_weights_and_leave_the_original_alone(path):
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    out = torch_compat.with_child(net, "1", nn.Identity())
    assert isinstance(net[1], nn.Tanh) and isinstance(out[1], nn.Identity)
    assert out[0].weight is net[0].weight and out[0].bias is net[0].bias  # nothing copied
    x = torch.randn(4, 2)
    torch.testing.assert_close(out(x), net[0](x), rtol=0, atol=0)


def test_class_morph_is_the_same_on_both_paths(monkeypatch):
    cfg = TrainConfig(data="digits", model="mlp", conditional=True, z_dim=8, g_width=16, d_width=16)
    torch.manual_seed(0)
    G, _ = build(cfg, (1, 8, 8), 10)
    z = latent.noise(3, 8)[0]
    private = latent.class_morph(G, z, 1, 7, 5)
    monkeypatch.setattr(torch_compat, "ENABLED", False)
    public = latent.class_morph(G, z, 1, 7, 5)
    np.testing.assert_array_equal(private, public)


def _short_run(cls_config):
    t = cls_config()
    t.step(30)
    t.flush()
    return t


@pytest.mark.parametrize("extra", [{"g_ema": 0.9}, {"g_batchnorm": True, "g_ema": 0.8}])
def test_a_whole_toy_run_is_bit_identical_on_both_paths(extra, monkeypatch):
    cfg = TrainConfig(data="ring", z_dim=2, g_width=32, d_width=32, batch_size=64, log_every=10, device="cpu",
                      **extra)
    a = _short_run(lambda: Trainer(cfg))
    monkeypatch.setattr(torch_compat, "ENABLED", False)
    b = _short_run(lambda: Trainer(cfg))
    ha, hb = a.history.arrays(), b.history.arrays()
    for k in ha:
        if k != "seconds":
            np.testing.assert_array_equal(ha[k], hb[k], err_msg=k)
    for m, n in ((a.G, b.G), (a.D, b.D), (a.G_ema, b.G_ema)):
        for p, q in zip(m.state_dict().values(), n.state_dict().values()):
            assert torch.equal(p, q)


def test_the_theory_run_is_bit_identical_on_both_paths(monkeypatch):
    cfg = TheoryConfig(batch_size=32, log_every=10, steps=40)
    a = _short_run(lambda: Theory1D(cfg))
    monkeypatch.setattr(torch_compat, "ENABLED", False)
    b = _short_run(lambda: Theory1D(cfg))
    for k in ("d_loss", "g_loss", "v_d", "jsd"):
        np.testing.assert_array_equal(a.history.arrays()[k], b.history.arrays()[k])
