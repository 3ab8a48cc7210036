"""JobManager: the server's admission -- which runs may train, for whom, and for how long.

The JobManager is an Executor (ganlab/jobs/executor.py: pool, placement, stepping) with admission on top.
Admitted jobs (at most `max_running` at once, `max_running_per_owner` per owner) all advance; only jobs beyond
the caps wait in a queue. A submit is refused beyond `max_jobs_per_owner` active jobs of its owner, when the
class's cost limits refuse it (ganlab/jobs/cost/), and, when the teacher sets it, beyond `max_jobs_per_address`
active jobs of all owners from one client address (ganlab/jobs/clients.py). Owners, their tabs, the grace
period after the last tab closed and the reaper live here too. Jobs: ganlab/jobs/job.py.

Where an admitted job trains: in this process's Executor, or, when the manager has a `transport`
(ganlab/jobs/transport.py: the training process, Ray) that accepts its placement, over there as a PolledJob.
"""
from __future__ import annotations

import atexit
import os
import threading
import time
import traceback
from typing import Callable, Sequence

from ganlab import store as _store
from ganlab.i18n import _
from ganlab.jobs import clients, cost, memory
from ganlab.jobs.executor import Executor
from ganlab.jobs.job import CHUNK_S, Job
from ganlab.jobs.placement import Placement, place
from ganlab.jobs.polled import PolledJob
from ganlab.jobs.runner import Runner
from ganlab.jobs.status import FINISHED, HOLDS_WORKER, Status

__all__ = ["CHUNK_S", "Job", "JobLimitError", "JobManager", "manager"]  # Job, CHUNK_S: for tests reading them here

MAX_RUNNING_FLOOR = 40  # default cap on admitted jobs: a class of 30 (+ a few A/B pairs) all train at once
PER_ADDRESS_ENV = "GANLAB_MAX_RUNS_PER_ADDRESS"  # 0 or unset: no per-address cap (a class behind one NAT)
# A student whose last tab closed (a shut lid): "pause" (the default) pauses their runs after the grace period
# and stops them, resumable from the run store, AWAY_KEEP_ENV seconds later; "stop" stops them at once.
LEFT_RUNS_ENV = "GANLAB_LEFT_RUNS"
AWAY_KEEP_ENV = "GANLAB_AWAY_KEEP_S"
AWAY_KEEP_S = 3 * 3600.0  # a paused run of an absent student holds its memory for the rest of the lesson


class JobLimitError(RuntimeError):
    """Too many runs for this user (the message says how many are allowed)."""


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


class JobManager(Executor):
    """The server's admission over its Executor: caps, the queue, owners, tabs, the grace period, the reaper,
    the class's cost limits. max_running: admitted jobs at once (all of them train, sharing `workers` threads);
    the rest queue. transport: where the jobs it accepts train (ganlab/jobs/transport.py); None: all here."""

    transport = None

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
        """Start what the first run will need (the training process), so a class's first Start does not wait."""
        if self.transport is not None and not self._closed.is_set():
            self.transport.warm_up()

    def _job_class_for(self, placement: Placement, factory) -> type[Job]:
        if self.transport is not None and self.transport.accepts(placement, factory):
            return PolledJob
        return super()._job_class_for(placement, factory)

    def _start(self, job: Job) -> None:
        if isinstance(job, PolledJob):
            self.transport.start(job)
        else:
            super()._start(job)

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
                    "workers": self.workers}

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
        """The executor's shutdown (every job, here or over there, asked to stop), then the transport's; then the
        owners, tabs and the reaper go."""
        deadline = time.monotonic() + timeout
        super().shutdown(timeout)
        if self.transport is not None:
            self.transport.close(min(timeout, 5.0))
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
