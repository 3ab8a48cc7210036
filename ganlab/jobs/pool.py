"""WorkerPool: a few worker threads that give every admitted run a fair share of time, in slices.

Why not one thread per job: with 30 students on a 2-core server, 30 threads stepping 30 small GANs fight over
two cores and the GIL, and a cap on running threads makes most students wait minutes for a start. Instead a
pool of `workers` threads (one per core by default) takes an entity (a Job, or a StackGroup that steps up to 8
stacked runs at once) from a ready queue, lets it work for one slice, and puts it back. An entity is in the
queue while it has work (running, or a command waiting); a paused job leaves it and comes back on a command.

Shares are by time per run, not by steps or by entity (virtual time, as in start-time fair queuing): an
entity's weight w is how many running runs it steps (`weight()`: a group of 8 running members 8, an A/B job
2, default 1), each has a virtual time v, and a slice that took t seconds adds t / w to it. The ready queue is
ordered by v, so every run gets the same seconds of a worker and a run ten times as costly per step gets a
tenth of the steps. A heavy run whose single step outlasts its slice is charged the whole step: its v jumps
ahead and it skips turns until the others have had as much time (its debt is paid). Waiting costs no real
time: an entity alone, or every entity in debt, runs at once. An entity that left the queue comes back at the
current virtual clock V (the v of the last slice started), keeping a debt but never a credit.

Slice length: with total weight W_tot over queued and busy entities and `workers` threads, an entity of weight
w gets workers * ROUND_S * w / W_tot seconds, kept within [MIN_SLICE_S, MAX_SLICE_S], so every run gets a slice
about every ROUND_S seconds. One run alone keeps long slices (no overhead); thirty single runs get ~33 ms each.

Commands never wait for a turn: `command(entity)` queues it for a bookkeeping-only turn (`tend()`: apply
commands, serve requests, no stepping), which workers take before any slice, whatever the entity's debt; an
entity busy in a slice is tended as soon as that slice ends.

Workers exit after IDLE_EXIT_S without work, so a server's thread count returns to its baseline after a class
leaves; `schedule` starts them again on demand.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import threading
import time
import traceback
import weakref
from typing import Protocol

ROUND_S = 0.5  # target time for every runnable run to get one slice
MIN_SLICE_S = 0.02  # below this, per-slice overhead (commands, bookkeeping) starts to cost more than it buys
MAX_SLICE_S = 0.5  # a lone job still looks at its commands and publishes about this often
IDLE_EXIT_S = 10.0


class Sliceable(Protocol):
    def run_slice(self, seconds: float) -> bool:
        """Work for about `seconds`; True while the job has more to do without a new command.
        Optional: `weight() -> float` (running runs it steps, default 1) and `tend() -> bool` (commands only,
        no stepping; True while it has more to do)."""


def _weight(entity) -> float:
    w = getattr(entity, "weight", None)
    try:
        return max(1.0, float(w())) if w is not None else 1.0
    except Exception:  # noqa: BLE001 - a weight is a hint; a broken one counts as one run
        return 1.0


class WorkerPool:
    _ids = itertools.count(1)

    def __init__(self, workers: int, idle_exit_s: float = IDLE_EXIT_S, name: str = "ganlab-worker"):
        self.workers = max(1, int(workers))
        self.idle_exit_s = idle_exit_s
        self.name = name
        self._cv = threading.Condition()
        self._heap: list = []  # (v, seq, entity); an entry is stale unless _entry[id(entity)] == seq
        self._entry: dict[int, int] = {}  # id(entity) -> seq of its one valid heap entry
        self._seq = itertools.count()
        self._busy: set[int] = set()  # in a slice or a tend now
        self._again: set[int] = set()  # scheduled while busy: queued again after its work
        self._urgent: collections.deque = collections.deque()  # entities owed a tend (commands waiting)
        self._urgent_keys: set[int] = set()
        self._tend_after: set[int] = set()  # owed a tend, busy: tended when its slice ends
        self._w: dict[int, float] = {}  # id(entity) -> weight, for entities queued or busy
        self._v: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # entity -> virtual time (seconds/w)
        self._clock = 0.0  # V: virtual time of the last slice started
        self._threads: list[threading.Thread] = []
        self._closed = False

    # ---- any thread ----------------------------------------------------------------------------------------
    def schedule(self, job: Sliceable) -> None:
        """Give `job` a slice soon (no-op if it is already queued; queued again after its slice if busy)."""
        w = _weight(job)  # outside the lock: a group counts its members under its own lock
        with self._cv:
            if self._closed:
                return
            self._w[id(job)] = w
            self._queue_locked(job)

    def command(self, job: Sliceable) -> None:
        """A command (or a request) waits on `job`: tend it before any slice, then give it its turns."""
        w = _weight(job)
        with self._cv:
            if self._closed:
                return
            self._w[id(job)] = w
            key = id(job)
            if hasattr(job, "tend") and key not in self._urgent_keys:
                self._urgent_keys.add(key)
                self._urgent.append(job)
            self._queue_locked(job)
            self._cv.notify()

    def _queue_locked(self, job) -> None:
        key = id(job)
        if key in self._busy:
            self._again.add(key)
        elif key not in self._entry:
            self._push_locked(job)
            self._ensure_workers()
            self._cv.notify()

    def _push_locked(self, job) -> None:
        v = max(self._v.get(job, 0.0), self._clock)  # debt is kept, idle time is not banked
        self._v[job] = v
        seq = next(self._seq)
        self._entry[id(job)] = seq
        heapq.heappush(self._heap, (v, seq, job))

    def slice_seconds(self, weight: float = 1.0) -> float:
        """The slice an entity of `weight` gets now."""
        with self._cv:
            return self._slice_locked(weight)

    def _slice_locked(self, weight: float) -> float:
        keys = set(self._entry) | self._busy
        total = sum(self._w.get(k, 1.0) for k in keys) or weight
        return min(MAX_SLICE_S, max(MIN_SLICE_S, self.workers * ROUND_S * weight / max(total, weight)))

    def threads(self) -> int:
        with self._cv:
            return sum(t.is_alive() for t in self._threads)

    def close(self, timeout: float = 10.0) -> None:
        with self._cv:
            self._closed = True
            self._heap.clear()
            self._entry.clear()
            self._urgent.clear()
            self._urgent_keys.clear()
            self._cv.notify_all()
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    # ---- workers -------------------------------------------------------------------------------------------
    def _ensure_workers(self) -> None:
        """Called with the lock held: start workers up to `workers` while there is work for them."""
        self._threads = [t for t in self._threads if t.is_alive()]
        want = min(self.workers, len(self._entry) + len(self._busy) + len(self._urgent))
        while len(self._threads) < want:
            t = threading.Thread(target=self._work, name=f"{self.name}-{next(self._ids)}", daemon=True)
            self._threads.append(t)
            t.start()

    def _take_locked(self):
        """The next (entity, tend?) to work on, or None: owed tends first, then the lowest virtual time."""
        while self._urgent:
            job = self._urgent.popleft()
            key = id(job)
            self._urgent_keys.discard(key)
            if key in self._busy:
                self._tend_after.add(key)  # its worker tends it when the slice ends
                continue
            return job, True
        while self._heap:
            v, seq, job = heapq.heappop(self._heap)
            key = id(job)
            if self._entry.get(key) != seq:
                continue  # stale entry
            del self._entry[key]
            if key in self._busy:  # being tended: its turn comes after the tend
                self._again.add(key)
                continue
            self._clock = max(self._clock, v)
            return job, False
        return None

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cv:
                idle_until = time.monotonic() + self.idle_exit_s
                picked = None if self._closed else self._take_locked()
                while picked is None and not self._closed and time.monotonic() < idle_until:
                    self._cv.wait(max(0.0, idle_until - time.monotonic()))
                    picked = None if self._closed else self._take_locked()
                if picked is None:  # closed, or idle for idle_exit_s: this worker leaves
                    if me in self._threads:
                        self._threads.remove(me)
                    return
                job, tend = picked
                key = id(job)
                self._busy.add(key)
                w = self._w.get(key, 1.0)
                seconds = self._slice_locked(w)
            more = False
            t0 = time.perf_counter()
            try:
                more = job.tend() if tend else job.run_slice(seconds)
            except Exception:  # run_slice handles its own errors; this is the last line of defence
                traceback.print_exc()
            used = time.perf_counter() - t0
            w_after = _weight(job)
            with self._cv:
                self._busy.discard(key)
                self._v[job] = self._v.get(job, self._clock) + used / w  # charged by the runs it stepped
                again = key in self._again
                self._again.discard(key)
                if self._closed:
                    continue
                if key in self._tend_after:  # a command came during the slice: tend it next
                    self._tend_after.discard(key)
                    if key not in self._urgent_keys:
                        self._urgent_keys.add(key)
                        self._urgent.appendleft(job)
                if (more or again) and key not in self._entry:
                    self._w[key] = w_after
                    self._push_locked(job)
                elif key not in self._entry and key not in self._urgent_keys:
                    self._w.pop(key, None)  # left the queue (paused, finished)
                self._cv.notify()
