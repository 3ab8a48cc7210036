"""Which jobs RayPool trains in a class-engine group actor, and its record of each group actor.

A job goes to a group actor (group_actor.py) when it is placed STACK (ganlab/jobs/placement.py: one student's single
2-D toy run that the class engine takes and that does not continue a checkpoint; after a failure the member restarts
alone from its RunSpec and its own checkpoint), as on a single server. Members of one group share a stack key
(ganlab.engine.batched.stack_key: network shapes, batch, device), and a group holds at most what one stacked step
takes: CPU_MEMBERS runs on a CPU, GPU_MEMBERS on a GPU (a group actor asks Ray for a GPU share when its key names
cuda and the cluster has GPUs), as the local Stacker fills its groups. Anything else gets a JobActor of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.jobs.placement import STACK
from ganlab.jobs.stacking import CPU_MEMBERS, GPU_MEMBERS


def group_key(job) -> Any | None:
    """The stack key under which `job` (a PolledJob) joins a group actor, or None: it trains in its own actor."""
    placement = job.placement
    return placement.key if placement.where == STACK else None


def capacity(gpu: bool) -> int:
    """Members one group actor takes: one stacked step's worth (ganlab/jobs/stacking.py). A group actor has a
    GPU only when its stack key names one and the cluster has GPUs; otherwise its runs train on a CPU."""
    return GPU_MEMBERS if gpu else CPU_MEMBERS


@dataclass(eq=False)
class Group:
    """One group actor as the pool sees it: its members (job id -> PolledJob) and the poll on its way back."""

    actor: Any
    name: str
    key: Any
    capacity: int
    members: dict[int, Any] = field(default_factory=dict)
    inflight: Any = None

    def has_room(self) -> bool:
        return len(self.members) < self.capacity

    def known(self) -> dict[int, tuple[int, int]]:
        """What the pool holds of each member (snapshot version, checkpoint seq): GroupActor.poll's argument."""
        return {jid: (job.version_seen, job.checkpoint.seq if job.checkpoint is not None else 0)
                for jid, job in list(self.members.items())}


@dataclass(eq=False)
class Seat:
    """Where one job trains on the cluster (`job.seat`): its actor (its group actor's, for a member) and that
    actor's name, its Group while it is a member, its poll on the way back; once over, its final snapshots in
    Ray's object store (for other replicas' Class pages)."""

    actor: Any = None
    name: str | None = None
    group: Group | None = None
    inflight: Any = None
    final_ref: Any = None
