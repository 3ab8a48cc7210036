"""Process-wide job manager: runs training runners in worker threads, with caps, a queue and cleanup.

A runner is anything that satisfies ganlab.jobs.runner.Runner (step, snapshot, apply, park, release, status,
step_count, budget, log_every). A job holds one or more runners (the Mode collapse lab's A and B) that advance
together, in chunks that end on logging steps. Pages talk to a job only through its methods (commands go into a
queue the worker drains between chunks) and read `job.snapshots()`. Workers never touch Streamlit.
Job statuses are ganlab.jobs.status.Status; a runner's own are ganlab.engine.loop.RunStatus.
"""
from __future__ import annotations

import itertools
import os
import queue
import threading
import time
import traceback
from typing import Any, Callable, Sequence

from ganlab.engine.loop import RunStatus
from ganlab.jobs.runner import Runner
from ganlab.jobs.status import ACTIVE, FINISHED, HOLDS_WORKER, Status

CHUNK_S = 0.5  # a running job steps at most about this long between two looks at its commands and snapshots


class JobLimitError(RuntimeError):
    """Too many runs for this user (the message says how many are allowed)."""


class Job:
    _ids = itertools.count(1)

    def __init__(self, manager: "JobManager", owner: str, factory: Callable[[], Sequence[Runner]], label: str,
                 snapshot_every_s: float):
        self.id = next(Job._ids)
        self.owner, self.label = owner, label
        self.created = time.time()
        self.status = Status.QUEUED
        self.error: str | None = None
        self.runners: list[Runner] = []
        self._manager, self._factory = manager, factory
        self._snapshot_every_s = snapshot_every_s
        self._cmds: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._snapshots: tuple = ()
        self._version = 0
        self._step_s: float | None = None  # seconds per G step (all runners), averaged over recent chunks
        self._boundary = False  # the last chunk of a slow run ended on a logging step
        self._thread: threading.Thread | None = None

    # ---- commands from pages (any thread) --------------------------------------------------------------
    def pause(self) -> None:
        self._cmds.put(("pause",))

    def resume(self) -> None:
        self._cmds.put(("resume",))

    def step_once(self, n: int | None = None) -> None:
        """Advance one chunk (n G steps, default one logging interval) while paused."""
        self._cmds.put(("step", n))

    def stop(self) -> None:
        if self.status == Status.QUEUED:
            self._manager._cancel_queued(self)
        self._cmds.put(("stop",))

    def apply(self, index: int | None = None, **changes: Any) -> None:
        """Change live settings of runner `index` (None: all runners)."""
        self._cmds.put(("apply", index, changes))

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
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return self.status in FINISHED

    # ---- worker side ----------------------------------------------------------------------------------------
    def _publish(self) -> None:
        snaps = tuple(r.snapshot() for r in self.runners)
        with self._lock:
            self._snapshots = snaps
            self._version += 1

    def _drain(self, block: bool) -> tuple[bool, int | None]:
        """Apply queued commands. Returns (stop requested, steps asked by 'step once')."""
        stop, step_n = False, None
        try:
            while True:
                cmd = self._cmds.get(timeout=0.2) if block else self._cmds.get_nowait()
                block = False
                if cmd[0] == "pause" and self.status == Status.RUNNING:
                    self.status = Status.PAUSED
                    self._publish()  # the page must show the step it paused at, not one chunk before
                elif cmd[0] == "resume" and self.status == Status.PAUSED:
                    self.status = Status.RUNNING
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

    def _advance(self, n: int | None) -> None:
        """n None: one chunk (see _chunk); n 0: one logging interval (Step); else n G steps."""
        live = [r for r in self.runners if r.status != RunStatus.DIVERGED and r.step_count < r.budget]
        self._boundary = False
        if not live:
            return
        interval = min(r.log_every for r in live)
        k = self._chunk(live, interval) if n is None else n or interval
        t0 = time.perf_counter()
        for r in live:
            r.step(min(k, r.budget - r.step_count))
        per = (time.perf_counter() - t0) / k
        self._step_s = per if self._step_s is None else 0.7 * self._step_s + 0.3 * per  # smoothed: steps jitter
        # a slow run that just finished a logging interval publishes at once (image runs add a timeline frame)
        self._boundary = n is None and k < interval and live[0].step_count % interval == 0

    def _chunk(self, live: list[Runner], interval: int) -> int:
        """G steps per worker iteration while running: up to the next logging step, and fewer when that would
        take longer than CHUNK_S (a DCGAN on a CPU), so snapshots and commands are still handled about every
        CHUNK_S. The runners advance together; their speed is a moving average over chunks (the first chunk,
        one step, measures it)."""
        if self._step_s is None:
            return 1
        k = max(1, min(interval, int(CHUNK_S / max(self._step_s, 1e-9))))
        return min(k, interval - live[0].step_count % interval)  # chunks end on logging steps

    def _finished(self) -> bool:
        return all(r.status == RunStatus.DIVERGED or r.step_count >= r.budget for r in self.runners)

    def _run(self) -> None:
        try:
            self.runners = list(self._factory())
            self._factory = None
            if self.status == Status.STARTING:
                self.status = Status.RUNNING
            self._publish()
            last = time.monotonic()
            while True:
                stop, step_n = self._drain(block=self.status == Status.PAUSED)
                if stop:
                    self.status = Status.STOPPED
                    break
                if self.status == Status.PAUSED and step_n is None:
                    continue
                self._advance(step_n)
                now = time.monotonic()
                if step_n is not None or self._boundary or now - last >= self._snapshot_every_s or self._finished():
                    self._publish()
                    last = now
                if self._finished():
                    diverged = any(r.status == RunStatus.DIVERGED for r in self.runners)
                    self.status = Status.DIVERGED if diverged else Status.DONE
                    break
        except Exception as e:  # a broken run must never take the server down
            self.status = Status.ERROR
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            try:
                if self.runners:
                    self._publish()
                for r in self.runners:
                    r.park()
            except Exception:
                traceback.print_exc()
            self._manager._on_finished(self)


class JobManager:
    def __init__(self, max_running: int | None = None, max_running_per_owner: int = 2,
                 max_jobs_per_owner: int = 4, keep_finished_per_owner: int = 4, idle_timeout_s: float = 300.0,
                 snapshot_every_s: float = 0.25):
        self.max_running = max_running or max(2, os.cpu_count() or 2)
        self.max_running_per_owner = max_running_per_owner
        self.max_jobs_per_owner = max_jobs_per_owner
        self.keep_finished_per_owner = keep_finished_per_owner
        self.idle_timeout_s = idle_timeout_s
        self.snapshot_every_s = snapshot_every_s
        self._lock = threading.RLock()
        self._jobs: dict[int, Job] = {}
        self._queue: list[Job] = []
        self._last_seen: dict[str, float] = {}
        self._release_at: dict[str, float] = {}
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    # ---- submitting -------------------------------------------------------------------------------------------
    def submit(self, owner: str, factory: Callable[[], Sequence[Runner]], label: str = "run") -> Job:
        """Queue a job whose runners `factory()` builds in the worker thread. Raises JobLimitError."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and j.active]
            if len(mine) >= self.max_jobs_per_owner:
                raise JobLimitError(f"you already have {len(mine)} runs going (the limit is "
                                    f"{self.max_jobs_per_owner}); stop one first")
            job = Job(self, owner, factory, label, self.snapshot_every_s)
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
                job._thread = threading.Thread(target=job._run, name=f"ganlab-job-{job.id}", daemon=True)
                job._thread.start()

    def _queue_position(self, job: Job) -> int | None:
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else None

    def _cancel_queued(self, job: Job) -> None:
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job.status = Status.STOPPED

    def _on_finished(self, job: Job) -> None:
        with self._lock:
            finished = sorted((j for j in self._jobs.values() if j.owner == job.owner and j.status in FINISHED),
                              key=lambda j: j.id)
            for old in finished[: max(0, len(finished) - self.keep_finished_per_owner)]:
                self._forget(old)
            self._dispatch()

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        for r in job.runners:
            try:
                r.release()
            except Exception:
                traceback.print_exc()
        job.runners = []

    # ---- reading --------------------------------------------------------------------------------------------
    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def jobs_of(self, owner: str) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.owner == owner), key=lambda j: j.id)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"running": self._running(), "queued": len(self._queue), "max_running": self.max_running}

    # ---- session lifetime ---------------------------------------------------------------------------------
    def touch(self, owner: str) -> None:
        """A page of this owner is alive (call on every rerun / fragment tick)."""
        with self._lock:
            self._touch_locked(owner)

    def _touch_locked(self, owner: str) -> None:
        self._last_seen[owner] = time.monotonic()
        self._release_at.pop(owner, None)

    def release_owner(self, owner: str, grace_s: float = 0.0) -> None:
        """The owner's session ended: stop its runs after `grace_s` unless it comes back (touch) first."""
        with self._lock:
            self._release_at[owner] = time.monotonic() + grace_s
        if grace_s <= 0:
            self._reap()

    def stop_owner(self, owner: str, forget: bool = True, timeout: float = 10.0) -> None:
        """Stop every job of `owner`, wait for the workers, and free their runners."""
        jobs = self.jobs_of(owner)
        for j in jobs:
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

    def _reap(self) -> None:
        now = time.monotonic()
        with self._lock:
            owners = {o for o, t in self._release_at.items() if t <= now}
            owners |= {o for o, t in self._last_seen.items() if now - t > self.idle_timeout_s}
        for owner in owners:
            self.stop_owner(owner)

    def _ensure_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, name="ganlab-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        while not self._closed.wait(2.0):
            try:
                self._reap()
            except Exception:
                traceback.print_exc()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop everything (tests, process exit)."""
        self._closed.set()
        for owner in {j.owner for j in list(self._jobs.values())}:
            self.stop_owner(owner, timeout=timeout)
        if self._reaper is not None:
            self._reaper.join(timeout)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """The process-wide manager (one per server; every session's runs are in it, keyed by owner)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None or _MANAGER._closed.is_set():
            _MANAGER = JobManager(max_running=int(os.environ.get("GANLAB_MAX_RUNNING", "0")) or None)
        return _MANAGER
