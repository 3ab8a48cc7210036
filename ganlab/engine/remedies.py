"""Remedies that act on D's weights, written once for the single-run Trainer (ganlab/engine/trainer.py) and the
class engine (ganlab/engine/batched/engine.py), which steps a stack of R toy runs at once.

A hyper-parameter is a float for one run, or an (R,) tensor for a stack whose tensors are (R, ...): one value per
member, broadcast over the member's row (`per_row`). The penalties on D's input gradient (WGAN-GP, R1) are in
ganlab/losses.py, with the losses.
"""
from __future__ import annotations

from typing import Callable, Sequence, Union

import torch
from torch import Tensor

Value = Union[float, Tensor]  # one run's number, or (R,): one per member of a stack


def per_row(value: Value, like: Tensor) -> Value:
    """A float as it is; an (R,) tensor viewed (R, 1, ...) to scale each member's row of `like` (R, ...)."""
    if isinstance(value, Tensor):
        return value.view(-1, *([1] * (like.dim() - 1)))
    return value


@torch.no_grad()
def clip_weights_(params: Sequence[Tensor], c: Value) -> None:
    """WGAN (Arjovsky et al. 2017): every weight of D into [-c, c], in place, after each D step; this keeps the
    critic (roughly) K-Lipschitz. c = inf leaves a member of a stack unclipped."""
    for p in params:
        bound = per_row(c, p)
        p.clamp_(min=-bound, max=bound)


def unrolled_d(params: Sequence[Tensor], d_loss_at: Callable[[int, list[Tensor]], Tensor],
               lrs: Sequence[Value]) -> list[Tensor]:
    """D's weights after k = len(lrs) differentiable SGD steps (unrolled GAN, Metz et al. 2017):

        theta^{j+1} = theta^j - eta_j grad_theta L_D(theta^j; x_j, G(z)),   j = 0 .. k-1

    `d_loss_at(j, theta^j)` is D's loss (summed over the members of a stack) on step j's real batch, drawn when it
    is called (in step order, so that a run draws its batches as it always did). Every step keeps its graph
    (create_graph), so G's loss taken at theta^k and back-propagated through all k updates shows G how D would
    react to its move. eta_j = 0 (a stack's member with fewer steps) leaves that member's weights as they are."""
    params = list(params)
    for j, lr in enumerate(lrs):
        grads = torch.autograd.grad(d_loss_at(j, params), params, create_graph=True)
        params = [p - per_row(lr, p) * g for p, g in zip(params, grads)]
    return params
