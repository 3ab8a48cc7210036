"""The class as a whole: nicknames, the teacher's announcement, a table of every run, and class-wide commands.

Process-wide like the job manager (one class per server). Nothing here checks the passcode: the Class page
offers the teacher commands only after `ganlab/ui/teacher.py` accepted it, and students have no other way
to reach them.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from ganlab.i18n import _
from ganlab.jobs.job_manager import Job, JobManager
from ganlab.jobs.status import ACTIVE, Status

NICK_MAX = 24
NICK_PUNCT = " -_.'"


@dataclass(frozen=True)
class Announcement:
    id: int
    text: str
    link: str  # a share link (setup only) or ""
    at: float  # time.time()


@dataclass(frozen=True)
class RunRow:
    """One run on the Class page (a job of two runs gives two rows)."""
    job_id: int
    run: str  # "A", "B", or "" for a single run
    owner: str
    nickname: str
    page: str
    preset: str
    step: int
    budget: int
    steps_per_s: float
    status: str
    lesson: str  # the lesson's number: "modes 3 / 8", "FID 130", "JSD 0.08", ...


class Classroom:
    def __init__(self):
        self._lock = threading.Lock()
        self._nicks: dict[str, str] = {}
        self._anon = itertools.count(1)
        self._anon_of: dict[str, int] = {}
        self._announcement: Announcement | None = None
        self._ids = itertools.count(1)

    # ---- nicknames -------------------------------------------------------------------------------------------
    def set_nickname(self, owner: str, nick: str) -> str:
        """Keeps letters, digits, spaces and NICK_PUNCT only, at most NICK_MAX; an empty name goes back to the
        anonymous label. (A nickname is shown to the whole class: no markup, no links.)"""
        kept = "".join(ch if ch.isalnum() or ch in NICK_PUNCT else " " for ch in nick if ch.isprintable())
        clean = " ".join(kept.split())[:NICK_MAX]
        with self._lock:
            if clean:
                self._nicks[owner] = clean
            else:
                self._nicks.pop(owner, None)
        return self.nickname(owner)

    def nickname(self, owner: str) -> str:
        with self._lock:
            if owner in self._nicks:
                return self._nicks[owner]
            if owner not in self._anon_of:
                self._anon_of[owner] = next(self._anon)
            return f"student {self._anon_of[owner]}"

    def has_nickname(self, owner: str) -> bool:
        with self._lock:
            return owner in self._nicks

    # ---- announcement ----------------------------------------------------------------------------------------
    def announce(self, text: str, link: str = "") -> Announcement | None:
        text = text.strip()[:500]
        with self._lock:
            self._announcement = Announcement(next(self._ids), text, link.strip(), time.time()) if text else None
            return self._announcement

    def announcement(self) -> Announcement | None:
        with self._lock:
            return self._announcement

    # ---- the class's runs ------------------------------------------------------------------------------------
    def rows(self, manager: JobManager, current_only: bool = False) -> list[RunRow]:
        """A row per run, in job order; `current_only`: only the jobs `current_jobs` keeps."""
        rows = []
        for job in current_jobs(manager) if current_only else manager.all_jobs():
            snaps = job.snapshots()
            progress = job.progress()
            names = ("A", "B") if len(progress) > 1 else ("",)
            for i, name in enumerate(names[: max(1, len(progress))]):
                snap = snaps[i] if i < len(snaps) else None
                step = progress[i][0] if i < len(progress) else 0
                rows.append(RunRow(job.id, name, job.owner, self.nickname(job.owner), job.page,
                                   str(job.meta.get("preset", "")), step, _budget(snap, job), _rate(snap),
                                   _status(job, progress[i][1] if i < len(progress) else ""), lesson_number(snap)))
        return rows

    # ---- teacher commands --------------------------------------------------------------------------------------
    @staticmethod
    def pause_all(manager: JobManager) -> int:
        return _each(manager, lambda j: j.status == Status.RUNNING, Job.pause)

    @staticmethod
    def resume_all(manager: JobManager) -> int:
        return _each(manager, lambda j: j.status == Status.PAUSED, Job.resume)

    @staticmethod
    def stop_all(manager: JobManager) -> int:
        return _each(manager, lambda j: j.status in ACTIVE, Job.stop)


def current_jobs(manager: JobManager) -> list[Job]:
    """What the class is doing now: every active job, and each student's newest job on each page (a finished
    run stays on show until its student starts another there)."""
    newest: dict[tuple[str, str], int] = {}
    every = manager.all_jobs()
    for job in every:
        newest[(job.owner, job.page)] = max(job.id, newest.get((job.owner, job.page), 0))
    return [j for j in every if j.active or newest[(j.owner, j.page)] == j.id]


def _each(manager: JobManager, which, command) -> int:
    chosen = [j for j in manager.all_jobs() if which(j)]
    for j in chosen:
        command(j)
    return len(chosen)


def _budget(snap, job: Job) -> int:
    return int(getattr(getattr(snap, "config", None), "steps", 0) or 0)


def _rate(snap) -> float:
    seconds = getattr(snap, "seconds", 0.0) or 0.0
    return float(snap.step / seconds) if snap is not None and seconds > 0 else 0.0


def _status(job: Job, runner_status: str) -> str:
    return str(Status.DIVERGED) if runner_status == "diverged" else str(job.status)


def _last(history: dict, col: str) -> float | None:
    import math

    v = history.get(col) if history else None
    if v is None:
        return None
    finite = [float(x) for x in v if math.isfinite(float(x))]
    return finite[-1] if finite else None


def modes(snap) -> tuple[int, int] | None:
    """(modes captured, modes of the data) of a toy mixture run's latest logged interval, else None."""
    centers = getattr(snap, "centers", None)
    captured = _last(getattr(snap, "history", {}) or {}, "modes_captured")
    if centers is None or captured is None:
        return None
    return int(round(captured)), len(centers)


def lesson_number(snap) -> str:
    """The one number a run's lesson is about: modes captured (toy mixtures), feature FID (images), JSD (1-D)."""
    if snap is None:
        return ""
    h = getattr(snap, "history", {}) or {}
    m = modes(snap)
    if m is not None:  # made when a page reads the rows: in that session's language
        return _("modes {captured} / {total}").format(captured=m[0], total=m[1])
    fid = _last(h, "fid")
    if fid is not None:
        return f"FID {fid:.0f}"
    jsd = _last(h, "jsd")
    if jsd is not None:
        return f"JSD {jsd:.3f}"
    return ""


_CLASSROOM: Classroom | None = None
_LOCK = threading.Lock()


def classroom() -> Classroom:
    global _CLASSROOM
    with _LOCK:
        if _CLASSROOM is None:
            _CLASSROOM = Classroom()
        return _CLASSROOM


def install(room: Classroom) -> None:
    """Make `room` the process's classroom (the Ray backend's keeps nicknames and the announcement where every
    app replica reads them: ganlab/jobs/ray_backend/registry.py)."""
    global _CLASSROOM
    with _LOCK:
        _CLASSROOM = room
