"""A job that trains in another process, as the server holds it: PolledJob and its PolledRunners.

One handle for every remote transport (ganlab/jobs/transport.py: the training process, a Ray actor). A page
uses it like a local Job. Its commands go to its transport (`send`), or are kept until the transport placed
the job (`arrived`). The transport's poller hands it Reports (ganlab/jobs/report.py), and `take` keeps what
they bring: each runner's (step, status) for `progress()`, snapshots, budgets, the newest weights. When the
transport ends the job (`end`, `fail`) it finishes. A PolledRunner reads its row of those and never steps.
Its weights come from the newest checkpoint the job holds, or from the transport on request (the training
process makes a copy between steps).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from ganlab.jobs.job import Job
from ganlab.jobs.report import MAX_BYTES, Checkpoint, Report
from ganlab.jobs.status import FINISHED, Status


class PolledJob(Job):
    trains_here = False  # its checkpoints are saved where it trains (the training process, a Ray actor)
    _final_status = Status.STOPPED  # the status `end()` gives: the last finished one a report brought

    def __init__(self, manager: Any, *args: Any, **kwargs: Any):
        super().__init__(manager, *args, **kwargs)
        self.transport = manager.transport  # ganlab/jobs/transport.py
        self.spec = self._factory  # what its runners are built from where it trains (after a failure too)
        self.seat: Any = None  # the transport's record of where it trains (ray_backend/hosts.py Seat)
        self.version_seen = -1  # the snapshot version of the newest snapshots received
        self.checkpoint: Checkpoint | None = None  # the newest weights a report brought (final ones at the end)
        self.applied: list[tuple[int | None, dict]] = []  # every live change (replayed after a restart)
        self.stop_requested = False
        self.restarts: list[tuple[int, int]] = []  # (step restarted from, steps lost) per failure over there
        self.note: str | None = None  # what the student reads after such a failure
        self._progress: tuple = ()
        self._budgets: tuple = ()  # each runner's budget and logging interval, as the newest report has them
        self._log_every: tuple = ()
        self._early: list[tuple] | None = []  # commands made before the job reached where it trains; None after
        self._early_lock = threading.Lock()

    # ---- commands: to where the job trains ------------------------------------------------------------------
    def _command(self, cmd: tuple) -> None:
        """A page's command: to the transport, or kept until the job gets where it trains (`arrived`)."""
        if cmd[0] == "apply":
            self.applied.append((cmd[1], cmd[2]))
        elif cmd[0] == "stop":
            self.stop_requested = True
        with self._early_lock:
            if self._early is not None:
                self._early.append(cmd)
                return
        if self.status not in FINISHED:
            self.transport.send(self, cmd)

    def arrived(self) -> list[tuple]:
        """The transport placed the job where it trains: later commands go straight there; returns the earlier
        ones, in order, for the transport to send first (once: a restarted job has none)."""
        with self._early_lock:
            early, self._early = self._early or [], None
        return early

    def run_slice(self, seconds: float) -> bool:
        raise RuntimeError(f"this job trains in {self.transport.where}; its poller reads it")

    # ---- the transport's side ---------------------------------------------------------------------------------
    def progress(self) -> tuple[tuple[int, str], ...]:
        return self._progress

    def take(self, report: Report) -> bool:
        """A poll's report: progress (runners made to match), snapshots when it has them, a newer checkpoint
        (into the run store when the job has a row there) or the final weights, the live status (queued over
        there means its runners are about to be built: STARTING here). Returns report.done: the transport then
        ends the job (`end`), once what it keeps of the job is final."""
        self._progress = tuple(tuple(p) for p in report.progress)
        if report.budgets:
            self._budgets, self._log_every = tuple(report.budgets), tuple(report.log_every)
        if len(self.runners) != len(self._progress):
            self.runners = [PolledRunner(self, i) for i in range(len(self._progress))]
        if report.snapshots is not None:
            with self._lock:
                self._snapshots = tuple(report.snapshots)
                self._version += 1
            self.version_seen = report.version
        ck = report.checkpoint
        if ck is not None:
            held, self.checkpoint = self.checkpoint, ck
            store = self._manager.store
            if self.store_key and store is not None and (held is None or held.seq != ck.seq):
                store.put(self.store_key, ck.data, ck.step)  # the run store: on storage every replica reaches
        if report.weights is not None:
            steps = tuple(p[0] for p in self._progress)
            self.checkpoint = Checkpoint(-1, steps, tuple(report.weights), time.time())
        self.error = report.error or self.note
        status = Status(report.status)
        if status not in FINISHED:
            self.status = Status.STARTING if status == Status.QUEUED else status
        else:
            self._final_status = status
        return report.done

    def end(self, status: Status | None = None) -> None:
        """Over (once): `status`, else the last finished status a report gave (STOPPED when none did)."""
        if self._done.is_set():
            return
        self.status = status if status is not None else self._final_status
        self._done.set()
        self._manager._on_finished(self)

    def fail(self, message: str) -> None:
        self.note = self.error = message
        self.end(Status.ERROR)

    def held(self, index: int) -> bytes | None:
        """Runner `index`'s weights in the newest checkpoint the job holds, or None."""
        ck = self.checkpoint
        return ck.data[index] if ck is not None and index < len(ck.data) else None


class PolledRunner:
    """One runner of a PolledJob as a page reads it. Its weights come from a CPU copy of the run built from
    its newest weights (the Latent space page's "your run", downloads), refreshed when the run has moved on, at
    most every COPY_EVERY_S while it trains."""

    COPY_EVERY_S = 2.0

    def __init__(self, job: PolledJob, index: int):
        self._job, self.index = job, index
        self._copy: tuple | None = None  # (made at, step, weights it was built from, device, Trainer)

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
        """The run's newest weights: the job's checkpoint, else the transport's copy on request."""
        job = self._job
        if job.checkpoint is not None or not job.transport.weights_on_request:
            return job.held(self.index)
        return job.transport.weights(job, self.index)

    def holds_networks(self) -> bool:
        """Whether the run has weights to copy from, asked without a round trip (a page's list of runs): its
        checkpoint's, else whether it has stepped where the transport copies on request."""
        job = self._job
        if job.checkpoint is not None:
            return job.held(self.index) is not None
        return self._copy is not None or (job.transport.weights_on_request and self.step_count > 0)

    def trainer_copy(self, device: str = "cpu"):
        """A Trainer on `device` rebuilt from the run's newest weights (nothing steps it), or None."""
        held, step = self._copy, self.step_count
        mine = held is not None and held[3] == device
        if mine and not self._job.join(0) and (held[1] == step or time.monotonic() - held[0] < self.COPY_EVERY_S):
            return held[4]
        blob = self._blob()
        if blob is None or (mine and blob is held[2]):
            return held[4] if mine else None
        from ganlab import checkpoint

        spec = self._job.spec
        run = checkpoint.load(blob, max_bytes=MAX_BYTES)
        trainer = run.make_trainer(device=device, points=getattr(spec, "points", None),
                                   data_dir=getattr(spec, "data_dir", None), quality=False)
        self._copy = (time.monotonic(), step, blob, device, trainer)
        return trainer

    def weights(self) -> Any:
        """From the CPU copy of the run (its modules as they are: nothing steps them)."""
        from ganlab.engine.weights import weights_of

        return weights_of(self.trainer_copy(), copy_modules=False)

    def checkpoint(self, optimizers: bool = True) -> bytes | None:
        """The run's newest checkpoint as it came (the training process sends weights only; a Ray actor's restart
        checkpoints keep the optimisers), whatever `optimizers` asks."""
        return self._blob()

    def step(self, n: int) -> dict[str, float]:
        raise RuntimeError(f"this run trains in {self._job.transport.where}: send its job a command instead")

    def apply(self, **changes: Any) -> None:
        self._job.apply(self.index, **changes)

    def park(self) -> None:
        pass

    def release(self) -> None:
        self._copy = None
