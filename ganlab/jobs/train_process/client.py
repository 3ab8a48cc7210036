"""The app server's side of the training process (see ganlab/jobs/train_process/__init__.py): a Transport.

TrainProcess (ganlab/jobs/transport.py) starts the child (`python -m ganlab.jobs.train_process.server`) on a
private socket pair, sends each PolledJob's start and commands as they are made, and polls every job in one
round trip every POLL_S seconds: status, step counts and budgets always (the live line's counter), snapshots
only when the child published a newer one, the final weights once a job is over. A poller thread runs only
while the child has jobs, so an idle server has no extra thread; the child process stays (a class's next
Start trains at once) and ends with the server.
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

from ganlab.jobs.placement import STACK, TOY
from ganlab.jobs.polled import PolledJob

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


class TrainProcess:
    """The child and its poller. workers: the child's worker threads; threads: its torch threads per run."""

    where = "the training process"
    weights_on_request = True  # a copy its worker makes between steps (server.WeightsCopies)

    def __init__(self, workers: int, threads: int = 0, poll_s: float = POLL_S):
        self.workers, self.threads, self.poll_s = workers, threads, poll_s
        self._lock = threading.RLock()  # one message at a time on the socket, and the job table
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._jobs: dict[int, PolledJob] = {}
        self._poller: threading.Thread | None = None
        self._closed = threading.Event()
        self._owed = 0  # replies still on their way to requests given up on (read and dropped, in order)

    def accepts(self, placement, factory) -> bool:
        """Fresh 2-D toy runs (the class's): stacked there, or in a worker thread of the child."""
        return placement.where in (STACK, TOY) and picklable(factory)

    # ---- the child ----------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        if not self._closed.is_set():
            self.ensure()

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
    def start(self, job: PolledJob) -> None:
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

    def send(self, job: PolledJob, cmd: tuple) -> None:
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

    def weights(self, job: PolledJob, index: int, wait_s: float = WEIGHTS_WAIT_S) -> bytes | None:
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
            try:
                over = job.take(rep)
            except Exception:  # noqa: BLE001 - one odd report must not stop the polling of the others
                traceback.print_exc()
                over = False
            if over:  # its final weights came with this report
                with self._lock:
                    self._jobs.pop(jid, None)
                job.end()
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
