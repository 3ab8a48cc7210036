"""Stack groups: single toy runs with the same network shapes share one ClassEngine and one worker slice.

A student's job normally steps its own runner in its slice. A job placed STACK (ganlab/jobs/placement.py: one
2-D toy run whose config the class engine accepts, ganlab.engine.batched.refusal) instead joins a StackGroup:
the group is what the worker pool schedules, and its slice steps all of its running members in one vectorised
step (`ClassEngine.step`). Each member job keeps its own commands, snapshots, status and budget: in the group's
slice every member job first does its own bookkeeping (`Job.run_slice` with the group doing the stepping),
then the engine steps the members that are running.

Group size: on a CPU at most CPU_MEMBERS runs a group (the engine's cache-friendly block), so a class fills
several groups and every worker has one to step; on a GPU one group takes up to GPU_MEMBERS runs (a stacked
step costs about the kernel launches of one run).
"""
from __future__ import annotations

import threading
import time

from ganlab.jobs.job import Job
from ganlab.jobs.pace import StepPace
from ganlab.jobs.status import Status

CPU_MEMBERS = 8
GPU_MEMBERS = 64


class StackGroup:
    def __init__(self, key, capacity: int):
        from ganlab.engine.batched import ClassEngine  # torch: imported only when a run is stacked

        self.key, self.capacity = key, capacity
        self.engine = ClassEngine(key)
        self.jobs: list[Job] = []  # member jobs, in joining order
        self._lock = threading.Lock()
        self._pace = StepPace()  # seconds per stacked step

    def has_room(self) -> bool:
        with self._lock:
            return len(self.jobs) < self.capacity

    def join(self, job: "Job") -> None:
        with self._lock:
            self.jobs.append(job)

    def running(self) -> int:
        with self._lock:
            return sum(1 for j in self.jobs if j.status == Status.RUNNING)

    def weight(self) -> int:
        """Its share of the workers' time (ganlab/jobs/pool.py): one per running member it steps."""
        return max(1, self.running())

    def tend(self) -> bool:
        """A bookkeeping turn between stacked steps (a member's command or request): every member job applies
        its commands, none is stepped. True while a member runs."""
        return bool(self._members_turn(lambda job: job.tend()))

    def run_slice(self, seconds: float) -> bool:
        """Each member job's bookkeeping (start, commands, snapshots, end), then about `seconds` of stacked
        steps for the running members, in whole logging intervals where the slice allows."""
        running = self._members_turn(lambda job: job.run_slice(seconds))
        if not running:
            return False
        interval = min(r.log_every for j in running for r in j.runners)
        k = self._pace.steps(seconds, interval)
        t0 = time.perf_counter()
        try:
            self.engine.step(k)
        except Exception as e:  # the engine broke: every member job reports it; the server goes on
            for j in running:
                j._fail(e)
            return False
        self._pace.took(time.perf_counter() - t0, k)
        return True

    def _members_turn(self, turn) -> list["Job"]:
        """turn(job) for each member job; forgets the finished ones; returns the running ones."""
        with self._lock:
            jobs = list(self.jobs)
        for job in jobs:
            turn(job)
        with self._lock:
            self.jobs = [j for j in self.jobs if j.status not in (Status.DONE, Status.STOPPED, Status.DIVERGED,
                                                                      Status.ERROR)]
            return [j for j in self.jobs if j.status == Status.RUNNING and j.runners]


class Stacker:
    """The manager's stack groups: finds (or opens) a group with room for a config, forgets empty ones."""

    def __init__(self):
        self._groups: list[StackGroup] = []
        self._lock = threading.Lock()

    def group_for(self, key) -> StackGroup:
        """A group of runs with this stack key (ganlab/jobs/placement.py) that has room; a new one when none has."""
        on_gpu = key.device.startswith("cuda")
        with self._lock:
            self._groups = [g for g in self._groups if g.jobs]
            for g in self._groups:
                if g.key == key and g.has_room():
                    return g
            g = StackGroup(key, GPU_MEMBERS if on_gpu else CPU_MEMBERS)
            self._groups.append(g)
            return g

    def groups(self) -> list[StackGroup]:
        with self._lock:
            return [g for g in self._groups if g.jobs]
