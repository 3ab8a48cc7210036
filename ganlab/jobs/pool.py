"""WorkerPool: a few worker threads that give every admitted job a fair share, round-robin, in time slices.

Why not one thread per job: with 30 students on a 2-core server, 30 threads stepping 30 small GANs fight over
two cores and the GIL, and a cap on running threads makes most students wait minutes for a start. Instead a
pool of `workers` threads (one per core by default) takes the job at the head of a ready queue, lets it work
for one slice, and puts it back at the tail. A job is in the queue while it has work (running, or a command
waiting); a paused job leaves the queue and comes back when a command arrives (`schedule`).

Slice length adapts to load: with R runnable jobs and W workers every job should get a slice about every
ROUND_S seconds, so a slice lasts W * ROUND_S / R seconds, kept within [MIN_SLICE_S, MAX_SLICE_S]. One run
alone keeps long slices (no overhead); thirty runs get ~33 ms each, every ~0.5 s.

Workers exit after IDLE_EXIT_S without work, so a server's thread count returns to its baseline after a class
leaves; `schedule` starts them again on demand.
"""
from __future__ import annotations

import collections
import itertools
import threading
import traceback
from typing import Protocol

ROUND_S = 0.5  # target time for every runnable job to get one slice
MIN_SLICE_S = 0.02  # below this, per-slice overhead (commands, bookkeeping) starts to cost more than it buys
MAX_SLICE_S = 0.5  # a lone job still looks at its commands and publishes about this often
IDLE_EXIT_S = 10.0


class Sliceable(Protocol):
    def run_slice(self, seconds: float) -> bool:
        """Work for about `seconds`; True while the job has more to do without a new command."""


class WorkerPool:
    _ids = itertools.count(1)

    def __init__(self, workers: int, idle_exit_s: float = IDLE_EXIT_S, name: str = "ganlab-worker"):
        self.workers = max(1, int(workers))
        self.idle_exit_s = idle_exit_s
        self.name = name
        self._cv = threading.Condition()
        self._ready: collections.deque = collections.deque()
        self._state: dict[int, str] = {}  # id(job) -> "queued" | "busy" | "again" (busy, and asked for again)
        self._busy = 0
        self._threads: list[threading.Thread] = []
        self._closed = False

    # ---- any thread ----------------------------------------------------------------------------------------
    def schedule(self, job: Sliceable) -> None:
        """Give `job` a slice soon (no-op if it is already queued; re-queued after its slice if busy)."""
        with self._cv:
            if self._closed:
                return
            key = id(job)
            state = self._state.get(key)
            if state == "busy":
                self._state[key] = "again"
            elif state is None:
                self._state[key] = "queued"
                self._ready.append(job)
                self._ensure_workers()
                self._cv.notify()

    def runnable(self) -> int:
        """Jobs queued or in a slice now."""
        with self._cv:
            return len(self._ready) + self._busy

    def slice_seconds(self) -> float:
        n = max(1, self.runnable())
        return min(MAX_SLICE_S, max(MIN_SLICE_S, self.workers * ROUND_S / n))

    def threads(self) -> int:
        with self._cv:
            return sum(t.is_alive() for t in self._threads)

    def close(self, timeout: float = 10.0) -> None:
        with self._cv:
            self._closed = True
            self._ready.clear()
            self._cv.notify_all()
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    # ---- workers -------------------------------------------------------------------------------------------
    def _ensure_workers(self) -> None:
        """Called with the lock held: start workers up to `workers` while there is work for them."""
        self._threads = [t for t in self._threads if t.is_alive()]
        want = min(self.workers, len(self._ready) + self._busy)
        while len(self._threads) < want:
            t = threading.Thread(target=self._work, name=f"{self.name}-{next(self._ids)}", daemon=True)
            self._threads.append(t)
            t.start()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cv:
                if not self._ready and not self._closed:
                    self._cv.wait(self.idle_exit_s)
                if self._closed or not self._ready:  # closed, or idle for idle_exit_s: this worker leaves
                    if me in self._threads:
                        self._threads.remove(me)
                    return
                job = self._ready.popleft()
                self._state[id(job)] = "busy"
                self._busy += 1
                seconds = min(MAX_SLICE_S, max(MIN_SLICE_S, self.workers * ROUND_S / (len(self._ready) + self._busy)))
            more = False
            try:
                more = job.run_slice(seconds)
            except Exception:  # run_slice handles its own errors; this is the last line of defence
                traceback.print_exc()
            with self._cv:
                self._busy -= 1
                again = self._state.pop(id(job), None) == "again"
                if (more or again) and not self._closed:
                    self._state[id(job)] = "queued"
                    self._ready.append(job)
                    self._cv.notify()
