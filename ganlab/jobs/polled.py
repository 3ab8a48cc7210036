"""A job that trains in another process, as a page reads it: PolledJob and its PolledRunners.

PolledJob (the base of a RayJob and of a ProcJob of the training process) keeps what its poller last received:
each runner's (step, status) in `progress()` and their snapshots in `snapshots()`; `take_polled` applies the
part of a poll's report both kinds share. A PolledRunner reads its row of those and sends commands through the
job; it never steps. Subclasses say where the run trains (`WHERE`), where its budget and logging interval come
from, and how a local copy of its Trainer is made.
"""
from __future__ import annotations

import threading
from typing import Any

from ganlab.jobs.job import Job
from ganlab.jobs.report import Report
from ganlab.jobs.status import FINISHED, Status


class PolledJob(Job):
    """runner_class: its runners' PolledRunner subclass; WHERE: where it trains (for the error of a stray step)."""

    WHERE = "another process"
    runner_class: type["PolledRunner"]
    trains_here = False  # its checkpoints are saved where it trains (the training process, a Ray actor)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._progress: tuple = ()
        self._budgets: tuple = ()  # each runner's budget and logging interval, as the newest report has them
        self._log_every: tuple = ()
        self._early: list[tuple] | None = []  # commands made before the job reached where it trains; None after
        self._early_lock = threading.Lock()

    # ---- commands: to where the job trains ------------------------------------------------------------------
    def _command(self, cmd: tuple) -> None:
        """A page's command: to where the job trains (`_send`), or kept until the job gets there (`arrived`)."""
        with self._early_lock:
            if self._early is not None:
                self._early.append(cmd)
                return
        self._send(cmd)

    def arrived(self) -> list[tuple]:
        """The transport placed the job where it trains: later commands go straight there; returns the earlier
        ones, in order, for the transport to send first (once: a restarted job has none)."""
        with self._early_lock:
            early, self._early = self._early or [], None
        return early

    def _send(self, cmd: tuple) -> None:
        """Subclass: one command to where the job trains."""
        raise NotImplementedError

    def progress(self) -> tuple[tuple[int, str], ...]:
        return self._progress

    def run_slice(self, seconds: float) -> bool:
        raise RuntimeError(f"this job trains in {self.WHERE}; its poller reads it")

    def take_polled(self, report: Report) -> bool:
        """A report's progress (runners made to match), snapshots when it has them (returns True then) and live
        status: queued over there means its runners are about to be built (STARTING here); a finished status
        is left to the subclass, which knows when everything after it is final."""
        self._progress = tuple(tuple(p) for p in report.progress)
        if report.budgets:
            self._budgets, self._log_every = tuple(report.budgets), tuple(report.log_every)
        if len(self.runners) != len(self._progress):
            self.runners = [self.runner_class(self, i) for i in range(len(self._progress))]
        got = report.snapshots is not None
        if got:
            with self._lock:
                self._snapshots = tuple(report.snapshots)
                self._version += 1
        status = Status(report.status)
        if status not in FINISHED:
            self.status = Status.STARTING if status == Status.QUEUED else status
        return got


class PolledRunner:
    WHERE = "another process"

    def __init__(self, job, index: int):
        self._job, self.index = job, index
        self._copy: Any = None  # a subclass's local copy of the run's Trainer, and what it was made from

    def _progress(self) -> tuple:
        p = self._job.progress()
        return p[self.index] if self.index < len(p) else (0, "ready")

    @property
    def status(self) -> str:
        return self._progress()[1]

    @property
    def step_count(self) -> int:
        return self._progress()[0]

    def snapshot(self) -> Any:
        snaps = self._job.snapshots()
        return snaps[self.index] if self.index < len(snaps) else None

    @property
    def budget(self) -> int:
        b = self._job._budgets
        return b[self.index] if self.index < len(b) else 0

    @property
    def log_every(self) -> int:
        e = self._job._log_every
        return e[self.index] if self.index < len(e) else 1

    @property
    def config(self) -> Any:
        """As the newest snapshot has it (live changes included), else as submitted."""
        s = self.snapshot()
        if s is not None and getattr(s, "config", None) is not None:
            return s.config
        configs = getattr(self._job.spec, "configs", ())
        return configs[self.index] if self.index < len(configs) else None

    def _blob(self) -> bytes | None:
        """Subclass: the run's newest checkpoint file (weights only), or None."""
        return None

    def _trainer_copy(self) -> Any:
        """Subclass: a CPU Trainer rebuilt from the run's newest checkpoint, or None."""
        return None

    def holds_networks(self) -> bool:
        """Whether the run has a checkpoint to copy from (no Trainer is rebuilt to find out)."""
        return self._copy is not None or self._blob() is not None

    def weights(self) -> Any:
        """From the CPU copy of the run (a Trainer of this process that nothing steps: its modules as they are)."""
        from ganlab.engine.weights import weights_of

        return weights_of(self._trainer_copy(), copy_modules=False)

    def checkpoint(self, optimizers: bool = True) -> bytes | None:
        """The run's newest checkpoint as it came (the training process sends weights only; a Ray actor's restart
        checkpoints keep the optimisers), whatever `optimizers` asks."""
        return self._blob()

    def step(self, n: int) -> dict[str, float]:
        raise RuntimeError(f"this run trains in {self.WHERE}: send its job a command instead")

    def apply(self, **changes: Any) -> None:
        self._job.apply(self.index, **changes)

    def park(self) -> None:
        pass

    def release(self) -> None:
        self._copy = None
