"""Process-wide job manager: admits runs under caps, steps them fairly on a worker pool, and cleans up.

A runner is anything that satisfies ganlab.jobs.runner.Runner (step, snapshot, apply, park, release, status,
step_count, budget, log_every). A job holds one or more runners (the Mode collapse lab's A and B) that
advance together, one logging interval at a time. Pages talk to a job only through its methods (commands go
into a queue the worker drains between chunks) and read `job.snapshots()` (heavy: points, heat-map, grids)
or `job.progress()` (cheap: steps and status, read from the runners without a snapshot). Workers never touch
Streamlit. Job statuses are ganlab.jobs.status.Status; a runner's own are ganlab.engine.loop.RunStatus.

Admitted jobs (at most `max_running` at once, `max_running_per_owner` per owner) all advance: a WorkerPool
(ganlab/jobs/pool.py) gives each a time slice in turn. Only jobs beyond the caps wait in a queue. A submit is
refused beyond `max_jobs_per_owner` active jobs of its owner, and, when the teacher sets it, beyond
`max_jobs_per_address` active jobs of all owners from one client address (ganlab/jobs/clients.py).
"""
from __future__ import annotations

import atexit
import itertools
import os
import queue
import threading
import time
import traceback
from typing import Any, Callable, Sequence

from ganlab import store as _store
from ganlab.engine.loop import RunStatus
from ganlab.i18n import _
from ganlab.jobs import clients, cost, memory
from ganlab.jobs.placement import ALONE, STACK, Placement, place
from ganlab.jobs.pool import WorkerPool
from ganlab.jobs.runner import Runner
from ganlab.jobs.stacking import Stacker
from ganlab.jobs.status import ACTIVE, FINISHED, HOLDS_WORKER, Status

CHUNK_S = 0.5  # a running job steps at most about this long between two looks at its commands and snapshots
SNAPSHOT_SHARE = 0.1  # under load, a job publishes every SNAPSHOT_SHARE * (runnable jobs / workers) seconds
MAX_RUNNING_FLOOR = 40  # default cap on admitted jobs: a class of 30 (+ a few A/B pairs) all train at once
PER_ADDRESS_ENV = "GANLAB_MAX_RUNS_PER_ADDRESS"  # 0 or unset: no per-address cap (a class behind one NAT)
# A student whose last tab closed (a shut lid): "pause" (the default) pauses their runs after the grace period
# and stops them, resumable from the run store, AWAY_KEEP_ENV seconds later; "stop" stops them at once.
LEFT_RUNS_ENV = "GANLAB_LEFT_RUNS"
AWAY_KEEP_ENV = "GANLAB_AWAY_KEEP_S"
AWAY_KEEP_S = 3 * 3600.0  # a paused run of an absent student holds its memory for the rest of the lesson


class JobLimitError(RuntimeError):
    """Too many runs for this user (the message says how many are allowed)."""


class Job:
    _ids = itertools.count(1)
    address: str | None = None  # the client address that submitted it (None: unknown, the CLI, another process)
    _stopping = False  # a stop was asked for: no longer counted against the per-address cap
    trains_here = True  # its runners step in this process (a PolledJob's train elsewhere)
    store_key: str | None = None  # its row in the run store (ganlab/store/), None: not stored
    saves = None  # ganlab.jobs.saves.JobSaves when this process saves its checkpoints
    away = False  # paused or stopped because its student left (the store lists it as paused, resumable)

    def __init__(self, manager: "Executor", owner: str, factory: Callable[[], Sequence[Runner]], label: str,
                 snapshot_every_s: float, page: str = "", meta: dict | None = None):
        self.id = next(Job._ids)
        self.owner, self.label, self.page = owner, label, page
        self.meta = dict(meta or {})  # what the Class page shows beside the run, e.g. {"preset": "ring-fixed"}
        self.created = time.time()
        self.status = Status.QUEUED
        self.error: str | None = None
        self.runners: list[Runner] = []
        self._manager, self._factory = manager, factory
        self._snapshot_every_s = snapshot_every_s
        self._cmds: queue.SimpleQueue = queue.SimpleQueue()
        self._calls: queue.SimpleQueue = queue.SimpleQueue()  # between_steps requests, served by the worker
        self._step_req: int | None = None  # a "step once" drained by a bookkeeping turn, stepped at the next slice
        self._lock = threading.Lock()
        self._snapshots: tuple = ()
        self._version = 0
        self._step_s: float | None = None  # seconds per G step (all runners), averaged over recent chunks
        self._boundary = False  # the last chunk of a slow run ended on a logging step
        self._done = threading.Event()  # set once the job has finished and parked its runners
        self.placement: Placement = ALONE  # where it trains (ganlab/jobs/placement.py), set when admitted
        self._group = None  # its StackGroup (ganlab/jobs/stacking.py), which steps it, or None
        self._last_publish = 0.0

    # ---- commands from pages (any thread) --------------------------------------------------------------
    def pause(self) -> None:
        self._command(("pause",))

    def resume(self) -> None:
        self._command(("resume",))

    def step_once(self, n: int | None = None) -> None:
        """Advance one chunk (n G steps, default one logging interval) while paused."""
        self._command(("step", n))

    def stop(self) -> None:
        self._stopping = True
        if self.status == Status.QUEUED:
            self._manager._cancel_queued(self)
        self._command(("stop",))

    def apply(self, index: int | None = None, **changes: Any) -> None:
        """Change live settings of runner `index` (None: all runners)."""
        self._command(("apply", index, changes))

    def perform(self, cmd: tuple) -> None:
        """A command in the form `_command` receives it, sent by another process (a RayJob's or a ProcJob's):
        ("pause",) ("resume",) ("stop",) ("step", n) ("apply", index, changes)."""
        name, args = cmd[0], cmd[1:]
        if name == "apply":
            self.apply(args[0], **args[1])
        elif name == "step":
            self.step_once(*args)
        elif name in ("pause", "resume", "stop"):
            getattr(self, name)()
        else:
            raise ValueError(f"unknown job command {name!r}")

    def _command(self, cmd: tuple) -> None:
        self._cmds.put(cmd)
        self._wake()

    def between_steps(self, fn: Callable[["Job"], None]) -> None:
        """Call fn(job) in the job's worker at its next step boundary, where reading its runners cannot race a
        step (a weights copy for another process: ganlab/jobs/train_process/server.py). Soon: a bookkeeping turn
        is queued for it, whatever its share. A job not started yet calls it at its first turn, a finished one
        never (its runners are parked: read them directly)."""
        self._calls.put(fn)
        self._wake()

    def _wake(self) -> None:
        """Something waits on the job: its entity (the job, or its stack group) gets a bookkeeping turn before any
        slice, then its turns (a paused job's only ones are these)."""
        if self.status not in (Status.QUEUED, *FINISHED):
            self._manager._pool.command(self._group or self)

    def weight(self) -> int:
        """Its share of the workers' time (ganlab/jobs/pool.py): one per run it steps (an A/B job 2)."""
        return max(1, len(self.runners))

    # ---- reading (any thread) ------------------------------------------------------------------------------
    def snapshots(self) -> tuple:
        with self._lock:
            return self._snapshots

    @property
    def version(self) -> int:
        """Bumped at each published snapshot: a page redraws only when it changed."""
        return self._version

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def queue_position(self) -> int | None:
        return self._manager._queue_position(self)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the job has finished (True) or `timeout` passed (False)."""
        return self._done.wait(timeout)

    def progress(self) -> tuple[tuple[int, str], ...]:
        """(step_count, runner status) per runner, read live without building a snapshot (cheap, any thread)."""
        return tuple((r.step_count, r.status) for r in self.runners)

    # ---- worker side ----------------------------------------------------------------------------------------
    def _publish(self) -> None:
        snaps = tuple(r.snapshot() for r in self.runners)
        with self._lock:
            self._snapshots = snaps
            self._version += 1

    def _drain(self) -> tuple[bool, int | None]:
        """Apply queued commands. Returns (stop requested, steps asked by 'step once')."""
        stop, step_n = False, None
        try:
            while True:
                cmd = self._cmds.get_nowait()
                if cmd[0] == "pause" and self.status == Status.RUNNING:
                    self.status = Status.PAUSED
                    self._hold(True)
                    self._publish()  # the page must show the step it paused at, not one chunk before
                elif cmd[0] == "resume" and self.status == Status.PAUSED:
                    self.status = Status.RUNNING
                    self._hold(False)
                elif cmd[0] == "stop":
                    stop = True
                elif cmd[0] == "step":
                    step_n = cmd[1] or 0
                elif cmd[0] == "apply":
                    _, index, changes = cmd
                    targets = self.runners if index is None else [self.runners[index]]
                    try:
                        for r in targets:
                            r.apply(**changes)
                        self.error = None
                    except ValueError as e:  # ConfigError: shown on the page, the run goes on
                        self.error = str(e)
                    self._publish()
        except queue.Empty:
            pass
        return stop, step_n

    def _serve_calls(self) -> None:
        try:
            while True:
                fn = self._calls.get_nowait()
                try:
                    fn(self)
                except Exception:  # noqa: BLE001 - a failed request must not end the run
                    traceback.print_exc()
        except queue.Empty:
            pass

    def _hold(self, paused: bool) -> None:
        """A stacked job's member sits out (or rejoins) its group's steps."""
        if self._group is not None:
            for r in self.runners:
                r.pause() if paused else r.resume()

    def _fail(self, e: Exception) -> None:
        self.status = Status.ERROR
        self.error = f"{type(e).__name__}: {e}"
        self._finish()

    def _advance(self, n: int | None, slice_s: float = CHUNK_S) -> None:
        """n None: one chunk of about slice_s (see _chunk); n 0: one logging interval (Step); else n G steps."""
        live = [r for r in self.runners if r.status != RunStatus.DIVERGED and r.step_count < r.budget]
        self._boundary = False
        if not live:
            return
        interval = min(r.log_every for r in live)
        k = self._chunk(live, interval, slice_s) if n is None else n or interval
        t0 = time.perf_counter()
        for r in live:
            r.step(min(k, r.budget - r.step_count))
        per = (time.perf_counter() - t0) / k
        self._step_s = per if self._step_s is None else 0.7 * self._step_s + 0.3 * per  # smoothed: steps jitter
        # a slow run that just finished a logging interval publishes at once (image runs add a timeline frame)
        self._boundary = n is None and k < interval and live[0].step_count % interval == 0

    def _chunk(self, live: list[Runner], interval: int, slice_s: float = CHUNK_S) -> int:
        """G steps per slice while running: up to the next logging step, and fewer when that would take longer
        than the slice (a DCGAN on a CPU, or a full class sharing the workers), so snapshots and commands are
        still handled about every slice. The runners advance together; their speed is a moving average over
        chunks (the first chunk, one step, measures it)."""
        if self._step_s is None:
            return 1
        k = max(1, min(interval, int(slice_s / max(self._step_s, 1e-9))))
        return min(k, interval - live[0].step_count % interval)  # chunks end on logging steps

    def _finished(self) -> bool:
        return all(r.status == RunStatus.DIVERGED or r.step_count >= r.budget for r in self.runners)

    def _snapshot_due(self, now: float) -> bool:
        """Publish every snapshot_every_s, or less often under load: building a toy snapshot (heat-map, samples,
        arrows) costs a few steps' time, and 30 jobs publishing 4 times a second would eat a core."""
        every = max(self._snapshot_every_s, SNAPSHOT_SHARE * self._manager.running_jobs() / self._manager.workers)
        return now - self._last_publish >= every

    def tend(self) -> bool:
        """A bookkeeping turn (the pool's answer to a command): apply commands and serve between_steps calls,
        without stepping, so a command never waits for the job's share of time. True while there is more to do."""
        if self.status == Status.STARTING:
            return True  # its first slice builds the runners, then applies what waits
        return self._turn(0.0, step=False)

    def run_slice(self, seconds: float) -> bool:
        """One turn on a worker: start the runners if needed, apply commands, step for about `seconds`.
        Returns True while there is more to do without a new command (the pool queues the job again)."""
        return self._turn(seconds, step=True)

    def _turn(self, seconds: float, step: bool) -> bool:
        if self._done.is_set() or self.status in FINISHED:
            return False
        try:
            if self.status == Status.STARTING:
                self.runners = list(self._factory())
                self._factory = None
                self.status = Status.RUNNING
                self._publish()
                self._last_publish = time.monotonic()
            stop, step_n = self._drain()
            if step_n is not None:
                self._step_req = step_n
            self._serve_calls()
            saves = self.saves
            if saves is not None and step and self.status == Status.RUNNING and saves.due():
                _call(saves.save)  # between slices, at a logging step: ~10 s of training lost at most
            if stop:
                self.status = Status.STOPPED
            elif step and self._work_pending():
                self._do_work(seconds)
            elif step and (self.status == Status.RUNNING or self._step_req is not None):
                step_n, self._step_req = self._step_req, None
                if self._group is None or step_n is not None:  # a stacked run is stepped by its group
                    self._advance(step_n, seconds)
                now = time.monotonic()
                if step_n is not None or self._boundary or self._finished() or self._snapshot_due(now):
                    self._publish()
                    self._last_publish = now
                if self._finished():
                    diverged = any(r.status == RunStatus.DIVERGED for r in self.runners)
                    self.status = Status.DIVERGED if diverged else Status.DONE
        except Exception as e:  # a broken run must never take the server down
            self.status = Status.ERROR
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        if self.status in FINISHED:
            self._finish()
            return False
        return self.status == Status.RUNNING or self._step_req is not None or self._work_pending()

    def _work_pending(self) -> bool:
        """A runner has queued work that is not G steps (Theory1D's "train D to optimum": `pending_work()`)."""
        return any(getattr(r, "pending_work", None) is not None and r.pending_work() for r in self.runners)

    def _do_work(self, seconds: float) -> None:
        """About `seconds` of the runners' queued work (`work(seconds)`), paused or not: it is charged to this
        job's share like steps, and its commands are applied between slices. Published when it is done."""
        for r in self.runners:
            if getattr(r, "pending_work", None) is not None and r.pending_work():
                r.work(seconds)
        if not self._work_pending():
            self._publish()
            self._last_publish = time.monotonic()

    def _finish(self) -> None:
        try:
            if self.runners:
                self._publish()
            if self.saves is not None:
                _call(self.saves.before_park)
            for r in self.runners:
                r.park()
            if self.saves is not None:
                _call(self.saves.after_park)
        except Exception:
            traceback.print_exc()
        finally:
            self._done.set()
            self._manager._on_finished(self)


def _call(fn) -> None:
    """A failed save is logged; the run goes on (ganlab/jobs/saves.py)."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        traceback.print_exc()


def left_runs_default() -> str:
    """GANLAB_LEFT_RUNS: "pause" (unset, or anything else) or "stop"."""
    return "stop" if os.environ.get(LEFT_RUNS_ENV, "").strip().lower() == "stop" else "pause"


def away_keep_default() -> float:
    try:
        value = float(os.environ.get(AWAY_KEEP_ENV, "").strip() or AWAY_KEEP_S)
    except ValueError:
        return AWAY_KEEP_S
    return value if value >= 0 else AWAY_KEEP_S


def per_address_default() -> int:
    """GANLAB_MAX_RUNS_PER_ADDRESS as a whole number >= 0 (0, unset or not a number: no per-address cap)."""
    try:
        return max(0, int(os.environ.get(PER_ADDRESS_ENV, "0").strip() or 0))
    except ValueError:
        return 0


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

    def run(self, factory: Callable[[], Sequence[Runner]], label: str = "run", store_key: str | None = None) -> Job:
        """Start a job whose runners `factory()` builds, now, where `placement.place(factory)` says.
        `store_key`: its row in the run store, which the admitting process made (its checkpoints go there)."""
        job = self._new_job(place(factory, self.stacking), "", factory, label, "", None, store_key)
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
        config, points = placement.config, placement.points
        job._group = group
        job._factory = lambda: [MemberRunner.add(group.engine, config, points=points)]
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


class JobManager(Executor):
    """The server's admission over its Executor: caps, the queue, owners, tabs, the grace period, the reaper,
    the class's cost limits. max_running: admitted jobs at once (all of them train, sharing `workers` threads);
    the rest queue. job_class: what submit creates (the Ray backend's RayJob runs its runners in a Ray actor;
    ganlab/jobs/ray_backend/)."""

    def __init__(self, max_running: int | None = None, max_running_per_owner: int = 2,
                 max_jobs_per_owner: int = 4, keep_finished_per_owner: int = 4, idle_timeout_s: float = 300.0,
                 snapshot_every_s: float = 0.25, workers: int | None = None, stacking: bool | None = None,
                 max_jobs_per_address: int | None = None):
        super().__init__(workers, snapshot_every_s, stacking)
        self.max_running = max_running or max(MAX_RUNNING_FLOOR, 4 * (os.cpu_count() or 2))
        # what one run may cost (ganlab/jobs/cost/): none here (the CLI); the server's manager() sets the
        # class's limits, which the teacher may raise
        self.limits = cost.Limits()
        self.max_running_per_owner = max_running_per_owner
        self.max_jobs_per_owner = max_jobs_per_owner
        # active jobs of all owners from one client address; 0: no cap. The teacher may change it while serving.
        self.max_jobs_per_address = (per_address_default() if max_jobs_per_address is None
                                     else max(0, max_jobs_per_address))
        self.keep_finished_per_owner = keep_finished_per_owner
        self.idle_timeout_s = idle_timeout_s
        self._queue: list[Job] = []
        self._last_seen: dict[str, float] = {}
        self._release_at: dict[str, float] = {}
        self._sessions: dict[str, set[str]] = {}  # owner -> its open browser sessions (tabs)
        self._reaper: threading.Thread | None = None
        self.left_runs = left_runs_default()  # what happens to a student's runs when they left: pause | stop
        self.away_keep_s = away_keep_default()
        self._away: dict[str, float] = {}  # owner -> when their runs were paused because they left

    # ---- submitting -------------------------------------------------------------------------------------------
    def submit(self, owner: str, factory: Callable[[], Sequence[Runner]], label: str = "run", page: str = "",
               meta: dict | None = None, address: str | None = None, store_key: str | None = None) -> Job:
        """Queue a job whose runners `factory()` builds in a worker. `page` tags the page that started it (a
        reloaded page finds its run again). Where it trains is `placement.place(factory)`: one student's single
        2-D toy run joins a class-engine group instead of building `factory` (ganlab/jobs/stacking.py).
        `address`: the client address of the page that asked (counted against `max_jobs_per_address`).
        `store_key`: its row in the run store when another process made it (else a RunSpec of 2-D toy or image
        runs gets a new row when the manager has a store).
        Raises JobLimitError, also for a run dearer than the class limits allow."""
        why = self.limits.refusal(factory)  # outside the lock: the first one calibrates (~0.1 s)
        if why:
            raise JobLimitError(why)
        key = store_key or self._store_row(owner, factory, label, page, meta)
        try:
            return self._admit(owner, factory, label, page, meta, address, key)
        except JobLimitError:
            if key is not None and store_key is None:
                self.store.index.delete(key)
            raise

    def _store_row(self, owner: str, factory, label: str, page: str, meta: dict | None) -> str | None:
        """A new run's row in the store (outside the lock: a short SQLite write), for runs it can save."""
        configs = getattr(factory, "configs", None)
        if self.store is None or not configs or not all(hasattr(c, "is_toy") for c in configs):
            return None
        try:
            key = self.store.create(owner, page, str((meta or {}).get("preset", "")), label, configs)
            points = getattr(factory, "points", None)
            if points is not None:
                self.store.save_points(key, points)
            return key
        except Exception:  # noqa: BLE001 - a broken disk must not keep a class from training
            traceback.print_exc()
            return None

    def _admit(self, owner: str, factory, label: str, page: str, meta: dict | None, address: str | None,
               key: str | None) -> Job:
        placement = place(factory, self.stacking)  # outside the lock: the stack key builds the networks' shapes
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and j.active]
            if len(mine) >= self.max_jobs_per_owner:
                raise JobLimitError(_("you already have {n} runs going (the limit is {limit}); stop one first")
                                    .format(n=len(mine), limit=self.max_jobs_per_owner))
            cap = self.max_jobs_per_address
            if cap and address is not None:
                key = clients.guess_key(address)  # an IPv6 client counts by its /64: it can pick any address in it
                n = sum(1 for j in self._jobs.values()
                        if j.address is not None and clients.guess_key(j.address) == key and j.active
                        and not j._stopping)
                if n >= cap:
                    raise JobLimitError(_("{n} runs are already going from your computer's network address (the "
                                          "teacher's limit is {limit}); stop one first, or ask your teacher")
                                        .format(n=n, limit=cap))
            job = self._new_job(placement, owner, factory, label, page, meta, key)
            job.address = address
            self._jobs[job.id] = job
            self._queue.append(job)
            self._touch_locked(owner)
            self._dispatch()
            self._ensure_reaper()
            return job

    def _running(self, owner: str | None = None) -> int:
        return sum(1 for j in self._jobs.values() if j.status in HOLDS_WORKER and (owner is None or j.owner == owner))

    def _dispatch(self) -> None:
        with self._lock:
            for job in list(self._queue):
                if self._running() >= self.max_running:
                    break
                if self._running(job.owner) >= self.max_running_per_owner:
                    continue
                self._queue.remove(job)
                job.status = Status.STARTING
                self._start(job)

    def warm_up(self) -> None:
        """Start what the first run will need (nothing here; the training process in ProcessJobManager)."""

    def _queue_position(self, job: Job) -> int | None:
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else None

    def _cancel_queued(self, job: Job) -> None:
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job.status = Status.STOPPED
                job._done.set()

    def _on_finished(self, job: Job) -> None:
        super()._on_finished(job)
        with self._lock:
            finished = sorted((j for j in self._jobs.values() if j.owner == job.owner and j.status in FINISHED),
                              key=lambda j: j.id)
            for old in finished[: max(0, len(finished) - self.keep_finished_per_owner)]:
                self._forget(old)
            self._dispatch()

    # ---- reading --------------------------------------------------------------------------------------------
    def jobs_of(self, owner: str) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.owner == owner), key=lambda j: j.id)

    def latest(self, owner: str, page: str) -> Job | None:
        """The owner's newest job started on `page` (a reloaded page shows it again)."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and j.page == page]
            return max(mine, key=lambda j: j.id) if mine else None

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"running": self._running(), "queued": len(self._queue), "max_running": self.max_running,
                    "workers": self._pool.workers}

    def open_tabs(self) -> int:
        """Browser sessions (tabs) open on this server now, every student's together."""
        with self._lock:
            return sum(len(tabs) for tabs in self._sessions.values())

    # ---- session lifetime ---------------------------------------------------------------------------------
    def touch(self, owner: str, session: str | None = None) -> None:
        """A page of this owner is alive (call on every rerun / fragment tick); `session` names the tab."""
        with self._lock:
            self._touch_locked(owner)
            if session is not None:
                self._sessions.setdefault(owner, set()).add(session)

    def _touch_locked(self, owner: str) -> None:
        self._last_seen[owner] = time.monotonic()
        self._release_at.pop(owner, None)
        self._away.pop(owner, None)  # back: their paused runs wait for their Resume

    def release_owner(self, owner: str, grace_s: float = 0.0, session: str | None = None) -> None:
        """A session of the owner ended: once none of its sessions is left, stop its runs after `grace_s`
        unless it comes back (touch: a reload, a reconnect) first."""
        with self._lock:
            if session is not None:
                open_tabs = self._sessions.get(owner, set())
                open_tabs.discard(session)
                if open_tabs:
                    return  # another tab of the same student is still open
                self._sessions.pop(owner, None)
            self._release_at[owner] = time.monotonic() + grace_s
        if grace_s <= 0:
            self._reap()

    def pause_owner(self, owner: str) -> None:
        """The student left: their running jobs pause (queued ones stop: they hold nothing yet); the runs stay
        for away_keep_s, then stop, their newest checkpoints resumable from the store."""
        with self._lock:
            self._release_at.pop(owner, None)
            self._last_seen.pop(owner, None)
            self._away.setdefault(owner, time.monotonic())
        for j in self.jobs_of(owner):
            if j.status in (Status.RUNNING, Status.STARTING):
                j.away = True
                j.pause()
            elif j.status == Status.QUEUED:
                j.away = True
                j.stop()

    def stop_owner(self, owner: str, forget: bool = True, timeout: float = 10.0) -> None:
        """Stop every job of `owner`, wait for the workers, and free their runners."""
        jobs = self.jobs_of(owner)
        with self._lock:
            away = self._away.pop(owner, None) is not None
        for j in jobs:
            j.away = j.away or away
            j.stop()
        for j in jobs:
            j.join(timeout)
        if forget:
            with self._lock:
                for j in jobs:
                    if j.status in FINISHED:
                        self._forget(j)
                self._last_seen.pop(owner, None)
                self._release_at.pop(owner, None)
                self._sessions.pop(owner, None)

    def _reap(self) -> None:
        """Pause (left_runs "pause") or stop the runs of owners who left; stop the paused runs of owners away
        longer than away_keep_s (their checkpoints stay in the store, resumable); forget owners who never
        started a run."""
        now = time.monotonic()
        with self._lock:
            owners = {o for o, t in self._release_at.items() if t <= now}
            owners |= {o for o, t in self._last_seen.items() if now - t > self.idle_timeout_s}
            gone = {o for o, t in self._away.items() if now - t >= self.away_keep_s}
        for owner in owners - gone:
            if self.left_runs == "pause" and self.store is not None:
                self.pause_owner(owner)
            else:
                self.stop_owner(owner)
        for owner in gone:
            self.stop_owner(owner)
        with self._lock:
            with_jobs = {j.owner for j in self._jobs.values()}
            for o in [o for o in self._last_seen if o not in with_jobs and o not in self._release_at]:
                del self._last_seen[o]  # a page visit without a run leaves nothing behind

    def _ensure_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, name="ganlab-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        """Every 2 s; the thread ends when no job is left (submit starts it again), so an empty server has
        no ganlab threads."""
        while not self._closed.wait(2.0):
            try:
                self._reap()  # not under the lock: stopping a run waits for its worker, which takes the lock
                with self._lock:
                    idle = not (self._jobs or self._release_at or self._away)
                    if idle:
                        self._reaper = None
                if idle:
                    memory.trim()  # the class left: give its freed memory back to the system
                    return
            except Exception:
                traceback.print_exc()

    def shutdown(self, timeout: float = 10.0) -> None:
        """The executor's shutdown; then the owners, tabs and the reaper go."""
        deadline = time.monotonic() + timeout
        super().shutdown(timeout)
        with self._lock:
            self._last_seen.clear()
            self._release_at.clear()
            self._sessions.clear()
            self._away.clear()
        reaper = self._reaper
        if reaper is not None:
            reaper.join(max(0.0, deadline - time.monotonic()))


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()
EXIT_TIMEOUT_S = 5.0


def manager(kind: type[JobManager] = JobManager) -> JobManager:
    """The process-wide manager (one per server; every session's runs are in it, keyed by owner). `kind`: the
    backend's manager class (ganlab.jobs.manager() picks it); a manager of another kind is shut down first."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is not None and type(_MANAGER) is not kind:
            _MANAGER.shutdown(EXIT_TIMEOUT_S)
        if _MANAGER is None or _MANAGER._closed.is_set():
            first = _MANAGER is None
            _MANAGER = kind(max_running=int(os.environ.get("GANLAB_MAX_RUNNING", "0")) or None,
                            workers=int(os.environ.get("GANLAB_WORKERS", "0")) or None)
            _MANAGER.limits = cost.Limits.from_env()  # the class's limits: only the server's manager has them
            _MANAGER.store = _store.default_or_none()  # every run's newest checkpoint on disk (GANLAB_STORE=0: none)
            if first:  # after the manager (and what it started, e.g. Ray): exit hooks run last-registered first
                atexit.register(_shutdown_at_exit)
        return _MANAGER


def _shutdown_at_exit() -> None:
    """Process exit (Ctrl-C or SIGTERM to `streamlit run`, end of a script): stop the workers before the
    interpreter tears down. A worker thread still inside a torch op at that moment aborts the whole process
    ("terminate called without an active exception", exit status 134)."""
    m = _MANAGER
    if m is not None and not m._closed.is_set():
        m.shutdown(EXIT_TIMEOUT_S)
