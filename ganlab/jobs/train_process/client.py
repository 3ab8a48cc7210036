"""The app server's side of the training process (see ganlab/jobs/train_process/__init__.py).

TrainProcess starts the child (`python -m ganlab.jobs.train_process.server`) on a private socket pair, sends
each ProcJob's start and commands as they are made, and polls every job in one round trip every POLL_S
seconds: status, step counts and budgets always (the live line's counter), snapshots only when the child
published a newer one. A poller thread runs only while the child has jobs, so an idle server has no extra
thread; the child process stays (a class's next Start trains at once) and ends with the server.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from socket import socketpair
from typing import Any

from ganlab.jobs.polled import PolledJob, PolledRunner
from ganlab.jobs.report import Report
from ganlab.jobs.status import FINISHED, Status

POLL_S = 0.1  # how stale a live line's step counter may be
REPLY_TIMEOUT_S = 30.0  # a child that does not answer a poll for this long is taken for dead
WEIGHTS_WAIT_S = 1.0  # how long a page waits for a fresh weights copy (the run's worker makes it between steps)
# before it takes an older copy, or none this time; a slow answer is never taken for a dead child
COPY_FRESH_S = 1.0  # server.COPY_FRESH_S (not imported: the server module is the child's)
WEIGHTS_RETRY_S = 0.05
CHILD_DIED = "the training process stopped unexpectedly ({why}); press Start to train again"


def picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
        return True
    except Exception:  # noqa: BLE001 - a closure, a lock...: the job trains in this process instead
        return False


class ProcJob(PolledJob):
    """A job whose runners train in the training process. Pages use it like a local Job; its commands go to
    the child at once (or when it starts, if queued) and its status, steps and snapshots come back by poll."""

    def __init__(self, manager, owner, factory, label, snapshot_every_s, page="", meta=None):
        super().__init__(manager, owner, factory, label, snapshot_every_s, page, meta)
        self.version_seen = -1  # the child's snapshot version last received
        self.spec = factory  # kept for the run's points (a local copy of the run is built with them)
        self.final_weights: tuple | None = None  # the child's last checkpoint of each runner, once over

    def _send(self, cmd: tuple) -> None:
        if self.status not in FINISHED:
            self._manager.train_process().command(self, cmd)

    def take(self, rep: Report) -> bool:
        """A poll's Report (server.ProcessService.report). Returns True when the job is over."""
        self.take_polled(rep)
        self.error = rep.error
        if rep.weights is not None:
            self.final_weights = tuple(rep.weights)
        if rep.done:
            status = Status(rep.status)
            self.status = status if status in FINISHED else Status.STOPPED
            self._end()
            return True
        return False

    def fail(self, message: str) -> None:
        self.status, self.error = Status.ERROR, message
        self._end()

    def _end(self) -> None:
        if not self._done.is_set():
            self._done.set()
            self._manager._on_finished(self)


class ProxyRunner(PolledRunner):
    """One runner of a ProcJob as a page reads it (the runner itself trains in the child). Its weights come from
    a CPU copy built from the child's current weights, refreshed when the run has moved on (the Latent space
    page's "your run"); None when the child cannot give one."""

    WHERE = "the training process"
    COPY_EVERY_S = 2.0  # a live run's copy is refreshed at most this often; self._copy: (made at, step, trainer)

    def _blob(self) -> bytes | None:
        final = self._job.final_weights
        if final is not None:
            return final[self.index] if self.index < len(final) else None
        return self._job._manager.train_process().weights(self._job, self.index)

    def holds_networks(self) -> bool:
        """Without a round trip to the training process: its final weights once the job is over, else whether the
        run has stepped there (its networks exist from the first step on)."""
        final = self._job.final_weights
        if final is not None:
            return self.index < len(final) and final[self.index] is not None
        return self._copy is not None or self.step_count > 0

    def _trainer_copy(self):
        held = self._copy
        step = self.step_count
        if held is not None and (held[1] == step or time.monotonic() - held[0] < self.COPY_EVERY_S):
            return held[2]
        blob = self._blob()
        if blob is None:
            return held[2] if held is not None else None
        from ganlab import checkpoint

        spec = self._job.spec
        run = checkpoint.load(blob)
        trainer = run.make_trainer(device="cpu", points=getattr(spec, "points", None), quality=False)
        self._copy = (time.monotonic(), step, trainer)
        return trainer


ProcJob.runner_class = ProxyRunner  # (defined after the job, which the runner reads)


class TrainProcess:
    """The child and its poller. workers: the child's worker threads; threads: its torch threads per run."""

    def __init__(self, workers: int, threads: int = 0, poll_s: float = POLL_S):
        self.workers, self.threads, self.poll_s = workers, threads, poll_s
        self._lock = threading.RLock()  # one message at a time on the socket, and the job table
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._jobs: dict[int, ProcJob] = {}
        self._poller: threading.Thread | None = None
        self._closed = threading.Event()
        self._owed = 0  # replies still on their way to requests given up on (read and dropped, in order)

    # ---- the child ----------------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Start the child unless it runs (ahead of the first Start: it imports torch, ~2 s)."""
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the training process was closed")
            if self._proc is not None and self._proc.poll() is None:
                return
            ours, theirs = socketpair()
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ganlab.jobs.train_process.server", str(theirs.fileno()), str(self.workers),
                 str(self.threads)], pass_fds=(theirs.fileno(),), env=env, cwd=os.getcwd())
            theirs.close()
            self._conn = Connection(ours.detach())
            self._owed = 0

    def pid(self) -> int | None:
        p = self._proc
        return p.pid if p is not None and p.poll() is None else None

    def _died(self, why: str) -> None:
        """The child is gone (or hung): every job it had ends with an error; the next Start starts a new one."""
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
            proc, self._proc, conn, self._conn = self._proc, None, self._conn, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            why = f"{why}, exit status {proc.wait()}"
        if conn is not None:
            conn.close()
        for job in jobs:
            job.fail(CHILD_DIED.format(why=why))

    def _send(self, msg: tuple) -> None:
        """Called with the lock held."""
        try:
            self._conn.send(msg)
        except (OSError, ValueError, AttributeError) as e:
            raise ChildGone(f"{type(e).__name__}") from e

    # ---- jobs -----------------------------------------------------------------------------------------------
    def start_job(self, job: ProcJob) -> None:
        try:
            with self._lock:
                self.ensure()
                self._jobs[job.id] = job
                store = job._manager.store
                saved = (store.spec(), job.store_key) if store is not None and job.store_key else None
                self._send(("submit", job.id, job._factory, job.label, saved))
                job._factory = None
                for cmd in job.arrived():  # under the lock: a newer command waits for these
                    self._send(("cmd", job.id, cmd))
                self._ensure_poller()
        except ChildGone as e:
            self._died(str(e))

    def command(self, job: ProcJob, cmd: tuple) -> None:
        try:
            with self._lock:
                if job.id in self._jobs:
                    self._send(("cmd", job.id, cmd))
        except ChildGone as e:
            self._died(str(e))

    def _ask(self, msg: tuple, timeout: float):
        """Called with the lock held: send `msg` and return its reply, or _NO_REPLY after `timeout` seconds (the
        reply is then owed and dropped when it comes). Replies come in order: owed ones are read first, each
        within REPLY_TIMEOUT_S (a child that long silent is taken for dead: ChildGone)."""
        self._send(msg)
        while self._owed:
            if not self._conn.poll(REPLY_TIMEOUT_S):
                raise ChildGone(f"no answer in {REPLY_TIMEOUT_S:g} s")
            self._conn.recv()
            self._owed -= 1
        if not self._conn.poll(timeout):
            if timeout >= REPLY_TIMEOUT_S:
                raise ChildGone(f"no answer in {REPLY_TIMEOUT_S:g} s")
            self._owed += 1
            return _NO_REPLY
        return self._conn.recv()

    def weights(self, job: ProcJob, index: int, wait_s: float = WEIGHTS_WAIT_S) -> bytes | None:
        """A recent checkpoint of one runner of `job` from the child. The child answers at once from copies its
        workers make between steps (server.WeightsCopies): asked again while it has none or only an old one, for
        up to `wait_s` seconds, then the old one or None (none this time, the run is gone, or it has no
        networks). Only a child that stops answering polls is taken for dead."""
        end = time.monotonic() + wait_s
        older = None
        try:
            while True:
                with self._lock:
                    if job.id not in self._jobs or self._conn is None:
                        return None
                    answer = self._ask(("weights", job.id, index), max(0.0, end - time.monotonic()))
                if answer is _NO_REPLY or answer is None:
                    return older
                if isinstance(answer, tuple):  # (age, checkpoint or None)
                    age, blob = answer
                    if blob is None or age <= COPY_FRESH_S:
                        return blob
                    older = blob
                if time.monotonic() + WEIGHTS_RETRY_S >= end:  # still making a new copy: the older one, if any
                    return older
                time.sleep(WEIGHTS_RETRY_S)
        except (ChildGone, EOFError, OSError) as e:
            self._died(str(e) or type(e).__name__)
            return None

    def _ensure_poller(self) -> None:
        if self._poller is None or not self._poller.is_alive():
            self._poller = threading.Thread(target=self._poll_loop, name="ganlab-train-poller", daemon=True)
            self._poller.start()

    def poll_once(self) -> bool:
        """One round trip; False when there is nothing left to poll."""
        with self._lock:
            if not self._jobs or self._conn is None:
                self._poller = None if threading.current_thread() is self._poller else self._poller
                return False
            try:
                reports = self._ask(("poll", {jid: j.version_seen for jid, j in self._jobs.items()}), REPLY_TIMEOUT_S)
            except (ChildGone, EOFError, OSError) as e:
                why = str(e) or type(e).__name__
                reports = None
        if reports is None:
            self._died(why)
            return False
        for jid, rep in reports.items():
            job = self._jobs.get(jid)
            if job is None:
                continue
            if rep.snapshots is not None:
                job.version_seen = rep.version
            try:
                over = job.take(rep)
            except Exception:  # noqa: BLE001 - one odd report must not stop the polling of the others
                traceback.print_exc()
                over = False
            if over:
                with self._lock:
                    self._jobs.pop(jid, None)
        return True

    def _poll_loop(self) -> None:
        while not self._closed.wait(self.poll_s):
            if not self.poll_once():
                return

    def close(self, timeout: float = 5.0) -> None:
        """Stop the child's jobs and the child (the server is exiting)."""
        self._closed.set()
        with self._lock:
            proc, conn = self._proc, self._conn
            if proc is not None and proc.poll() is None and conn is not None:
                try:
                    conn.send(("close", max(0.5, timeout - 1.0)))
                    if conn.poll(timeout):
                        conn.recv()
                except (OSError, EOFError, ValueError):
                    pass
            self._proc = self._conn = None
        if proc is not None:
            try:
                proc.wait(max(0.5, timeout))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if conn is not None:
            conn.close()
        poller = self._poller
        if poller is not None and poller is not threading.current_thread():
            poller.join(1.0)


class ChildGone(RuntimeError):
    pass


_NO_REPLY = object()  # _ask gave up waiting (the reply is owed)
