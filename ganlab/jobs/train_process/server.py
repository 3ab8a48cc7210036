"""The training process: `python -m ganlab.jobs.train_process.server FD WORKERS THREADS`.

FD is this end of a socket pair made by the app server (ganlab/jobs/train_process/client.py). The main thread
answers the server's messages, one at a time, while a local JobManager (with class-engine stacking) trains in
its worker threads:

    ("submit", id, factory, label, stack)   start a job (factory: a picklable RunSpec; stack: (config, points))
    ("cmd", id, cmd)                        a page's command: ("pause",) ("resume",) ("stop",) ("step", n)
                                            ("apply", index, changes)
    ("poll", {id: version})                 -> {id: report}: status, error, steps, budgets, log intervals, the
                                            snapshots when newer than the version the server holds, "done" once
                                            the job is over (then it is forgotten here)
    ("weights", id, index)                  -> a checkpoint (bytes, no optimiser states) of that runner now, or
                                            None: what the server builds a local copy of the run from (the
                                            Latent space page's "your run")
    ("close", timeout)                      -> "closed": stop every job, then exit

The process ends when its socket closes (the server exited, even by SIGKILL). SIGINT is ignored: Ctrl-C in the
teacher's terminal reaches the whole process group, and the server closes this process itself.
"""
from __future__ import annotations

import math
import signal
import socket
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

UNLIMITED = 1 << 30


def report(job, known: int | None) -> dict[str, Any]:
    runners = list(job.runners)
    out: dict[str, Any] = {"status": str(job.status), "error": job.error, "progress": job.progress(),
                           "budgets": tuple(r.budget for r in runners),
                           "log_every": tuple(r.log_every for r in runners), "version": job.version,
                           "done": job.join(0)}
    if out["version"] != known or out["done"]:
        out["snapshots"] = job.snapshots()
    if out["done"]:  # the final weights (toy runs: ~100 kB), for a copy after the child forgot the job
        out["weights"] = tuple(_safe_weights(job, i) for i in range(len(runners)))
    return out


def _safe_weights(job, index: int) -> bytes | None:
    try:
        return weights(job, index)
    except Exception:  # noqa: BLE001 - e.g. a run that failed before it had networks
        return None


def weights(job, index: int) -> bytes | None:
    """The runner's current weights as a checkpoint (ganlab.checkpoint, weights_only-loadable), or None."""
    from ganlab import checkpoint

    runners = list(job.runners)
    if index >= len(runners):
        return None
    r = runners[index]
    trainer = getattr(r, "trainer", None)
    if trainer is not None:
        with getattr(r, "lock", _NO_LOCK):
            return checkpoint.to_bytes(trainer, optimizers=False)
    engine = getattr(r, "engine", None)
    if engine is not None and getattr(r, "_member", None) is not None:  # a class-engine member
        from ganlab.engine.batched.runner import MemberView

        with engine._lock:
            if r.id in engine.ids:
                engine.materialise(r.id)
            return checkpoint.to_bytes(MemberView(r._member), optimizers=False)
    return None


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NO_LOCK = _NoLock()


def serve(conn: Connection, workers: int) -> None:
    from ganlab.jobs import memory
    from ganlab.jobs.job_manager import JobManager

    manager = JobManager(max_running=UNLIMITED, max_running_per_owner=UNLIMITED, max_jobs_per_owner=UNLIMITED,
                         keep_finished_per_owner=UNLIMITED, idle_timeout_s=math.inf, workers=workers,
                         stacking=True)
    jobs: dict[int, Any] = {}
    failed: dict[int, str] = {}  # submits that raised: reported once as errors
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return  # the server is gone
            kind = msg[0]
            try:
                if kind == "submit":
                    _, jid, factory, label, stack = msg
                    try:
                        jobs[jid] = manager.submit(f"job-{jid}", factory, label=label, stack=stack)
                    except Exception as e:  # noqa: BLE001 - told to the page, the process goes on
                        failed[jid] = f"{type(e).__name__}: {e}"
                elif kind == "cmd":
                    job = jobs.get(msg[1])
                    if job is not None:
                        job.perform(msg[2])
                elif kind == "poll":
                    known: dict[int, int] = msg[1]
                    out = {jid: report(job, known.get(jid)) for jid, job in list(jobs.items())}
                    for jid, error in failed.items():
                        out[jid] = {"status": "error", "error": error, "progress": (), "budgets": (),
                                    "log_every": (), "version": 0, "done": True, "snapshots": ()}
                    failed.clear()
                    conn.send(out)
                    for jid, rep in out.items():
                        if rep["done"] and jid in jobs:
                            manager._forget(jobs.pop(jid))  # its final report is on its way: free the runners
                            if not jobs:
                                memory.trim()  # the class left: give its freed memory back to the system
                elif kind == "weights":
                    job = jobs.get(msg[1])
                    try:
                        conn.send(weights(job, msg[2]) if job is not None else None)
                    except (BrokenPipeError, ConnectionResetError):
                        raise
                    except Exception:  # noqa: BLE001 - no copy this time; the page says so
                        traceback.print_exc()
                        conn.send(None)
                elif kind == "close":
                    manager.shutdown(float(msg[1]))
                    conn.send("closed")
                    return
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:  # a bad message must not end the class's training
                traceback.print_exc()
    finally:
        manager.shutdown(5.0)


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
