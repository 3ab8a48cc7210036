"""The rate a step counter moves at, as a reader sees it: steps advanced per wall-clock second.

A runner's own `step / seconds` is its compute rate: the time inside its steps only. When a worker shares its
time among many runs (A/B pairs, stacked groups, a busy class) that number can be ten times the rate at which
the run's counter actually advances, and the page showed "384 steps/s" beside a counter moving at 43. A page
(or the Class table) instead records (time, step) at every poll and divides the steps gained by the seconds
passed over the last WINDOW_S seconds.
"""
from __future__ import annotations

import time
from collections import deque
from typing import MutableMapping

WINDOW_S = 5.0  # the rate is the mean over about this many seconds of polls
MIN_SPAN_S = 0.5  # polls closer together than this give no rate yet (a single tick would be too noisy)


class CounterRate:
    """Steps per second of one counter from successive readings (monotonic times)."""

    def __init__(self, window_s: float = WINDOW_S):
        self.window_s = window_s
        self._polls: deque[tuple[float, int]] = deque()  # (time, step), oldest first

    def update(self, step: int, now: float | None = None) -> float | None:
        """Record the counter at `now`; the rate over the window, or None while the polls span < MIN_SPAN_S."""
        now = time.monotonic() if now is None else float(now)
        if self._polls and (step < self._polls[-1][1] or now < self._polls[-1][0]):
            self._polls.clear()  # the counter went back: a new run in the same place
        self._polls.append((now, int(step)))
        while len(self._polls) > 2 and self._polls[1][0] <= now - self.window_s:
            self._polls.popleft()  # keep one reading at or before the window's start
        t0, s0 = self._polls[0]
        if now - t0 < MIN_SPAN_S:
            return None
        return (step - s0) / (now - t0)


def counter_rate(store: MutableMapping, key: object, step: int, now: float | None = None) -> float | None:
    """`CounterRate.update` of the counter `key`, its readings kept in `store` (a page's session state)."""
    rates = store.setdefault("_ganlab_counter_rates", {})
    if key not in rates:
        if len(rates) > 64:  # old jobs' counters: forget them
            rates.clear()
        rates[key] = CounterRate()
    return rates[key].update(step, now)
