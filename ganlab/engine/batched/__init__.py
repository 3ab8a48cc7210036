"""The class engine: many small 2-D toy GAN runs stacked into one vectorised training step (DESIGN 2b).

key       stack_key(config) -> StackKey: configs with equal keys can share a stack; NotStackable says why not
stacked   stacked MLP forward (baddbmm over members), spectral norm, penalties, per-member loss groups
adam      Adam over stacked parameters with per-member lr, betas and step counts (fused kernel or public ops)
work      Member (per-run bookkeeping) and Work (a chunk's working stack: rows, per-member plan, buffers)
engine    ClassEngine: add/remove/pause/apply members, step(n), per-member history, toy metrics, divergence
runner    MemberRunner: one member with the job manager's runner surface (snapshot(), apply(), park(), ...)
"""
from ganlab.engine.batched.engine import ClassEngine, Member
from ganlab.engine.batched.key import NotStackable, StackKey, refusal, stack_key

__all__ = ["ClassEngine", "Member", "NotStackable", "StackKey", "refusal", "stack_key"]
