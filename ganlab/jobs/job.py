"""Job: one student's run as the pages see it -- its runners, commands, snapshots and status.

A runner is anything that satisfies ganlab.jobs.runner.Runner (step, snapshot, apply, park, release, status,
step_count, budget, log_every). A job holds one or more runners (the Mode collapse lab's A and B) that
advance together, one logging interval at a time. Pages talk to a job only through its methods (commands go
into a queue the worker drains between chunks) and read `job.snapshots()` (heavy: points, heat-map, grids)
or `job.progress()` (cheap: steps and status, read from the runners without a snapshot). Workers never touch
Streamlit. Job statuses are ganlab.jobs.status.Status; a runner's own are ganlab.engine.loop.RunStatus.
A job belongs to the Executor that runs it (ganlab/jobs/executor.py), which steps it in its worker pool.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from typing import Any, Callable, Sequence

from ganlab.engine.loop import RunStatus
from ganlab.jobs.pace import StepPace
from ganlab.jobs.placement import ALONE, Placement
from ganlab.jobs.runner import Runner
from ganlab.jobs.status import ACTIVE, FINISHED, Status

CHUNK_S = 0.5  # a running job steps at most about this long between two looks at its commands and snapshots
SNAPSHOT_SHARE = 0.1  # under load, a job publishes every SNAPSHOT_SHARE * (runnable jobs / workers) seconds


class Job:
    _ids = itertools.count(1)
    address: str | None = None  # the client address that submitted it (None: unknown, the CLI, another process)
    _stopping = False  # a stop was asked for: no longer counted against the per-address cap
    trains_here = True  # its runners step in this process (a PolledJob's train elsewhere)
    store_key: str | None = None  # its row in the run store (ganlab/store/), None: not stored
    saves = None  # ganlab.jobs.saves.JobSaves when this process saves its checkpoints
    away = False  # paused or stopped because its student left (the store lists it as paused, resumable)

    def __init__(self, manager: Any, owner: str, factory: Callable[[], Sequence[Runner]], label: str,
                 snapshot_every_s: float, page: str = "", meta: dict | None = None):
        self.id = next(Job._ids)
        self.owner, self.label, self.page = owner, label, page
        self.meta = dict(meta or {})  # what the Class page shows beside the run, e.g. {"preset": "ring-fixed"}
        self.created = time.time()
        self.status = Status.QUEUED
        self.error: str | None = None
        self.runners: list[Runner] = []
        self._manager, self._factory = manager, factory  # the Executor (or JobManager) that runs it
        self._snapshot_every_s = snapshot_every_s
        self._cmds: queue.SimpleQueue = queue.SimpleQueue()
        self._calls: queue.SimpleQueue = queue.SimpleQueue()  # between_steps requests, served by the worker
        self._step_req: int | None = None  # a "step once" drained by a bookkeeping turn, stepped at the next slice
        self._lock = threading.Lock()
        self._snapshots: tuple = ()
        self._version = 0
        self._pace = StepPace()  # seconds per G step (all runners)
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
        """A command in the form `_command` receives it, sent by another process (a PolledJob's transport):
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
                    self._hold(True)
                    self._publish()  # the page must show the step it paused at, not one chunk before
                    self.status = Status.PAUSED  # after: whoever reads "paused" finds that snapshot published
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
        self._pace.took(time.perf_counter() - t0, k)
        # a slow run that just finished a logging interval publishes at once (image runs add a timeline frame)
        self._boundary = n is None and k < interval and live[0].step_count % interval == 0

    def _chunk(self, live: list[Runner], interval: int, slice_s: float = CHUNK_S) -> int:
        """G steps per slice while running: up to the next logging step, and fewer when that would take longer
        than the slice (a DCGAN on a CPU, or a full class sharing the workers), so snapshots and commands are
        still handled about every slice. The runners advance together; their speed is a moving average over
        chunks (the first chunk, one step, measures it)."""
        k = self._pace.steps(slice_s, interval)
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
