"""Optimisers for the hot loop: build them, and apply one update from gradients computed by autograd.grad.

Why not just `opt.step()`: on the 2-D toy GAN (2x128 MLPs) most of `torch.optim.Adam(fused=True).step()` is
Python bookkeeping (hooks, state look-ups, list building) around a short fused kernel, and it runs twice per G
step. `apply(opt, grads)` runs the same update -- step_t += 1, then the fused Adam kernel
(m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, theta -= lr m_hat / (sqrt(v_hat) + eps)) -- directly on the
optimiser's own state tensors (ganlab.engine.torch_compat.adam_step, which falls back to `opt.step()` where
the private kernel is missing or changed), so state_dict(), load_state_dict() and live learning-rate changes
keep working. Anything else (RMSprop, SGD, the first step that creates the state) takes `opt.step()`.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ganlab.engine import torch_compat


def make(name: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """name: adam | rmsprop | sgd (TrainConfig.optimizer)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=True)
    return torch.optim.SGD(params, lr=lr, foreach=True)


def _direct(opt: torch.optim.Optimizer) -> bool:
    """A plain fused Adam (one group, no weight decay / amsgrad / maximize) whose state exists."""
    if type(opt) is not torch.optim.Adam or len(opt.param_groups) != 1:
        return False
    g = opt.param_groups[0]
    return (bool(g.get("fused")) and not g["amsgrad"] and not g["maximize"] and g["weight_decay"] == 0
            and not g.get("differentiable") and not g.get("capturable")
            and len(opt.state) == len(g["params"]))


def apply(opt: torch.optim.Optimizer, grads: Sequence[torch.Tensor]) -> None:
    """Set p.grad = g for the optimiser's parameters (in order) and take one update step."""
    params = opt.param_groups[0]["params"]
    for p, g in zip(params, grads, strict=True):
        # fused Adam (CPU) silently mis-applies a grad whose strides differ from its param's (e.g. a
        # channels_last conv activation gives a channels_last weight grad); .backward() would match them
        p.grad = g if g.stride() == p.stride() else torch.empty_like(p).copy_(g)
    if _direct(opt):
        torch_compat.adam_step(opt)
    else:
        opt.step()
