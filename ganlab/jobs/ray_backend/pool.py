"""RayPool: the Ray backend's transport (ganlab/jobs/transport.py): every job of a replica trains in an actor.

Admitting a job (`start`) gives it an actor. A student's single toy run that the class
engine stacks (groups.py: placed STACK, ganlab/jobs/placement.py)
joins a group actor (group_actor.py, `ganlab-group-<replica>-<n>`) that has room for its stack key: up to
CPU_MEMBERS (GPU_MEMBERS) such runs train there in one vectorised step, as in a single server's stack groups;
a new group actor is made when none has room. Every other job gets a JobActor (actor.py) of its own, named
`ganlab-run-<replica>-<n>`. Either actor asks Ray for RUN_CPUS of a CPU (one process stepping on one thread,
whether it holds one run or a group; a share of a GPU for image runs when the cluster has GPUs), so Ray places
it on whichever node has room. A new actor's process first imports torch and the training stack (seconds of
CPU), so the pool keeps SPARES JobActors warm and hands one to the next job, and, once a first group was
needed (a class is here), SPARES group actors as well; a group actor whose members all ended waits as a spare
(if one is missing) or is killed, freeing its process and its share of the cluster.

One thread per replica then polls every live actor (one call in flight per actor, about every POLL_S; a group
actor answers for all its members in one call) and hands the answers to the jobs, publishes this replica's
jobs to the registry every PUBLISH_S, and handles failures:

A poll that fails with RayActorError means the actor or its node died. Unless the job was being stopped, a new
actor continues it from the newest checkpoint the job holds (saved every CHECKPOINT_S of training,
ganlab/jobs/ray_backend/checkpoints.py), paused if it was paused, with every live change replayed; the job's
`error` tells the student "restarted from step N after a worker failure (M steps lost)". After MAX_RESTARTS
failures the job ends with status error and says so. When a group actor dies, each of its members is such a
job: each continues alone, in a JobActor of its own, from its own newest checkpoint (a group actor saves every
member every CHECKPOINT_S, group_actor.py), with its own message; no member is lost silently.

A finished job's actor is killed (a member leaves its group actor); its final snapshots stay in Ray's object
store for other replicas' Class pages and its final checkpoint stays in the job for the page's download and the
Latent space page.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from typing import Any

from ganlab.jobs.polled import PolledJob
from ganlab.jobs.ray_backend.actor import JobActor
from ganlab.jobs.ray_backend.checkpoints import CHECKPOINT_S
from ganlab.jobs.ray_backend.connect import NAMESPACE, connect
from ganlab.jobs.ray_backend.group_actor import GroupActor
from ganlab.jobs.ray_backend.groups import Group, Seat, capacity, group_key
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
        self._actor_class = ray.remote(JobActor)
        self._group_class = ray.remote(GroupActor)
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self._live: list[PolledJob] = []  # jobs with an actor (a group actor's members too)
        self._groups: list[Group] = []  # group actors with members
        self._spare: list[tuple[Any, str]] = []  # (actor, name): started, warm, no job yet
        self._spare_groups: list[tuple[Any, str]] = []  # group actors likewise (kept once a class is here)
        self._grouping = False  # a first group was made: keep spare group actors from now on
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
        """A newly admitted job gets its actor, or a place in a group actor."""
        if job.seat is None and job.status == Status.STARTING and not self._closed.is_set():
            job.seat = Seat()
            key = group_key(job)
            if key is None:
                self._start(job)
            else:
                self._join(job, key)

    def send(self, job: PolledJob, cmd: tuple) -> None:
        """Straight to its actor (Ray keeps one caller's calls to an actor in order); a group actor's member is
        addressed by its job id."""
        seat = job.seat
        group, actor = seat.group, seat.actor  # in this order: the pool sets the group first, and drops it last
        if group is not None and actor is group.actor:
            actor.command.remote(job.id, *cmd)
        elif actor is not None:
            actor.command.remote(*cmd)

    def weights(self, job: PolledJob, index: int) -> bytes | None:
        return job.held(index)

    def close(self, timeout: float = 10.0) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            live, self._live = self._live, []
            spare, self._spare = self._spare + self._spare_groups, []
            groups, self._groups, self._spare_groups = self._groups, [], []
        if not self._ray.is_initialized():
            return  # Ray is down (process exit): the actors went with it
        for job in live:
            self._kill(job)
        for actor, _ in spare + [(g.actor, g.name) for g in groups]:
            self._kill_actor(actor)
        registry = self._manager.registry
        if registry is not None:
            registry.leave.remote(self._manager.replica)

    # ---- actors ------------------------------------------------------------------------------------------------
    def _wants_gpu(self, job: PolledJob) -> bool:
        configs = getattr(job.spec, "configs", ())
        config = configs[0] if configs else None
        return (self.has_gpus and self.run_gpus > 0 and config is not None and not getattr(config, "is_toy", True)
                and getattr(config, "device", "cpu") != "cpu")

    def _new_actor(self, gpu: bool = False, group: bool = False) -> tuple[Any, str]:
        """A JobActor (`ganlab-run-...`) or, with `group`, a GroupActor (`ganlab-group-...`): the same request to
        Ray, one process stepping on one thread (torch threads: `threads`, else 1 on a CPU)."""
        kind, cls = ("group", self._group_class) if group else ("run", self._actor_class)
        name = f"ganlab-{kind}-{self._manager.replica}-{next(self._names)}"
        opts = {"name": name, "namespace": NAMESPACE, "num_cpus": self.run_cpus, "max_restarts": 0}
        if gpu:
            opts["num_gpus"] = self.run_gpus
        threads = self.threads if self.threads is not None else (None if gpu else 1)
        return cls.options(**opts).remote(threads, self.checkpoint_s), name

    def _refill(self) -> None:
        """Keep `spares` warm actors (a Start then trains at once instead of after a process start), and as many
        group actors once a first group was made."""
        with self._lock:
            closed = self._closed.is_set()
            missing = self.spares - len(self._spare) if not closed else 0
            missing_groups = self.spares - len(self._spare_groups) if self._grouping and not closed else 0
        for _ in range(max(0, missing)):
            made = self._new_actor()
            with self._lock:
                self._spare.append(made)
        for _ in range(max(0, missing_groups)):
            made = self._new_actor(group=True)
            with self._lock:
                self._spare_groups.append(made)

    def _start(self, job: PolledJob, resume=None, paused: bool = False) -> None:
        gpu = self._wants_gpu(job)
        with self._lock:
            spare = self._spare.pop(0) if self._spare and not gpu else None
        seat = job.seat
        seat.actor, seat.name = spare or self._new_actor(gpu)
        seat.actor.start.remote(job.spec, resume, paused, list(job.applied))
        for cmd in job.arrived():
            if cmd[0] != "apply":  # live changes went in with `start`
                seat.actor.command.remote(*cmd)
        with self._lock:
            self._live.append(job)
            self._ensure_poller()
        if spare is not None:
            self._refill()

    def _join(self, job: PolledJob, key) -> None:
        """The job becomes a member of a group actor with room for its stack key (a new one when none has)."""
        made = False
        gpu = self.has_gpus and self.run_gpus > 0 and str(key.device).startswith("cuda")  # else a CPU actor
        with self._lock:
            group = next((g for g in self._groups if g.key == key and g.has_room()), None)
            if group is None:
                spare = self._spare_groups.pop(0) if self._spare_groups and not gpu else None
                actor, name = spare or self._new_actor(gpu, group=True)
                group = Group(actor, name, key, capacity(gpu))
                self._groups.append(group)
                self._grouping = made = True
            group.members[job.id] = job
            seat = job.seat
            seat.group = group
            seat.actor, seat.name = group.actor, group.name
            group.actor.start.remote(job.id, job.spec, job.label, list(job.applied))
            for cmd in job.arrived():
                if cmd[0] != "apply":  # live changes went in with `start`
                    group.actor.command.remote(job.id, *cmd)
            self._live.append(job)
            self._ensure_poller()
        if made:
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

    def _kill(self, job: PolledJob) -> None:
        seat = job.seat
        actor, seat.actor, seat.inflight = seat.actor, None, None
        if actor is not None:
            self._kill_actor(actor)

    def _drop(self, job: PolledJob) -> None:
        """The job leaves its actor: a JobActor is killed; a group actor loses a member (and, left empty, waits
        as a spare or is killed)."""
        empty = None
        with self._lock:
            if job in self._live:
                self._live.remove(job)
            seat = job.seat
            group = seat.group
            if group is not None:  # the group actor stays: only the member leaves it
                seat.actor = seat.group = seat.inflight = None
                group.members.pop(job.id, None)
                if not group.members and group in self._groups:
                    self._groups.remove(group)
                    empty = group
        if group is None:
            self._kill(job)
        if empty is not None:
            self._retire(empty)

    def _retire(self, group: Group) -> None:
        """An empty group actor: kept warm as a spare when one is missing, else killed (its process and its share
        of the cluster are freed)."""
        with self._lock:
            keep = not self._closed.is_set() and len(self._spare_groups) < self.spares
            if keep:
                self._spare_groups.append((group.actor, group.name))
        if not keep:
            self._kill_actor(group.actor)

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
            seats = [(j, j.seat) for j in self._live if j.seat.group is None]
            groups = list(self._groups)
        for job, seat in seats:
            if seat.inflight is None and seat.actor is not None:
                seq = job.checkpoint.seq if job.checkpoint is not None else 0
                seat.inflight = seat.actor.poll.remote(job.version_seen, seq)
        for group in groups:
            if group.inflight is None and group.members:
                group.inflight = group.actor.poll.remote(group.known())
        refs = [seat.inflight for _, seat in seats if seat.inflight is not None]
        refs += [g.inflight for g in groups if g.inflight is not None]
        if not refs:
            return
        ready = set(ray.wait(refs, num_returns=len(refs), timeout=POLL_S)[0])
        for group in groups:
            if group.inflight is not None and group.inflight in ready:
                self._group_answered(group)
        for job, seat in seats:
            ref = seat.inflight
            if ref is None or ref not in ready:
                continue
            seat.inflight = None
            try:
                report = ray.get(ref)
            except ray.exceptions.ActorUnavailableError:
                continue  # unreachable for a moment: ask again
            except ray.exceptions.RayActorError:
                self._lost(job)
                continue
            if job.take(report):
                self._finished(job)

    def _group_answered(self, group: Group) -> None:
        ref, group.inflight = group.inflight, None
        try:
            reports = self._ray.get(ref)
        except self._ray.exceptions.ActorUnavailableError:
            return  # unreachable for a moment: ask again
        except self._ray.exceptions.RayActorError:
            self._group_lost(group)
            return
        for jid, report in reports.items():
            job = group.members.get(jid)
            if job is None:
                continue  # it left the group meanwhile (stopped here, or restarted)
            if job.take(report):
                self._finished(job)

    def _group_lost(self, group: Group) -> None:
        """A group actor (or its node) died: every member continues alone from its own newest checkpoint."""
        with self._lock:
            if group in self._groups:
                self._groups.remove(group)
            members = list(group.members.values())
        self._kill_actor(group.actor)
        for job in members:
            self._lost(job)

    def _finished(self, job: PolledJob) -> None:
        snaps = job.snapshots()
        if snaps:
            job.seat.final_ref = self._ray.put(snaps)
        self._drop(job)
        job.end()

    def _lost(self, job: PolledJob) -> None:
        """The job's actor (or its node) died: continue from the newest checkpoint in a new actor."""
        self._drop(job)
        if job.stop_requested or self._closed.is_set():
            job.end(Status.STOPPED)
            return
        if len(job.restarts) >= MAX_RESTARTS:
            start = job.checkpoint.step if job.checkpoint is not None else 0
            job.fail(f"the worker running this run failed {len(job.restarts) + 1} times; the run stopped (its "
                     f"last checkpoint is at step {start})")
            return
        self._rewind(job)
        paused = job.status == Status.PAUSED
        job.status = Status.STARTING
        self._start(job, resume=job.checkpoint, paused=paused)

    @staticmethod
    def _rewind(job: PolledJob) -> None:
        """Its actor died: note the failure for the student and go back to the newest checkpoint's steps."""
        ck = job.checkpoint
        start = ck.step if ck is not None else 0
        progress = job.progress()
        lost = max(0, max((p[0] for p in progress), default=0) - start)
        job.restarts.append((start, lost))
        job.note = job.error = (f"restarted from step {start} after a worker failure ({lost} steps lost)"
                                if ck is not None else "restarted from the beginning after a worker failure")
        steps = ck.steps if ck is not None else (0,) * len(progress)
        job._progress = tuple((s, p[1]) for s, p in zip(steps, progress))
