"""Job statuses, defined once: the job manager sets them, pages and the sidebar read them."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A job's life: queued -> starting -> running <-> paused -> done | stopped | diverged | error.

    StrEnum: a status compares equal to its plain string ("running"), so JSON and old checks keep working.
    """
    QUEUED = "queued"  # waiting for a worker (the page shows its position)
    STARTING = "starting"  # a worker builds the runners (data, networks)
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"  # every runner reached its budget
    STOPPED = "stopped"  # stopped by its owner (or the session ended)
    DIVERGED = "diverged"  # a runner's loss became NaN/inf; the snapshot says at which step
    ERROR = "error"  # the runner raised; job.error holds the message


ACTIVE = (Status.QUEUED, Status.STARTING, Status.RUNNING, Status.PAUSED)
HOLDS_WORKER = (Status.STARTING, Status.RUNNING, Status.PAUSED)  # counted against the running caps
FINISHED = (Status.DONE, Status.STOPPED, Status.DIVERGED, Status.ERROR)
LIVE = (Status.QUEUED, Status.STARTING, Status.RUNNING)  # a page keeps refreshing while its job is in one of these
