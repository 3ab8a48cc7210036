"""RayPool: where a local JobManager has its WorkerPool, the Ray backend has this.

Admitting a job (`schedule` of a STARTING job) gives it an actor: a JobActor (ganlab/jobs/ray_backend/actor.py)
named `ganlab-run-<replica>-<n>`, asking Ray for RUN_CPUS of a CPU (and a share of a GPU for image runs when
the cluster has GPUs), so Ray places it on whichever node has room. A new actor's process first imports torch
and the training stack (seconds of CPU), so the pool keeps SPARES of them warm and hands one to the next job.
One thread per replica then polls every live actor (one call in flight per actor, about every POLL_S) and
hands the answers to the jobs, publishes this replica's jobs to the registry every PUBLISH_S, and handles
failures:

A poll that fails with RayActorError means the actor or its node died. Unless the job was being stopped, a new
actor continues it from the newest checkpoint the job holds (saved every CHECKPOINT_S of training,
ganlab/jobs/ray_backend/checkpoints.py), paused if it was paused, with every live change replayed; the job's
`error` tells the student "restarted from step N after a worker failure (M steps lost)". After MAX_RESTARTS
failures the job ends with status error and says so. A finished job's actor is killed (its process and its
share of the cluster are freed); its final snapshots stay in Ray's object store for other replicas' Class pages
and its final checkpoint stays in the job for the page's download and the Latent space page.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from typing import Any

from ganlab.jobs.ray_backend.actor import JobActor
from ganlab.jobs.ray_backend.checkpoints import CHECKPOINT_S
from ganlab.jobs.ray_backend.connect import NAMESPACE, connect
from ganlab.jobs.ray_backend.job import RayJob
from ganlab.jobs.status import Status

POLL_S = 0.25
PUBLISH_S = 0.5
MAX_RESTARTS = 3
RUN_CPUS = 0.25  # Ray's CPU accounting per run: small toy runs share a core (GANLAB_RAY_RUN_CPUS)
RUN_GPUS = 0.25  # per image run, when the cluster has GPUs (GANLAB_RAY_RUN_GPUS)
SPARES = 1  # warm actors a replica keeps ready for the next Start (GANLAB_RAY_SPARES)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


class RayPool:
    def __init__(self, manager, checkpoint_s: float = CHECKPOINT_S, run_cpus: float | None = None,
                 threads: int | None = None, spares: int | None = None):
        self._ray = ray = connect()
        self._manager = manager
        self.checkpoint_s = checkpoint_s
        self.run_cpus = run_cpus if run_cpus is not None else _env_float("GANLAB_RAY_RUN_CPUS", RUN_CPUS)
        self.run_gpus = _env_float("GANLAB_RAY_RUN_GPUS", RUN_GPUS)
        self.threads = threads
        self.spares = int(spares if spares is not None else _env_float("GANLAB_RAY_SPARES", SPARES))
        resources = ray.cluster_resources()
        self.workers = max(1, int(resources.get("CPU", 1)))
        self.has_gpus = resources.get("GPU", 0) > 0
        self._actor_class = ray.remote(JobActor)
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self._live: list[RayJob] = []  # jobs with an actor
        self._spare: list[tuple[Any, str]] = []  # (actor, name): started, warm, no job yet
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._published = 0.0
        self._refill()

    # ---- the WorkerPool interface, as the JobManager uses it -------------------------------------------------
    def schedule(self, job: RayJob) -> None:
        """A newly admitted job gets its actor (commands to a running job go straight to its actor)."""
        if job.actor is None and job.status == Status.STARTING and not self._closed.is_set():
            self._start(job)

    def runnable(self) -> int:
        with self._lock:
            return len(self._live)

    def close(self, timeout: float = 10.0) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            live, self._live = self._live, []
            spare, self._spare = self._spare, []
        if not self._ray.is_initialized():
            return  # Ray is down (process exit): the actors went with it
        for job in live:
            self._kill(job)
        for actor, _ in spare:
            self._ray.kill(actor)
        registry = self._manager.registry
        if registry is not None:
            registry.leave.remote(self._manager.replica)

    # ---- actors ------------------------------------------------------------------------------------------------
    def _wants_gpu(self, job: RayJob) -> bool:
        configs = getattr(job.spec, "configs", ())
        config = configs[0] if configs else None
        return (self.has_gpus and self.run_gpus > 0 and config is not None and not getattr(config, "is_toy", True)
                and getattr(config, "device", "cpu") != "cpu")

    def _new_actor(self, gpu: bool = False) -> tuple[Any, str]:
        name = f"ganlab-run-{self._manager.replica}-{next(self._names)}"
        opts = {"name": name, "namespace": NAMESPACE, "num_cpus": self.run_cpus, "max_restarts": 0}
        if gpu:
            opts["num_gpus"] = self.run_gpus
        threads = self.threads if self.threads is not None else (None if gpu else 1)
        return self._actor_class.options(**opts).remote(threads, self.checkpoint_s), name

    def _refill(self) -> None:
        """Keep `spares` warm actors (a Start then trains at once instead of after a process start)."""
        with self._lock:
            missing = self.spares - len(self._spare) if not self._closed.is_set() else 0
        for _ in range(max(0, missing)):
            made = self._new_actor()
            with self._lock:
                self._spare.append(made)

    def _start(self, job: RayJob, resume=None, paused: bool = False) -> None:
        gpu = self._wants_gpu(job)
        with self._lock:
            spare = self._spare.pop(0) if self._spare and not gpu else None
        job.actor, job.actor_name = spare or self._new_actor(gpu)
        job.actor.start.remote(job.spec, resume, paused, list(job.applied))
        pending, job.pending = job.pending, []
        for cmd in pending:
            if cmd[0] != "apply":  # live changes went in with `start`
                job.actor.command.remote(*cmd)
        with self._lock:
            self._live.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="ray-job-poller", daemon=True)
                self._thread.start()
        if spare is not None:
            self._refill()

    def _kill(self, job: RayJob) -> None:
        actor, job.actor, job.inflight = job.actor, None, None
        if actor is not None:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _drop(self, job: RayJob) -> None:
        with self._lock:
            if job in self._live:
                self._live.remove(job)
        self._kill(job)

    # ---- the poller --------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closed.is_set():
            t0 = time.monotonic()
            try:
                self._poll()
                if time.monotonic() - self._published >= PUBLISH_S:
                    self._manager.publish()
                    self._published = time.monotonic()
            except Exception:  # the poller must outlive any one bad answer
                traceback.print_exc()
            self._closed.wait(max(0.0, POLL_S - (time.monotonic() - t0)))

    def _poll(self) -> None:
        ray = self._ray
        with self._lock:
            jobs = list(self._live)
        for job in jobs:
            if job.inflight is None and job.actor is not None:
                seq = job.checkpoint.seq if job.checkpoint is not None else 0
                job.inflight = job.actor.poll.remote(job.actor_version, seq)
        refs = [j.inflight for j in jobs if j.inflight is not None]
        if not refs:
            return
        ready = set(ray.wait(refs, num_returns=len(refs), timeout=POLL_S)[0])
        for job in jobs:
            ref = job.inflight
            if ref is None or ref not in ready:
                continue
            job.inflight = None
            try:
                report = ray.get(ref)
            except ray.exceptions.ActorUnavailableError:
                continue  # unreachable for a moment: ask again
            except ray.exceptions.RayActorError:
                self._lost(job)
                continue
            job.take(report)
            if report["done"]:
                self._finished(job, Status(report["status"]))

    def _finished(self, job: RayJob, status: Status) -> None:
        snaps = job.snapshots()
        if snaps:
            job.final_ref = self._ray.put(snaps)
        self._drop(job)
        job.end(status)

    def _lost(self, job: RayJob) -> None:
        """The job's actor (or its node) died: continue from the newest checkpoint in a new actor."""
        self._drop(job)
        if job.stop_requested or self._closed.is_set():
            job.end(Status.STOPPED)
            return
        if len(job.restarts) >= MAX_RESTARTS:
            start = job.checkpoint.step if job.checkpoint is not None else 0
            job.note = job.error = (f"the worker running this run failed {len(job.restarts) + 1} times; the run "
                                    f"stopped (its last checkpoint is at step {start})")
            job.end(Status.ERROR)
            return
        job.rewind()
        paused = job.status == Status.PAUSED
        job.status = Status.STARTING
        self._start(job, resume=job.checkpoint, paused=paused)
