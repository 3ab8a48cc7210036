"""Bounded metric history: fixed columns, at most `capacity` rows, decimated 2x whenever it fills.

A run of any length keeps an evenly spaced record (every `stride`-th logged row), so memory is O(capacity)
and a plot never receives more than `capacity` points per curve.
"""
from __future__ import annotations

import numpy as np


class History:
    def __init__(self, columns: tuple[str, ...] | list[str], capacity: int = 1000):
        self.columns = tuple(columns)
        self.capacity = capacity
        self._data = np.full((capacity, len(self.columns)), np.nan, dtype=np.float32)
        self._n = 0  # rows held
        self._stride = 1  # keep every stride-th logged row
        self._seen = 0  # rows offered so far

    def __len__(self) -> int:
        return self._n

    def append(self, row: dict[str, float]) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        if self._n == self.capacity:
            kept = self._data[::2].copy()  # rows 0, 2, 4, ... -> stride doubles
            self._data[:] = np.nan
            self._data[: len(kept)] = kept
            self._n = len(kept)
            self._stride *= 2
            if (self._seen - 1) % self._stride:
                return
        self._data[self._n] = [row.get(c, np.nan) for c in self.columns]
        self._n += 1

    def arrays(self) -> dict[str, np.ndarray]:
        """Column name -> float32 copy of the held rows (safe to hand to another thread)."""
        return {c: self._data[: self._n, i].copy() for i, c in enumerate(self.columns)}

    def last(self) -> dict[str, float]:
        if not self._n:
            return {}
        return {c: float(v) for c, v in zip(self.columns, self._data[self._n - 1])}

    def state(self) -> dict:
        return {"columns": list(self.columns), "data": self._data[: self._n].copy(), "stride": self._stride,
                "seen": self._seen}

    @classmethod
    def from_state(cls, state: dict, capacity: int = 1000) -> "History":
        h = cls(state["columns"], capacity)
        data = np.asarray(state["data"], dtype=np.float32)[:capacity]
        h._data[: len(data)] = data
        h._n, h._stride, h._seen = len(data), int(state["stride"]), int(state["seen"])
        return h
