"""ganlab.engine.optim.apply: the direct fused-Adam update equals torch.optim.Adam.step exactly, keeps state_dict and
live lr changes, and falls back to .step() for other optimisers."""
from __future__ import annotations

import copy

import pytest
import torch

from ganlab.engine import optim


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))


def _grads(net: torch.nn.Module, seed: int) -> tuple[torch.Tensor, ...]:
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(seed))
    return torch.autograd.grad(net(x).pow(2).mean(), list(net.parameters()))


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_apply_equals_the_reference_step(name):
    ours, ref = _net(), _net()
    opt = optim.make(name, ours.parameters(), 1e-2, (0.5, 0.999))
    ref_opt = optim.make(name, ref.parameters(), 1e-2, (0.5, 0.999))
    for i in range(5):
        if i == 3:  # a live learning-rate change (Trainer.apply) reaches both
            for o in (opt, ref_opt):
                o.param_groups[0]["lr"] = 3e-3
        optim.apply(opt, _grads(ours, i))
        ref_opt.zero_grad()
        ref(torch.randn(32, 3, generator=torch.Generator().manual_seed(i))).pow(2).mean().backward()
        ref_opt.step()
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    sa, sb = opt.state_dict()["state"], ref_opt.state_dict()["state"]
    for k in sb:
        for key in sb[k]:
            torch.testing.assert_close(sa[k][key], sb[k][key], rtol=0, atol=0)


def test_direct_path_is_taken_after_the_first_step_and_survives_a_reload():
    net = _net()
    opt = optim.make("adam", net.parameters(), 1e-2, (0.5, 0.999))
    assert not optim._direct(opt)  # no state yet: the first step is torch's own and creates it
    optim.apply(opt, _grads(net, 0))
    assert optim._direct(opt)
    saved = copy.deepcopy(opt.state_dict())
    optim.apply(opt, _grads(net, 1))
    opt.load_state_dict(saved)  # new state tensors: apply() looks them up each call
    assert optim._direct(opt) and int(opt.state[next(iter(net.parameters()))]["step"]) == 1
    optim.apply(opt, _grads(net, 1))
    assert int(opt.state[next(iter(net.parameters()))]["step"]) == 2


def test_grad_in_another_layout_is_copied_into_the_params_layout():
    p = torch.nn.Parameter(torch.zeros(2, 3, 4, 4).contiguous(memory_format=torch.channels_last))
    opt = optim.make("adam", [p], 0.1, (0.5, 0.999))
    g = torch.ones(2, 3, 4, 4)  # contiguous: different strides from p
    optim.apply(opt, [g])
    optim.apply(opt, [g])
    assert p.grad.stride() == p.stride() and torch.all(p < 0)
