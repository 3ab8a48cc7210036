"""Which jobs RayPool stacks in one actor, its record of each actor (Host) and of where each job trains (Seat).

A job joins other jobs in one actor (actor.py TrainActor) when it is placed STACK (ganlab/jobs/placement.py:
one student's single 2-D toy run that the class engine takes and that does not continue a checkpoint; after a
failure the member restarts alone from its RunSpec and its own checkpoint), as on a single server. Members of
one group share a stack key (ganlab.engine.batched.stack_key: network shapes, batch, device), and a group holds
at most what one stacked step takes: CPU_MEMBERS runs on a CPU, GPU_MEMBERS on a GPU (the actor asks Ray for a
GPU share when its key names cuda and the cluster has GPUs), as the local Stacker fills its groups. Anything
else gets an actor of its own (a Host of capacity 1, key None).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.jobs.placement import STACK
from ganlab.jobs.stacking import CPU_MEMBERS, GPU_MEMBERS


def stack_key_of(job) -> Any | None:
    """The stack key under which `job` (a PolledJob) joins an actor's stack group, or None: an actor of its own."""
    placement = job.placement
    return placement.key if placement.where == STACK else None


def capacity(gpu: bool) -> int:
    """Members one actor's stack group takes: one stacked step's worth (ganlab/jobs/stacking.py). The actor has
    a GPU only when its stack key names one and the cluster has GPUs; otherwise its runs train on a CPU."""
    return GPU_MEMBERS if gpu else CPU_MEMBERS


@dataclass(eq=False)
class Host:
    """One actor as the pool sees it: its jobs (job id -> PolledJob), the stack key they share (None: one job
    alone), whether it holds a GPU share, and the poll on its way back."""

    actor: Any
    name: str
    key: Any
    capacity: int
    gpu: bool = False
    members: dict[int, Any] = field(default_factory=dict)
    inflight: Any = None

    def has_room(self) -> bool:
        return len(self.members) < self.capacity

    def known(self) -> dict[int, tuple[int, int]]:
        """What the pool holds of each job (snapshot version, checkpoint seq): TrainActor.poll's argument."""
        return {jid: (job.version_seen, job.checkpoint.seq if job.checkpoint is not None else 0)
                for jid, job in list(self.members.items())}


@dataclass(eq=False)
class Seat:
    """Where one job trains on the cluster (`job.seat`): its actor, that actor's name and Host (while it is
    there), its poll on the way back; once over, its final snapshots in Ray's object store (for other
    replicas' Class pages)."""

    actor: Any = None
    name: str | None = None
    host: Host | None = None
    inflight: Any = None
    final_ref: Any = None
