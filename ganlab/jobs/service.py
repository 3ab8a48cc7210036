"""ExecutorService: an Executor's jobs under the ids the admitting process gave them -- the one message API that
the training process (ganlab/jobs/train_process/server.py) and a Ray actor (ray_backend/actor.py) serve:

    submit(id, factory, label, store_key, first)   start a job (first: commands applied before its first step)
    perform(id, cmd)                               a page's command; kept for an id not started yet (a call may
                                                   overtake the start), dropped for one already reported done
    poll({id: held})                               -> {id: Report} (ganlab/jobs/report.py) of every id asked
                                                   about; a job reported done is forgotten here, its final
                                                   report kept for a poll that asks again (KEEP_FINAL)
    members()                                      the ids held
    close(timeout)                                 stop every job

A submit that raises is reported once, by the next poll, as that job's error; the service goes on. Subclasses
add to a job's report (`report`: final weights, a newer checkpoint) and to its end (`ended`).
"""
from __future__ import annotations

import threading
from typing import Any, Mapping, Sequence

from ganlab.jobs import memory
from ganlab.jobs.executor import Executor
from ganlab.jobs.job import Job
from ganlab.jobs.report import Report, failed, of, starting

KEEP_FINAL = 64  # final reports kept for forgotten jobs (a poller whose answer was lost asks again at once;
# a teacher's "Stop all runs" ends a class's jobs within one poll)


class ExecutorService:
    def __init__(self, executor: Executor):
        self._executor = executor
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._early: dict[int, list[tuple]] = {}  # commands that came before their job
        self._gone: set[int] = set()  # jobs reported done and forgotten (late commands are dropped)
        self._failed: dict[int, str] = {}  # submits that raised: reported as errors, then kept in _final
        self._final: dict[int, Report] = {}  # the last KEEP_FINAL final reports, oldest first

    def submit(self, jid: int, factory, label: str = "", store_key: str | None = None,
               first: Sequence[tuple] = ()) -> Job | None:
        try:
            job = self._executor.run(factory, label=label, store_key=store_key, first=first)
        except Exception as e:  # noqa: BLE001 - told to the student by the next poll; the others go on
            with self._lock:
                self._failed[jid] = f"{type(e).__name__}: {e}"
            return None
        with self._lock:
            self._jobs[jid] = job
            early = self._early.pop(jid, [])
        for cmd in early:
            job.perform(cmd)
        return job

    def job(self, jid: int) -> Job | None:
        with self._lock:
            return self._jobs.get(jid)

    def perform(self, jid: int, cmd: tuple) -> None:
        with self._lock:
            job = self._jobs.get(jid)
            if job is None:
                if jid not in self._gone:
                    self._early.setdefault(jid, []).append(cmd)
                return
        job.perform(cmd)

    def members(self) -> list[int]:
        with self._lock:
            return sorted(self._jobs)

    def poll(self, known: Mapping[int, Any]) -> dict[int, Report]:
        """A Report of every job asked about (id -> what the caller holds of it: its snapshot version, or what a
        subclass's `report` reads); an id not started yet reads 'starting', one already over its final report
        again (the poller's copy of that answer may have been lost on the way)."""
        out: dict[int, Report] = {}
        for jid, held in known.items():
            version = held[0] if isinstance(held, tuple) else held
            with self._lock:
                job, why, final = self._jobs.get(jid), self._failed.pop(jid, None), self._final.get(jid)
            if why is not None:
                out[jid] = rep = failed(why, version)
                self._keep(jid, rep)
            elif job is None:
                out[jid] = final or starting(version)
            else:
                out[jid] = rep = self.report(jid, job, held)
                if rep.done:
                    self._keep(jid, rep)
                    self.forget(jid)
        return out

    def _keep(self, jid: int, rep: Report) -> None:
        with self._lock:
            self._final[jid] = rep
            while len(self._final) > KEEP_FINAL:
                del self._final[next(iter(self._final))]

    def report(self, jid: int, job: Job, held: Any) -> Report:
        return of(job, held)

    def forget(self, jid: int) -> None:
        """Its final report is on its way: free its runners (and, once none is left, the memory they held)."""
        with self._lock:
            job = self._jobs.pop(jid, None)
            self._gone.add(jid)
            empty = not self._jobs
        self.ended(jid)
        if job is not None:
            self._executor._forget(job)
        if empty:
            memory.trim()  # the class (or the group) left: give its freed memory back to the system

    def ended(self, jid: int) -> None:
        """Subclass: forget what it keeps of the job."""

    def close(self, timeout: float = 5.0) -> None:
        self._executor.shutdown(timeout)
