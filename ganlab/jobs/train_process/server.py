"""The training process: `python -m ganlab.jobs.train_process.server FD WORKERS THREADS`.

FD is this end of a socket pair made by the app server (ganlab/jobs/train_process/client.py). The main thread
answers the server's messages, one at a time, while a local Executor (with class-engine stacking) trains in
its worker threads:

    ("submit", id, factory, label, saved)   start a job (factory: a picklable RunSpec, placed here as the
                                            server placed it, ganlab/jobs/placement.py; saved: (the server's
                                            run store spec, the run's key) or None: its checkpoints go to
                                            that store, ganlab/jobs/saves.py)
    ("cmd", id, cmd)                        a page's command: ("pause",) ("resume",) ("stop",) ("step", n)
                                            ("apply", index, changes)
    ("poll", {id: version})                 -> {id: Report} (ganlab/jobs/report.py): snapshots when newer than
                                            the version the server holds; once done, the final weights (then
                                            the job is forgotten here)
    ("weights", id, index)                  -> (age in seconds, checkpoint bytes without optimiser states, or
                                            None) of that runner's newest copy, NOT_YET (none yet: one is
                                            being made, ask again), or None (no such run): what the server
                                            builds a local copy of the run from (the Latent space page's "your
                                            run"). A copy older than COPY_FRESH_S has a newer one on its way.
    ("close", timeout)                      -> "closed": stop every job, then exit

The main thread never waits on a step: a poll reads step counters and published snapshots, a command is queued
for the job's worker, and a weights copy is made by the job's own worker at its next step boundary (where
reading the runner cannot race a step; Job.between_steps, served within a slice even when the run waits for
its share of time) into a slot the main thread answers from (WeightsCopies).

The process ends when its socket closes (the server exited, even by SIGKILL). SIGINT is ignored: Ctrl-C in the
teacher's terminal reaches the whole process group, and the server closes this process itself.
"""
from __future__ import annotations

import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import replace
from multiprocessing.connection import Connection

from ganlab.jobs.report import Report, of
from ganlab.jobs.service import ExecutorService

NOT_YET = "not yet"  # a weights answer: a copy is being made at the run's next step boundary; ask again
COPY_FRESH_S = 1.0  # a weights copy older than this is refreshed when asked for (a live run moves on)


def _safe_weights(job, index: int) -> bytes | None:
    try:
        return weights(job, index)
    except Exception:  # noqa: BLE001 - e.g. a run that failed before it had networks
        return None


def weights(job, index: int) -> bytes | None:
    """The runner's current weights as a checkpoint (ganlab.checkpoint, weights_only-loadable), or None.
    Only where nothing steps it: in the job's worker between steps (Job.between_steps), or once the job is over
    (its runners parked)."""
    runners = list(job.runners)
    return runners[index].checkpoint(optimizers=False) if index < len(runners) else None


class WeightsCopies:
    """The newest weights copy of each (job id, runner index) asked for, made by the job's worker between its
    steps; the main thread only hands out what is there, so a weights request never waits on a step."""

    def __init__(self):
        self._lock = threading.Lock()
        self._slots: dict[tuple[int, int], tuple[float, bytes | None]] = {}  # -> (made at, checkpoint or None)
        self._pending: set[tuple[int, int]] = set()
        self._final: dict[tuple[int, int], bytes | None] = {}  # a finished job's weights, serialised once

    def answer(self, jid: int, job, index: int) -> tuple[float, bytes | None] | str | None:
        """The weights message's answer (see the module docstring); asks the job's worker for a new copy when
        the one held is missing or older than COPY_FRESH_S."""
        if job is None:
            return None
        key = (jid, index)
        if job.join(0):  # over: its parked runners no longer change, so they are serialised once
            with self._lock:
                if key not in self._final:
                    self._final[key] = _safe_weights(job, index)
                return 0.0, self._final[key]
        with self._lock:
            held = self._slots.get(key)
            age = None if held is None else time.monotonic() - held[0]
            ask = (age is None or age > COPY_FRESH_S) and key not in self._pending
            if ask:
                self._pending.add(key)
        if ask:
            job.between_steps(lambda j: self._fill(key, j, index))
        return NOT_YET if held is None else (age, held[1])

    def _fill(self, key: tuple[int, int], job, index: int) -> None:
        blob = None
        try:
            blob = weights(job, index)
        finally:  # a failed copy answers None (the page says there is no copy), and the next ask tries again
            with self._lock:
                self._slots[key] = (time.monotonic(), blob)
                self._pending.discard(key)

    def forget(self, jid: int) -> None:
        with self._lock:
            for slots in (self._slots, self._final):
                for key in [k for k in slots if k[0] == jid]:
                    del slots[key]


def _use_store(executor, saved) -> str | None:
    """The run's key in the server's store, opened here once (same folder, the server's boot: its runs count as
    live there); None when the server keeps no store or it cannot be opened here."""
    if saved is None:
        return None
    spec, key = saved
    if executor.store is None or executor.store.spec() != tuple(spec):
        try:
            from ganlab.store import RunStore

            executor.store = RunStore.from_spec(spec)
            executor.store_writes_status = False  # the server writes statuses (it knows who left)
        except Exception:  # noqa: BLE001 - the run trains unsaved
            traceback.print_exc()
            return None
    return key


class ProcessService(ExecutorService):
    """The training process's jobs: a finished job's report carries its final weights; weights copies on request."""

    def __init__(self, executor):
        super().__init__(executor)
        self.copies = WeightsCopies()

    def report(self, jid: int, job, held) -> Report:
        """A finished job's report carries its final weights (toy runs: ~100 kB), for a copy after this process
        forgot it."""
        rep = of(job, held)
        if rep.done:
            rep = replace(rep, weights=tuple(_safe_weights(job, i) for i in range(len(rep.budgets))))
        return rep

    def ended(self, jid: int) -> None:
        self.copies.forget(jid)

    def weights(self, jid: int, index: int):
        try:
            return self.copies.answer(jid, self.job(jid), index)
        except Exception:  # noqa: BLE001 - no copy this time; the page says so
            traceback.print_exc()
            return None


def serve(conn: Connection, workers: int) -> None:
    from ganlab.jobs.executor import Executor

    service = ProcessService(Executor(workers=workers, stacking=True))  # the server admitted every job it sends
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return  # the server is gone
            kind = msg[0]
            try:
                if kind == "submit":
                    _, jid, factory, label, saved = msg
                    service.submit(jid, factory, label, _use_store(service._executor, saved))
                elif kind == "cmd":
                    service.perform(msg[1], msg[2])
                elif kind == "poll":
                    conn.send(service.poll(msg[1]))
                elif kind == "weights":
                    conn.send(service.weights(msg[1], msg[2]))
                elif kind == "close":
                    service.close(float(msg[1]))
                    conn.send("closed")
                    return
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:  # a bad message must not end the class's training
                traceback.print_exc()
    finally:
        service.close(5.0)


def main(argv: list[str]) -> int:
    fd, workers, threads = int(argv[0]), int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    sock = socket.socket(fileno=fd)
    conn = Connection(sock.detach())
    serve(conn, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
