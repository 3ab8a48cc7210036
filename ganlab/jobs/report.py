"""Report: a job as the process that polls it sees it -- one type, built in one place, for every transport.

Where a job trains in another process (the training process, a Ray actor or group actor), that process answers
polls with a Report of the job (`of`); the server's PolledJob takes it (ganlab/jobs/polled.py). What a transport
adds is its own: the training process the final weights of a finished job, a Ray actor its newest checkpoint.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ganlab.jobs.status import Status

MAX_BYTES = 512 * 2**20  # an internal checkpoint keeps the optimiser states even for the largest image runs


@dataclass(frozen=True)
class Checkpoint:
    """A job's runners' weights as one save (ganlab.checkpoint bytes per runner; None: the runner has none)."""

    seq: int  # increases with every save of one actor (-1: a finished job's final weights)
    steps: tuple[int, ...]  # each runner's step count when saved
    data: tuple[bytes | None, ...]
    at: float  # time.time() of the save

    @property
    def step(self) -> int:
        """The step the job restarts from (its runners advance together)."""
        return min(self.steps) if self.steps else 0


@dataclass(frozen=True)
class Report:
    """status: a Status value; progress: (step, runner status) per runner; version: the job's snapshot version;
    done: everything after this report is final. snapshots: one per runner, when newer than the version the
    poller holds (or final), else None. weights: a finished job's final weights per runner (the training
    process). checkpoint: the newest checkpoint when newer than the poller's (a Ray actor)."""

    status: str
    error: str | None
    progress: tuple
    version: int
    done: bool
    budgets: tuple = ()
    log_every: tuple = ()
    snapshots: tuple | None = None
    weights: tuple | None = None
    checkpoint: Checkpoint | None = None


def of(job, known_version: int | None) -> Report:
    """The job (a local Job) now; its snapshots when their version differs from `known_version` or it is over."""
    runners = list(job.runners)
    done = job.join(0)
    status = str(job.status)  # before the version: a paused job's snapshot of its last step is published first
    version = job.version
    return Report(status, job.error, job.progress(), version, done,
                  tuple(r.budget for r in runners), tuple(r.log_every for r in runners),
                  job.snapshots() if version != known_version or done else None)


def with_checkpoint(rep: Report, checkpoint: Any, held_seq: int) -> Report:
    """`rep` with the newest checkpoint when the poller does not hold it yet (its seq differs from `held_seq`)."""
    return replace(rep, checkpoint=checkpoint) if checkpoint is not None and checkpoint.seq != held_seq else rep


def starting(version: int) -> Report:
    """A job the transport was asked about before it had it: not started yet, no error."""
    return Report(str(Status.STARTING), None, (), version, False)


def failed(error: str, version: int = 0) -> Report:
    """A job whose start raised over there: told once, as its end."""
    return Report(str(Status.ERROR), error, (), version, True)
