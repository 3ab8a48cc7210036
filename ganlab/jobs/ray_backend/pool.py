"""RayPool: the Ray backend's transport (ganlab/jobs/transport.py): every job of a replica trains in an actor.

Every actor is a TrainActor (actor.py, `ganlab-run-<replica>-<n>`): an Executor in a Ray actor. Admitting a job
(`start`) gives it a place in one. A student's single toy run that the class engine stacks (placed STACK,
ganlab/jobs/placement.py) joins an actor that has room for its stack key (hosts.py: up to CPU_MEMBERS, or
GPU_MEMBERS, such runs train there in one vectorised step, as in a single server's stack groups); any other
job gets an actor of its own. Each actor asks Ray for RUN_CPUS of a CPU (one process stepping on one thread,
whether it holds one run or a stack group; a share of a GPU for image runs and cuda stack groups when the cluster has
GPUs), so Ray places it on whichever node has room. A new actor's process first imports torch and the
training stack (seconds of CPU), so the pool keeps SPARES actors warm and hands one to the next job; an actor
whose jobs all ended waits as a spare (if one is missing) or is killed, freeing its process and its share of
the cluster.

One thread per replica then polls every actor (one call in flight per actor, about every POLL_S, answering for
all its jobs), hands the reports to the jobs, publishes this replica's jobs to the registry every PUBLISH_S,
and handles failures: a poll that fails with RayActorError means the actor or its node died. Unless a job was
being stopped, a new actor of its own continues each of its jobs from the newest checkpoint the job holds
(saved every CHECKPOINT_S of training, ganlab/jobs/checkpoints.py), paused if it was paused, with
every live change replayed; the job's `error` tells the student "restarted from step N after a worker failure
(M steps lost)". After MAX_RESTARTS failures the job ends with status error and says so.

A finished job leaves its actor; its final snapshots stay in Ray's object store for other replicas' Class
pages and its final checkpoint stays in the job for the page's download and the Latent space page.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from typing import Any

from ganlab.jobs.checkpoints import CHECKPOINT_S
from ganlab.jobs.polled import PolledJob
from ganlab.jobs.ray_backend.actor import TrainActor
from ganlab.jobs.ray_backend.connect import NAMESPACE, connect
from ganlab.jobs.ray_backend.hosts import Host, Seat, capacity, stack_key_of
from ganlab.jobs.status import Status

POLL_S = 0.25
PUBLISH_S = 0.5
MAX_RESTARTS = 3
RUN_CPUS = 0.25  # Ray's CPU accounting per actor: small toy runs share a core (GANLAB_RAY_RUN_CPUS)
RUN_GPUS = 0.25  # per GPU actor, when the cluster has GPUs (GANLAB_RAY_RUN_GPUS)
SPARES = 1  # warm actors a replica keeps ready for the next Start (GANLAB_RAY_SPARES)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


class RayPool:
    where = "a Ray actor"
    weights_on_request = False  # a live run's weights: its newest checkpoint (every checkpoint_s)

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
        self._actor_class = ray.remote(TrainActor)
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self._hosts: list[Host] = []  # actors with jobs
        self._spare: list[tuple[Any, str]] = []  # (actor, name): started, warm, no job yet
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._published = 0.0
        self._refill()

    # ---- the Transport interface, as the JobManager uses it -----------------------------------------------
    def accepts(self, placement, factory) -> bool:
        return True  # every job of a Ray replica trains in an actor

    def warm_up(self) -> None:
        pass  # the spare actors started with the pool

    def start(self, job: PolledJob) -> None:
        """A newly admitted job gets a place in an actor."""
        if job.seat is None and job.status == Status.STARTING and not self._closed.is_set():
            job.seat = Seat()
            self._place(job, stack_key_of(job))

    def send(self, job: PolledJob, cmd: tuple) -> None:
        """Straight to its actor (Ray keeps one caller's calls to an actor in order)."""
        actor = job.seat.actor
        if actor is not None:
            actor.command.remote(job.id, *cmd)

    def weights(self, job: PolledJob, index: int) -> bytes | None:
        return job.held(index)

    def close(self, timeout: float = 10.0) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            hosts, self._hosts = self._hosts, []
            spare, self._spare = self._spare, []
        if not self._ray.is_initialized():
            return  # Ray is down (process exit): the actors went with it
        for host in hosts:
            for job in host.members.values():
                job.seat.actor = job.seat.host = job.seat.inflight = None
        for actor, _ in spare + [(h.actor, h.name) for h in hosts]:
            self._kill_actor(actor)
        registry = self._manager.registry
        if registry is not None:
            registry.leave.remote(self._manager.replica)

    # ---- actors ------------------------------------------------------------------------------------------------
    def _wants_gpu(self, job: PolledJob, key) -> bool:
        if not self.has_gpus or self.run_gpus <= 0:
            return False
        if key is not None:
            return str(key.device).startswith("cuda")
        configs = getattr(job.spec, "configs", ())
        config = configs[0] if configs else None
        return config is not None and not getattr(config, "is_toy", True) and getattr(config, "device", "cpu") != "cpu"

    def _new_actor(self, gpu: bool = False) -> tuple[Any, str]:
        """A TrainActor (`ganlab-run-...`): one process stepping on one thread (torch threads: `threads`, else 1 on
        a CPU), placing its jobs as this replica's manager does."""
        name = f"ganlab-run-{self._manager.replica}-{next(self._names)}"
        opts = {"name": name, "namespace": NAMESPACE, "num_cpus": self.run_cpus, "max_restarts": 0}
        if gpu:
            opts["num_gpus"] = self.run_gpus
        threads = self.threads if self.threads is not None else (None if gpu else 1)
        return self._actor_class.options(**opts).remote(threads, self.checkpoint_s, self._manager.stacking), name

    def _refill(self) -> None:
        """Keep `spares` warm actors: a Start then trains at once instead of after a process start."""
        with self._lock:
            missing = 0 if self._closed.is_set() else self.spares - len(self._spare)
        for _ in range(max(0, missing)):
            made = self._new_actor()
            with self._lock:
                self._spare.append(made)

    def _place(self, job: PolledJob, key, resume=None, paused: bool = False) -> None:
        """The job joins an actor with room for its stack key (key None: an actor of its own; a new one when
        none has room), which builds it from its RunSpec, with its live changes so far and a pause first."""
        gpu = self._wants_gpu(job, key)
        with self._lock:
            host = next((h for h in self._hosts if key is not None and h.key == key and h.has_room()), None)
            spare = None
            if host is None:
                spare = self._spare.pop(0) if self._spare and not gpu else None
                actor, name = spare or self._new_actor(gpu)
                host = Host(actor, name, key, capacity(gpu) if key is not None else 1, gpu)
                self._hosts.append(host)
            host.members[job.id] = job
            seat = job.seat
            seat.host, seat.actor, seat.name = host, host.actor, host.name
            host.actor.start.remote(job.id, job.spec, job.label, list(job.applied), resume, paused)
            for cmd in job.arrived():
                if cmd[0] != "apply":  # live changes went in with `start`
                    host.actor.command.remote(job.id, *cmd)
            self._ensure_poller()
        if spare is not None:
            self._refill()

    def _ensure_poller(self) -> None:
        """Called with the lock held."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="ray-job-poller", daemon=True)
            self._thread.start()

    def _kill_actor(self, actor) -> None:
        try:
            self._ray.kill(actor)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _drop(self, job: PolledJob) -> None:
        """The job leaves its actor; an actor left empty waits as a spare (a CPU one, when one is missing) or is
        killed (its process and its share of the cluster are freed)."""
        seat = job.seat
        with self._lock:
            host = seat.host
            seat.actor = seat.host = seat.inflight = None
            if host is None:
                return
            host.members.pop(job.id, None)
            if host.members or host not in self._hosts:
                return
            self._hosts.remove(host)
            keep = not self._closed.is_set() and not host.gpu and len(self._spare) < self.spares
            if keep:
                self._spare.append((host.actor, host.name))
        if not keep:
            self._kill_actor(host.actor)

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
        with self._lock:
            hosts = list(self._hosts)
        for host in hosts:
            if host.inflight is None and host.members:
                host.inflight = host.actor.poll.remote(host.known())
        refs = [h.inflight for h in hosts if h.inflight is not None]
        if not refs:
            return
        ready = set(self._ray.wait(refs, num_returns=len(refs), timeout=POLL_S)[0])
        for host in hosts:
            if host.inflight is not None and host.inflight in ready:
                self._answered(host)

    def _answered(self, host: Host) -> None:
        ref, host.inflight = host.inflight, None
        try:
            reports = self._ray.get(ref)
        except self._ray.exceptions.ActorUnavailableError:
            return  # unreachable for a moment: ask again
        except self._ray.exceptions.RayActorError:
            self._host_lost(host)
            return
        for jid, report in reports.items():
            job = host.members.get(jid)
            if job is None:
                continue  # it left the actor meanwhile (stopped here, or restarted)
            if job.take(report):
                self._finished(job)

    def _host_lost(self, host: Host) -> None:
        """An actor (or its node) died: each of its jobs continues alone from its own newest checkpoint."""
        with self._lock:
            if host in self._hosts:
                self._hosts.remove(host)
            members = list(host.members.values())
        self._kill_actor(host.actor)
        for job in members:
            self._lost(job)

    def _finished(self, job: PolledJob) -> None:
        snaps = job.snapshots()
        if snaps:
            job.seat.final_ref = self._ray.put(snaps)
        self._drop(job)
        job.end()

    def _lost(self, job: PolledJob) -> None:
        """The job's actor (or its node) died: continue from the newest checkpoint in a new actor of its own."""
        self._drop(job)
        if job.stop_requested or self._closed.is_set():
            job.end(Status.STOPPED)
            return
        ck = job.checkpoint
        if len(job.restarts) >= MAX_RESTARTS:
            job.fail(f"the worker running this run failed {len(job.restarts) + 1} times; the run stopped (its "
                     f"last checkpoint is at step {ck.step if ck is not None else 0})")
            return
        progress = job.progress()
        start = ck.step if ck is not None else 0
        lost = max(0, max((p[0] for p in progress), default=0) - start)
        job.restarts.append((start, lost))
        job.note = job.error = (f"restarted from step {start} after a worker failure ({lost} steps lost)"
                                if ck is not None else "restarted from the beginning after a worker failure")
        steps = ck.steps if ck is not None else (0,) * len(progress)
        job._progress = tuple((s, p[1]) for s, p in zip(steps, progress))
        paused = job.status == Status.PAUSED
        job.status = Status.STARTING
        self._place(job, None, resume=ck, paused=paused)
