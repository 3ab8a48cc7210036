"""One class-engine member as a single run's checkpoint: `member_bytes(engine, mid)`.

A member is a single run in all but storage (engine.py), so its checkpoint is the one its Trainer would write
(ganlab.checkpoint: weights, G's weight average, history, step, seconds, fixed noise, RNG state) and loads into
a Trainer that continues the run (`checkpoint.load(b).make_trainer()`): the Ray backend restarts a member of a
failed actor that way, alone (ganlab/jobs/ray_backend/actor.py).

Optimiser states too: the member's Adam moments are rows of the stack, in the module's layout (a Linear
weight's rows are W, (out, in)), with one step count per member and net. `adam_for` lays them out as the state
of a real `torch.optim.Adam` over the member's G (or D) modules, built as the Trainer builds its own
(ganlab.engine.optim.make), so `state_dict()` is the Trainer's format and `load_state_dict` restores it:

    exp_avg[p] = g_m[l][r],  exp_avg_sq[p] = g_v[l][r],
    step[p]    = steps[0][r] (G; D: steps[1][r]), the member's count of updates of that net

With them (and its generator's state, saved at a logging step) the restored Trainer takes the member's very
next steps: on a CPU, where a member is its Trainer bit for bit, the restored run ends with the weights of the
run that never stopped (tests/test_ray_groups.py).
"""
from __future__ import annotations

import io
from typing import Any

import torch

from ganlab.engine import optim
from ganlab.engine.batched.engine import ClassEngine
from ganlab.engine.batched.runner import MemberView
from ganlab.engine.batched.stacked import module_tensors


def _row(stack: torch.Tensor, r: int) -> torch.Tensor:
    """Row r of a stacked tensor (laid out as the module's parameter), a copy."""
    return stack[r].detach().clone(memory_format=torch.contiguous_format)


def adam_for(engine: ClassEngine, mid: int, net: str) -> torch.optim.Adam:
    """A torch Adam over member `mid`'s materialised G (net 'g') or D ('d') holding its moments and step count.
    Call with the engine's lock held, after `engine.materialise(mid)`."""
    m, r = engine.member(mid), engine._row(mid)
    module, lr = (m.G, m.config.g_lr) if net == "g" else (m.D, m.config.d_lr)
    opt = optim.make("adam", module.parameters(), lr, (m.config.beta1, m.config.beta2))
    params, _ = module_tensors(module)  # the stack's order: [W_0, b_0, W_1, b_1, ...] (live Parameters)
    state = engine._state
    step = state["steps"][0 if net == "g" else 1][r].detach().clone().reshape(())
    for p, mt, vt in zip(params, state[f"{net}_m"], state[f"{net}_v"], strict=True):
        opt.state[p] = {"step": step.clone(), "exp_avg": _row(mt, r), "exp_avg_sq": _row(vt, r)}
    return opt


class _Saved(MemberView):
    """What ganlab.checkpoint.state reads of a Trainer, for a member: the view plus its optimisers."""

    def __init__(self, member: Any, opt_g: torch.optim.Optimizer | None, opt_d: torch.optim.Optimizer | None):
        super().__init__(member)
        self.opt_g, self.opt_d = opt_g, opt_d


def member_state(engine: ClassEngine, mid: int) -> dict:
    """Member `mid` (still in the engine) as a ganlab.checkpoint dict, optimiser states included; every tensor
    in it is a copy, so it may be serialised (`to_bytes`) after the engine's lock is let go and steps go on.
    Take it between steps at a logging step (member.i == 0): a partial interval's numbers are not saved."""
    from ganlab import checkpoint

    with engine._lock:
        m = engine.materialise(mid)
        return checkpoint.state(_Saved(m, adam_for(engine, mid, "g"), adam_for(engine, mid, "d")), optimizers=True)


def parked_state(member: Any) -> dict:
    """A finished member (MemberRunner.park: its rows left the engine, its modules kept on the CPU) as a
    ganlab.checkpoint dict: weights, history and step, no optimiser states (the run is over)."""
    from ganlab import checkpoint

    return checkpoint.state(_Saved(member, None, None), optimizers=False)


def to_bytes(state: dict) -> bytes:
    """The dict as checkpoint bytes (what ganlab.checkpoint.save writes; `checkpoint.load` reads them)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()
