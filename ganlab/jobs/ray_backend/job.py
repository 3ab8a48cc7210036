"""Another replica's job, as this replica sees it (the Class page): RemoteJob.

This replica's own jobs are PolledJobs (ganlab/jobs/polled.py) whose transport is the RayPool. Another
replica's job is known from its record in the registry (`record`, published by its replica); its snapshots are
read from its actor (or, once finished, the final ones its replica left in Ray's object store), its commands
(the teacher's pause / stop) sent to its actor.
"""
from __future__ import annotations

from ganlab.jobs.job import Job
from ganlab.jobs.status import FINISHED, Status


def record(job) -> dict:
    """What other replicas know of this replica's `job` (a PolledJob; the registry's copy, registry.py)."""
    seat = job.seat
    return {"id": job.id, "owner": job.owner, "label": job.label, "page": job.page, "meta": job.meta,
            "created": job.created, "status": str(job.status), "error": job.error, "progress": job.progress(),
            "actor": seat.name if seat else None, "final": seat.final_ref if seat else None}


class RemoteJob(Job):
    def __init__(self, manager, record: dict):
        super().__init__(manager, record["owner"], None, record["label"], 0.0, record["page"], record["meta"])
        self.id = record["id"]
        self.created = record["created"]
        self.status = Status(record["status"])
        self.error = record["error"]
        self.actor_name = record["actor"]
        self.replica = record.get("replica")
        self._final = record.get("final")
        self._progress = tuple(tuple(p) for p in record["progress"])
        if self.status in FINISHED:
            self._done.set()

    def progress(self) -> tuple[tuple[int, str], ...]:
        return self._progress

    def snapshots(self) -> tuple:
        return self._manager.remote_snapshots(self)

    @property
    def version(self) -> int:
        return self._manager.remote_version(self.id)

    def queue_position(self) -> int | None:
        return None

    def _actor(self):
        import ray

        if not self.actor_name:
            return None
        try:
            return ray.get_actor(self.actor_name)
        except ValueError:  # the actor is gone (the run ended, or its replica left)
            return None

    def _command(self, cmd: tuple) -> None:
        actor = self._actor()
        if actor is not None:
            actor.command.remote(self.id, *cmd)

    def fetch_snapshots(self, version: int) -> tuple[int, tuple] | None:
        """(version, snapshots) from the final ones in the object store or the live actor; None when neither
        answers (or nothing is newer than `version`)."""
        import ray

        try:
            if self._final is not None:
                return 1 << 30, ray.get(self._final, timeout=5.0)
            actor = self._actor()
            if actor is None:
                return None
            return ray.get(actor.snapshots.remote(self.id, version), timeout=5.0)
        except Exception:  # noqa: BLE001 - another replica's run that just ended: keep what we had
            return None

    def run_slice(self, seconds: float) -> bool:
        raise RuntimeError("another replica drives this job")
