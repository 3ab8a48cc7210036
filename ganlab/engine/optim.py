"""Optimisers for the hot loop: build them, and apply one update from gradients computed by autograd.grad.

Why not just `opt.step()`: on the toy GAN (2x128 MLPs) `torch.optim.Adam(fused=True).step()` takes ~110 us,
of which the fused kernel is ~25 us; the rest is Python bookkeeping (hooks, state look-ups, list building).
Two of those per G step are ~7 % of a step. `apply(opt, grads)` runs the same update -- step_t += 1, then the
fused Adam kernel (m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, theta -= lr m_hat / (sqrt(v_hat) + eps))
-- directly on the optimiser's own state tensors, so state_dict(), load_state_dict() and live learning-rate
changes keep working. Anything else (RMSprop, SGD, the first step that creates the state) takes `opt.step()`.
"""
from __future__ import annotations

from typing import Sequence

import torch


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
    if not _direct(opt):
        opt.step()
        return
    group, state = opt.param_groups[0], opt.state
    st = [state[p] for p in params]
    steps = [s["step"] for s in st]
    beta1, beta2 = group["betas"]
    with torch.no_grad():
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, [p.grad for p in params], [s["exp_avg"] for s in st],
                           [s["exp_avg_sq"] for s in st], [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
                           beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=False)
