"""The runner contract (docs/architecture.md, "The runner contract"): what a job drives in its worker thread.

A job holds one or more runners and advances them together, one chunk of G steps at a time; between chunks
it applies the page's commands and publishes their snapshots. The runners: ganlab.engine.runner.TrainerRunner
(2-D toy and image GANs in this process), ganlab.engine.batched.runner.MemberRunner (a member of a class
engine's stack), ganlab.theory.Theory1D (the 1-D game), and the runners of a run that trains elsewhere
(ganlab.jobs.polled.PolledRunner, for the training process and Ray alike). This protocol is all a
page may read of any of them (tests/test_runner_contract.py); a test's fake runner needs these members too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ganlab.engine.weights import RunWeights


@runtime_checkable
class Runner(Protocol):
    @property
    def config(self) -> Any:
        """The run's config (TrainConfig, or the 1-D game's TheoryConfig), as live setting changes left it."""

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

    def holds_networks(self) -> bool:
        """Whether weights() would give networks, asked without copying them (a page's list of runs)."""

    def weights(self) -> RunWeights | None:
        """The run's networks as a page reads them (ganlab.engine.weights.RunWeights: CPU modules that no worker
        steps), or None when it holds none (released, failed before it had them, the 1-D game)."""

    def checkpoint(self, optimizers: bool = True) -> bytes | None:
        """The run as a checkpoint file (ganlab.checkpoint), or None when it holds no networks. Only while
        nothing steps it (paused, or over). optimizers=False leaves Adam's moments out (a resume starts fresh
        ones); a runner may leave them out anyway (a finished run has freed them)."""
