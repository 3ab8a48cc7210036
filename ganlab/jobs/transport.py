"""Transport: how the server reaches an Executor in another process. One interface, two implementations.

The server's JobManager (admission) keeps every job. A job the transport `accepts` becomes a PolledJob
(ganlab/jobs/polled.py) and trains in an Executor over there (ganlab/jobs/service.py ExecutorService). Any
other job trains in the server's own Executor: that is the in-process transport (GANLAB_TRAIN_PROCESS=0: none).

  TrainProcess  ganlab/jobs/train_process/client.py: one child process on a socket pair (the default server)
  RayPool       ganlab/jobs/ray_backend/pool.py: Ray actors and group actors (GANLAB_BACKEND=ray)

The transport starts a job where it trains (`start`), sending first the commands `job.arrived()` hands it,
forwards later ones (`send`) in order, and polls: it hands each Report to `job.take` and ends the job
(`job.end`, `job.fail`) when a report says it is over or the process over there died.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ganlab.jobs.placement import Placement
    from ganlab.jobs.polled import PolledJob


class Transport(Protocol):
    where: str  # for messages: "the training process", "a Ray actor"
    weights_on_request: bool  # a live run's weights come from `weights` (else from its latest checkpoint)

    def accepts(self, placement: Placement, factory) -> bool:
        """Whether a job placed so trains over there (else in the server's Executor)."""

    def start(self, job: PolledJob) -> None:
        """Place an admitted job where it trains."""

    def send(self, job: PolledJob, cmd: tuple) -> None:
        """A command (Job.perform's form) to the job where it trains."""

    def weights(self, job: PolledJob, index: int) -> bytes | None:
        """A recent checkpoint of a live run's runner `index` (weights only), or None."""

    def warm_up(self) -> None:
        """Start what the first job will need."""

    def close(self, timeout: float) -> None:
        """The server exits: free everything over there."""
