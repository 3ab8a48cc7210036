"""The class engine: many small MLP GAN runs (2-D toy runs; unconditional MLP image runs such as mnist-mlp too)
stacked into one vectorised training step.

key       stack_key(config) -> StackKey: configs with equal keys can share a stack; NotStackable says why not
stacked   stacked MLP forward (baddbmm over members), spectral norm, penalties, per-member loss groups
adam      Adam over stacked parameters with per-member lr, betas and step counts (fused kernel or public ops)
work      Member (per-run bookkeeping) and Work (a chunk's working stack: rows, per-member plan, buffers)
engine    ClassEngine: add/remove/pause/apply members, step(n), per-member history, toy metrics, divergence
runner    MemberRunner: one member with the job manager's runner surface (snapshot(), apply(), park(), ...)
export    one member as its single run's checkpoint (weights, Adam states from the stack's rows, history, RNG)
"""
from ganlab.engine.batched.engine import ClassEngine, Member
from ganlab.engine.batched.key import NotStackable, StackKey, refusal, stack_key
from ganlab.engine.batched.runner import MemberRunner

__all__ = ["ClassEngine", "Member", "MemberRunner", "NotStackable", "StackKey", "refusal", "stack_key"]
