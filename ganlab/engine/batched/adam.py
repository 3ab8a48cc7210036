"""Adam over stacked parameters: every member keeps its own learning rate, betas and step count.

The update is torch's Adam (Kingma & Ba 2015), per member r at its own step t_r:
    m <- b1 m + (1 - b1) g                    v <- b2 v + (1 - b2) g^2
    theta <- theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
Two implementations, same numbers (tests/test_batched.py compares them):
- fused (default): torch's fused Adam kernel -- the one the single-run Trainer uses (ganlab.engine.optim) --
  called once per group of members that share (lr, b1, b2), on the members' row views; each row brings its
  own step tensor, so bias corrections stay per member. One call for a class with one learning rate.
  `torch._fused_adam_` is a private op: `FUSED_ADAM` says whether this torch build has it.
- public: plain tensor ops on the whole stack with per-member (R, 1, ...) hyper-parameter tensors.
Members that sit an update out (fewer D steps than the stack's most) are left out of the fused groups, or get
zero weights in the public path: their moments, parameters and step counts do not change.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

EPS = 1e-8  # torch.optim.Adam's default, as the Trainer uses it
FUSED_ADAM = hasattr(torch, "_fused_adam_")


@dataclass
class AdamRows:
    """Per-row views of one stacked net's parameters and Adam state (made once per stack)."""
    params: list[tuple[Tensor, ...]]  # per tensor: its R row views
    exp_avg: list[tuple[Tensor, ...]]
    exp_avg_sq: list[tuple[Tensor, ...]]
    steps: tuple[Tensor, ...]  # R 0-d views of the (R,) step tensor

    @classmethod
    def of(cls, params: Sequence[Tensor], exp_avg: Sequence[Tensor], exp_avg_sq: Sequence[Tensor],
           steps: Tensor) -> "AdamRows":
        with torch.no_grad():  # views that in-place updates may write through
            return cls([p.unbind(0) for p in params], [m.unbind(0) for m in exp_avg],
                       [v.unbind(0) for v in exp_avg_sq], steps.unbind(0))


class AdamPlan:
    """Who updates and with what: `lr`, `beta1`, `beta2` per row, `active` rows (None: all)."""

    def __init__(self, lr: Sequence[float], beta1: Sequence[float], beta2: Sequence[float],
                 active: Sequence[bool] | None, device: torch.device, dtype: torch.dtype = torch.float32):
        R = len(lr)
        act = list(active) if active is not None else [True] * R
        self.all_active = all(act)
        groups: dict[tuple[float, float, float], list[int]] = {}
        for r in range(R):
            if act[r]:
                groups.setdefault((lr[r], beta1[r], beta2[r]), []).append(r)
        self.groups = list(groups.items())
        f32 = dict(dtype=dtype, device=device)
        # step increment per row (steps are float32 tensors, as torch keeps them for the fused kernel)
        self.inc = None if self.all_active else torch.tensor(act, dtype=torch.float32, device=device)
        # public path: per-row tensors, zeroed for inactive rows so their update is the identity
        a = torch.tensor(act, dtype=torch.bool, device=device)
        self.active = a
        self.lr = torch.tensor(lr, **f32)
        self.beta1 = torch.tensor(beta1, **f32)
        self.beta2 = torch.tensor(beta2, **f32)
        self.w1 = torch.where(a, 1 - self.beta1, 0.0)  # weight of g in m's lerp
        self.b2 = torch.where(a, self.beta2, 1.0)  # v's decay (1: unchanged)
        self.w2 = torch.where(a, 1 - self.beta2, 0.0)


def _bump(steps: Tensor, plan: AdamPlan) -> None:
    if plan.inc is None:
        steps.add_(1)
    else:
        steps.add_(plan.inc)


@torch.no_grad()
def step_fused(rows: AdamRows, grads: Sequence[Tensor], plan: AdamPlan, steps: Tensor) -> None:
    _bump(steps, plan)
    # the fused kernel (CPU) silently mis-applies a gradient whose strides differ from its parameter's
    # (double backward, e.g. a gradient penalty, can return a transposed one): lay such gradients out anew
    g_rows = [(g if g.is_contiguous() else g.contiguous()).unbind(0) for g in grads]
    n = len(g_rows)
    for (lr, b1, b2), members in plan.groups:
        params = [rows.params[i][r] for r in members for i in range(n)]
        torch._fused_adam_(params, [g_rows[i][r] for r in members for i in range(n)],
                           [rows.exp_avg[i][r] for r in members for i in range(n)],
                           [rows.exp_avg_sq[i][r] for r in members for i in range(n)], [],
                           [rows.steps[r] for r in members for _ in range(n)],
                           lr=lr, beta1=b1, beta2=b2, weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)


def _col(t: Tensor, like: Tensor) -> Tensor:
    return t.view(-1, *([1] * (like.dim() - 1)))


@torch.no_grad()
def step_public(params: Sequence[Tensor], grads: Sequence[Tensor], exp_avg: Sequence[Tensor],
                exp_avg_sq: Sequence[Tensor], plan: AdamPlan, steps: Tensor) -> None:
    _bump(steps, plan)
    t = torch.where(plan.active, steps, 1.0).to(plan.lr.dtype)  # a row never stepped: keep the corrections finite
    step_size = torch.where(plan.active, plan.lr / (1 - plan.beta1 ** t), 0.0)
    bc2_sqrt = (1 - plan.beta2 ** t).sqrt()
    for p, g, m, v in zip(params, grads, exp_avg, exp_avg_sq):
        m.lerp_(g, _col(plan.w1, m))  # m <- m + (1 - b1) (g - m)
        v.mul_(_col(plan.b2, v)).addcmul_(g, g * _col(plan.w2, g))  # v <- b2 v + (1 - b2) g^2
        denom = (v.sqrt() / _col(bc2_sqrt, v)).add_(EPS)
        p.addcdiv_(m * _col(-step_size, m), denom)
