"""Executor: where runs train -- the worker pool, placement into stack groups, stepping, checkpoints.

`run(factory)` starts a job at once, where ganlab/jobs/placement.py says: a job placed STACK joins a class-engine
stack group (ganlab/jobs/stacking.py), any other steps its own runners; the WorkerPool (ganlab/jobs/pool.py)
gives each entity (a job, or a group) a time slice in turn. No caps, queue, owners or sessions: the server's
JobManager (ganlab/jobs/job_manager.py) is an Executor with its admission on top; the training process and the
Ray actors train with a plain one.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Callable, Sequence

from ganlab.jobs.job import Job, _call
from ganlab.jobs.placement import STACK, Placement, place
from ganlab.jobs.pool import WorkerPool
from ganlab.jobs.runner import Runner
from ganlab.jobs.stacking import Stacker
from ganlab.jobs.status import FINISHED, Status


class Executor:
    """Where runs train: the worker pool, placement (ganlab/jobs/placement.py) into stack groups, stepping, the
    jobs' checkpoints. It has no caps, queue, owners or sessions: `run` starts a job at once. The training
    process and the Ray actors train with one of these; the server admits through a JobManager, which is one.
    workers: pool threads (default: one per core). stacking: single toy runs share class-engine groups
    (ganlab/jobs/stacking.py); None: GANLAB_CLASS_ENGINE ("0" turns it off; on by default)."""

    job_class: type[Job] = Job

    def __init__(self, workers: int | None = None, snapshot_every_s: float = 0.25, stacking: bool | None = None):
        self.workers = workers or os.cpu_count() or 2
        self._pool = WorkerPool(self.workers)
        self.stacking = os.environ.get("GANLAB_CLASS_ENGINE", "1") != "0" if stacking is None else stacking
        self._stacker = Stacker()
        self.snapshot_every_s = snapshot_every_s
        self._lock = threading.RLock()
        self._jobs: dict[int, Job] = {}
        self._closed = threading.Event()
        # the run store (ganlab/store/): None here; the server's manager() sets the default one
        self.store = None
        self.store_writes_status = True  # the training process saves checkpoints; its server writes statuses

    def run(self, factory: Callable[[], Sequence[Runner]], label: str = "run", store_key: str | None = None,
            first: Sequence[tuple] = ()) -> Job:
        """Start a job whose runners `factory()` builds, now, where `placement.place(factory)` says.
        `store_key`: its row in the run store, which the admitting process made (its checkpoints go there).
        `first`: commands (Job.perform's form) applied once its runners are built, before its first step."""
        job = self._new_job(place(factory, self.stacking), "", factory, label, "", None, store_key)
        for cmd in first:  # queued while the job is QUEUED: no worker is woken, none can step it yet
            job.perform(cmd)
        with self._lock:
            self._jobs[job.id] = job
            job.status = Status.STARTING
            self._start(job)
        return job

    def _new_job(self, placement: Placement, owner: str, factory, label: str, page: str, meta: dict | None,
                 store_key: str | None) -> Job:
        job = self._job_class_for(placement, factory)(self, owner, factory, label, self.snapshot_every_s, page,
                                                      meta)
        job.placement = placement
        job.store_key = store_key
        if store_key is not None and job.trains_here:
            from ganlab.jobs.saves import JobSaves

            job.saves = JobSaves(self.store, store_key, job)
        return job

    def _job_class_for(self, placement: Placement, factory) -> type[Job]:
        """The class of a new job (a backend may place some jobs elsewhere; ganlab/jobs/train_process/)."""
        return self.job_class

    def _start(self, job: Job) -> None:
        """A job starts: the pool steps it (or its stack group)."""
        self._pool.schedule(self._stack_up(job) or job)

    def _stack_up(self, job: Job):
        """Put a job placed in a stack group into one (a new one when none with its key has room); returns the
        group (what the pool then schedules) or None."""
        placement = job.placement
        if placement.where != STACK:
            return None
        from ganlab.engine.batched.runner import MemberRunner

        try:
            group = self._stacker.group_for(placement.key)
        except Exception:  # noqa: BLE001 - its engine cannot be made here (e.g. no GPU): the job trains alone
            return None
        config, points, score = placement.config, placement.points, placement.score
        job._group = group
        job._factory = lambda: [MemberRunner.add(group.engine, config, score, points=points)]
        group.join(job)
        return group

    def running_jobs(self) -> int:
        """Jobs training now (no lock: a count for pacing, not for caps)."""
        return sum(1 for j in list(self._jobs.values()) if j.status == Status.RUNNING)

    def _queue_position(self, job: Job) -> int | None:
        return None

    def _cancel_queued(self, job: Job) -> None:
        pass

    def _on_finished(self, job: Job) -> None:
        if job.store_key is not None and self.store is not None and self.store_writes_status:
            status = Status.PAUSED if job.away and job.status == Status.STOPPED else job.status
            _call(lambda: self.store.set_status(job.store_key, str(status)))

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        for r in job.runners:
            try:
                r.release()
            except Exception:
                traceback.print_exc()
        job.runners = []

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def all_jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.id)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop everything within about `timeout` seconds (tests, process exit): every job is asked to stop at
        once, then the workers finish their slices and park the runners."""
        self._closed.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            jobs = list(self._jobs.values())  # this executor's own (a subclass's all_jobs may list more)
        for j in jobs:
            j.away = True  # the server stops, not the student: the store lists the run paused, resumable
            j.stop()
        for j in jobs:
            j.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for j in jobs:
                if j.status in FINISHED:
                    self._forget(j)
        if self.store is not None:
            self.store.flush(max(0.5, deadline - time.monotonic()))  # the final checkpoints reach the disk
        self._pool.close(max(0.1, deadline - time.monotonic()))
