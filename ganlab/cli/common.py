"""What every `python -m ganlab` subcommand shares: the error type and its one-line format, JSON cleaning, and
the progress bar. Imports nothing else from `ganlab.cli`, so the subcommand modules can all import it."""
from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np

from ganlab.config import ConfigError


class UsageError(Exception):
    """A bad argument found after parsing; main() prints it as one line and exits 2."""


# What a subcommand raises for bad input (config validation included); main() prints it with error_line(), exit 2.
USER_ERRORS = (UsageError, ConfigError)


def error_line(e: BaseException) -> str:
    """The one error format of every subcommand: `error: <message on one line>` (no traceback)."""
    return "error: " + " ".join(str(e).split())


def clean_json(v: Any) -> Any:
    """JSON-safe: numpy scalars/arrays to Python, NaN/inf to null."""
    if isinstance(v, dict):
        return {str(k): clean_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [clean_json(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class Progress:
    """A tiny progress bar on stderr, redrawn once per logging interval (never inside the hot loop)."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self._last_decile = -1

    def update(self, done: int, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        frac = min(done / max(self.total, 1), 1.0)
        if not self.tty:  # logs and pipes: one line per 10 %
            decile = int(frac * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        bar = "#" * int(frac * 24) + "." * (24 - int(frac * 24))
        losses = " ".join(f"{k} {row[k]:.3f}" for k in ("d_loss", "g_loss") if k in row)
        line = f"[{bar}] {done}/{self.total} steps {rate:6.1f}/s {losses}"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
