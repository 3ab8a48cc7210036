"""The runner contract (docs/architecture.md, "The runner contract"): what a job drives in its worker thread.

A job holds one or more runners and advances them together, one chunk of G steps at a time; between chunks
it applies the page's commands and publishes their snapshots. ganlab.engine.runner.TrainerRunner (2-D toy and
image GANs) and ganlab.theory.Theory1D (the 1-D game) are the runners the app uses; a test's fake runner only
needs these members too.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Runner(Protocol):
    @property
    def status(self) -> str:
        """'ready' | 'diverged' (ganlab.engine.loop.RunStatus); a diverged runner is not stepped again."""

    @property
    def step_count(self) -> int:
        """G updates made so far."""

    @property
    def budget(self) -> int:
        """G updates the run is meant to make; the job is done when every runner reached its budget."""

    @property
    def log_every(self) -> int:
        """G updates per logging interval; the job's chunks end on multiples of it."""

    def step(self, n: int) -> dict[str, float]:
        """Advance up to n G updates (fewer if it diverges); returns the latest logged row."""

    def snapshot(self) -> Any:
        """A plain numpy / bytes picture of the run, built in the worker thread, safe to hand to a page."""

    def apply(self, **changes: Any) -> None:
        """Live setting changes between steps; a bad one raises ValueError (ConfigError) and changes nothing."""

    def park(self) -> None:
        """The run is over: free the device, keep what a page may still show (and save)."""

    def release(self) -> None:
        """Drop everything, GPU memory included (the job is forgotten)."""
