"""RayJobManager: the local JobManager's interface and rules, with every job's runners in a Ray actor.

Caps, the queue and its positions, owners, tabs, the grace period and the idle reaper are the local manager's
(ganlab/jobs/job_manager.py), per app replica: a student's browser stays on one replica (sticky sessions). What
changes: its transport is a RayPool (ganlab/jobs/ray_backend/pool.py), which takes every job (a PolledJob) and
gives it an actor (a job placed STACK, ganlab/jobs/placement.py, joins a class-engine group actor, as the
local manager stacks it; any other job gets an actor of its own), job ids come from the cluster's
registry, and `all_jobs` / `get` also return the other replicas' jobs (RemoteJob), so the Class page of any replica
lists the whole class. `manager()` is the process-wide one; it also makes the process's Classroom a RayClassroom
(nicknames and the announcement shared by every replica).
"""
from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import uuid

from ganlab.jobs import classroom, job_manager
from ganlab.jobs.checkpoints import CHECKPOINT_S
from ganlab.jobs.job import Job
from ganlab.jobs.job_manager import JobManager
from ganlab.jobs.ray_backend.connect import connect
from ganlab.jobs.ray_backend.job import RemoteJob, record
from ganlab.jobs.ray_backend.pool import RayPool
from ganlab.jobs.ray_backend.registry import RayClassroom, registry

RECORDS_TTL_S = 0.5  # the other replicas' jobs are read from the registry at most this often
REMOTE_SNAPSHOT_TTL_S = 1.0  # another replica's live run is read from its actor at most this often


class RayJobManager(JobManager):
    """shared: use the cluster's registry (job ids unique across replicas, the class on every replica); the
    CLI runs without it. checkpoint_s, run_cpus, threads, spares: see RayPool. Other arguments: JobManager's;
    `stacking` (default: GANLAB_CLASS_ENGINE, on) lets stackable runs share an actor's stack group, each member
    with checkpoints of its own (ganlab/jobs/ray_backend/actor.py)."""

    def __init__(self, *, shared: bool = True, checkpoint_s: float = CHECKPOINT_S, run_cpus: float | None = None,
                 threads: int | None = None, spares: int | None = None, replica: str | None = None, **kwargs):
        connect()
        super().__init__(**kwargs)
        self.replica = replica or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.registry = registry() if shared else None
        self._ids = itertools.count(1)
        self.transport = RayPool(self, checkpoint_s, run_cpus, threads, spares)
        self.workers = self.transport.workers  # the cluster's CPUs
        self._records: tuple[float, list[dict]] = (0.0, [])
        self._remote_snaps: dict[int, tuple[float, int, tuple]] = {}  # job id -> (read at, version, snapshots)
        self._remote_lock = threading.Lock()

    def _new_job(self, *args, **kwargs) -> Job:
        job = super()._new_job(*args, **kwargs)
        job.id = self.new_job_id()  # unique across the replicas that share the cluster
        return job

    def shutdown(self, timeout: float = 10.0) -> None:
        """JobManager.shutdown while Ray is up; after Ray's own exit hook, only the poller is stopped (this
        driver's actors ended with it)."""
        import ray

        if ray.is_initialized():
            super().shutdown(timeout)
        else:
            self._closed.set()
            self.transport.close(0.1)

    def new_job_id(self) -> int:
        if self.registry is None:
            return next(self._ids)
        import ray

        return ray.get(self.registry.new_job_id.remote())

    # ---- this replica's jobs, published for the others ---------------------------------------------------------
    def local_jobs(self) -> list[Job]:
        return super().all_jobs()

    def publish(self) -> None:
        if self.registry is not None:
            self.registry.publish.remote(self.replica, [record(j) for j in self.local_jobs()])

    # ---- every replica's jobs -------------------------------------------------------------------------------------
    def _other_records(self) -> list[dict]:
        if self.registry is None:
            return []
        at, records = self._records
        if time.monotonic() - at > RECORDS_TTL_S:
            import ray

            records = [r for r in ray.get(self.registry.jobs.remote()) if r["replica"] != self.replica]
            self._records = (time.monotonic(), records)
        return records

    def all_jobs(self) -> list[Job]:
        local = self.local_jobs()
        mine = {j.id for j in local}
        others = [RemoteJob(self, r) for r in self._other_records() if r["id"] not in mine]
        return sorted(local + others, key=lambda j: j.id)

    def get(self, job_id: int) -> Job | None:
        job = super().get(job_id)
        if job is None and job_id is not None:
            job = next((RemoteJob(self, r) for r in self._other_records() if r["id"] == job_id), None)
        return job

    def remote_snapshots(self, job: RemoteJob) -> tuple:
        with self._remote_lock:
            at, version, snaps = self._remote_snaps.get(job.id, (0.0, -1, ()))
        if time.monotonic() - at > REMOTE_SNAPSHOT_TTL_S:
            got = job.fetch_snapshots(version)
            if got is not None:
                version, snaps = got
            with self._remote_lock:
                self._remote_snaps[job.id] = (time.monotonic(), version, snaps)
                live = {r["id"] for r in self._other_records()}
                for gone in [k for k in self._remote_snaps if k not in live]:
                    del self._remote_snaps[gone]
        return snaps

    def remote_version(self, job_id: int) -> int:
        with self._remote_lock:
            return self._remote_snaps.get(job_id, (0.0, -1, ()))[1]


def manager() -> RayJobManager:
    """The process-wide manager under GANLAB_BACKEND=ray (ganlab.jobs.manager()); the process's Classroom
    becomes a RayClassroom with it."""
    m = job_manager.manager(RayJobManager)
    room = classroom.classroom()
    if not isinstance(room, RayClassroom):
        classroom.install(RayClassroom(m.registry))
    return m
