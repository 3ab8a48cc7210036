"""Jobs whose runners live in Ray actors, with the members pages use on a local Job.

RayJob: a job of this app replica. Commands go to its actor as they are made (Ray keeps one caller's calls
to an actor in order; a group actor's member is addressed by its job id); status, live step counts, snapshots
and the newest checkpoint come back through the replica's RayPool, which polls the actor about four times a
second and keeps them here, so `progress()`, `snapshots()` and `version` cost a page nothing more than on a
local job. `runners` are RemoteRunners: they read the job's polled numbers, and `trainer` is a local copy of
the run built from its newest checkpoint (the Image GAN page's download, the Latent space page's "your run").

RemoteJob: another replica's job as this replica sees it (the Class page): its record from the registry,
its snapshots read from its actor (or, once finished, the final ones its replica left in Ray's object
store), its commands (the teacher's pause / stop) sent to its actor.
"""
from __future__ import annotations

from typing import Any

from ganlab.jobs.job import Job
from ganlab.jobs.polled import PolledJob, PolledRunner
from ganlab.jobs.ray_backend.checkpoints import MAX_BYTES, Checkpoint
from ganlab.jobs.report import Report
from ganlab.jobs.status import FINISHED, Status


class RayJob(PolledJob):
    WHERE = "its Ray actor"

    def __init__(self, manager, owner: str, factory, label: str, snapshot_every_s: float, page: str = "",
                 meta: dict | None = None):
        super().__init__(manager, owner, factory, label, snapshot_every_s, page, meta)
        self.id = manager.new_job_id()  # unique across the replicas that share the cluster
        self.spec = factory  # what every actor of this job builds its runners from (after a failure too)
        self.actor: Any = None  # the handle of the job's current actor (its group actor's, for a member)
        self.group: Any = None  # the pool's Group (groups.py) while the job is a member of a group actor
        self.actor_name: str | None = None
        self.restarts: list[tuple[int, int]] = []  # (step restarted from, steps lost) per worker failure
        self.final_ref: Any = None  # the final snapshots in Ray's object store, for other replicas
        self.checkpoint: Checkpoint | None = None  # the newest one the actor reported
        self.stop_requested = False
        self.applied: list[tuple[int | None, dict]] = []  # every live change, replayed in a restarted actor
        self.inflight: Any = None  # the poll on its way back
        self.actor_version = -1  # the actor's snapshot version last received
        self.note: str | None = None  # what the student reads after a worker failure

    # ---- commands: straight to the actor ------------------------------------------------------------------
    def _command(self, cmd: tuple) -> None:
        if cmd[0] == "apply":
            self.applied.append((cmd[1], cmd[2]))
        elif cmd[0] == "stop":
            self.stop_requested = True
        super()._command(cmd)

    def _send(self, cmd: tuple) -> None:
        group, actor = self.group, self.actor  # in this order: the pool sets the group first, and drops it last
        if group is not None and actor is group.actor:
            actor.command.remote(self.id, *cmd)
        elif actor is not None:
            actor.command.remote(*cmd)

    # ---- the pool's side ------------------------------------------------------------------------------------
    def take(self, report: Report) -> None:
        """A poll's answer (ganlab/jobs/ray_backend/actor.py JobActor.poll); finished counts once the actor says
        everything is final ("done", RayPool._finished)."""
        if report.checkpoint is not None:
            ck, held = report.checkpoint, self.checkpoint
            self.checkpoint = ck
            store = self._manager.store
            if ck is not None and self.store_key and store is not None and (held is None or held.seq != ck.seq):
                store.put(self.store_key, ck.data, ck.step)  # the run store: on storage every replica reaches
        if self.take_polled(report):
            self.actor_version = report.version
        self.error = report.error or self.note

    def rewind(self) -> None:
        """Its actor died: note the failure for the student and go back to the newest checkpoint's steps."""
        ck = self.checkpoint
        start = ck.step if ck is not None else 0
        lost = max(0, max((p[0] for p in self._progress), default=0) - start)
        self.restarts.append((start, lost))
        self.note = self.error = (f"restarted from step {start} after a worker failure ({lost} steps lost)"
                                  if ck is not None else "restarted from the beginning after a worker failure")
        steps = ck.steps if ck is not None else (0,) * len(self._progress)
        self._progress = tuple((s, p[1]) for s, p in zip(steps, self._progress))

    def end(self, status: Status) -> None:
        self.status = status
        self._done.set()
        self._manager._on_finished(self)

    def record(self) -> dict:
        """What other replicas know of this job (the registry's copy; ganlab/jobs/ray_backend/registry.py)."""
        return {"id": self.id, "owner": self.owner, "label": self.label, "page": self.page, "meta": self.meta,
                "created": self.created, "status": str(self.status), "error": self.error,
                "progress": self._progress, "actor": self.actor_name, "group": self.group is not None,
                "final": self.final_ref}


class RemoteRunner(PolledRunner):
    """One runner of a RayJob as a page reads it; the runner itself trains in the job's actor."""

    WHERE = "a Ray actor"

    def _blob(self) -> bytes | None:
        ck = self._job.checkpoint
        if ck is None or self.index >= len(ck.data):
            return None
        return ck.data[self.index]

    def _trainer_copy(self):
        return self.trainer_copy("cpu")

    def trainer_copy(self, device: str = "cpu"):
        """A copy of the run on `device` from its newest checkpoint (None before the first one, or for a runner
        without a Trainer); rebuilt when a newer checkpoint arrives."""
        ck = self._job.checkpoint
        if self._blob() is None:
            return None
        key = (ck.seq, device)
        if self._copy is None or self._copy[0] != key:
            from ganlab import checkpoint

            spec = self._job.spec
            run = checkpoint.load(ck.data[self.index], max_bytes=MAX_BYTES)
            trainer = run.make_trainer(device=device, points=getattr(spec, "points", None),
                                       data_dir=getattr(spec, "data_dir", None), quality=False)
            self._copy = (key, trainer)
        return self._copy[1]


RayJob.runner_class = RemoteRunner  # (defined after the job, which the runner reads)


class RemoteJob(Job):
    def __init__(self, manager, record: dict):
        super().__init__(manager, record["owner"], None, record["label"], 0.0, record["page"], record["meta"])
        self.id = record["id"]
        self.created = record["created"]
        self.status = Status(record["status"])
        self.error = record["error"]
        self.actor_name = record["actor"]
        self.grouped = bool(record.get("group"))  # a member of a group actor: calls name its job id
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
            actor.command.remote(*((self.id,) if self.grouped else ()), *cmd)

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
            call = actor.snapshots.remote(self.id, version) if self.grouped else actor.snapshots.remote(version)
            return ray.get(call, timeout=5.0)
        except Exception:  # noqa: BLE001 - another replica's run that just ended: keep what we had
            return None

    def run_slice(self, seconds: float) -> bool:
        raise RuntimeError("another replica drives this job")
