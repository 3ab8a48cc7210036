"""The class as a whole: nicknames, the teacher's announcement, a table of every run, and class-wide commands.

Process-wide like the job manager (one class per server). Nothing here checks the passcode: the Class page
offers the teacher commands only after `ganlab/ui/teacher.py` accepted it, and students have no other way
to reach them.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from ganlab import store as _store
from ganlab.i18n import _
from ganlab.jobs.job import Job
from ganlab.jobs.job_manager import JobManager
from ganlab.jobs.status import ACTIVE, Status
from ganlab.lessons.pacing import Pacing
from ganlab.rate import CounterRate
from ganlab.text import INVISIBLE

NICK_MAX = 24
NICK_PUNCT = " -_.'"
# Letters that draw nothing (Hangul fillers, Khmer inherent vowels, the blank Braille cell): invisible although
# Unicode files them as letters or symbols; NFKC has already mapped the half-width filler to U+3164.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u17b4\u17b5\u2800")
# The anonymous label (`anonymous`) in any case or spacing, and how a Chinese class would write it.
ANONYMOUS = re.compile(r"(student|学生|同学)\s*(no\.?|#|号)?\s*\d+\s*号?", re.IGNORECASE)


class NicknameRefused(ValueError):
    """A nickname the class cannot show; the message says why, in the student's language."""


def anonymous(number: int) -> str:
    """The Class page's name of a student who set no nickname."""
    return f"student {number}"


def clean_nickname(nick: str) -> str:
    """What of `nick` the class sees: NFKC-normalised (full-width letters and digits become plain ones), white
    space of any kind as one space, invisible characters (controls, zero-width and direction marks, private use,
    unassigned, blank letters) dropped, anything but letters, digits and NICK_PUNCT as a space, trimmed, at most
    NICK_MAX characters."""
    text = unicodedata.normalize("NFKC", str(nick))
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or (unicodedata.category(ch) not in INVISIBLE and ch not in BLANK_LETTERS))
    kept = "".join(ch if ch.isalnum() or ch in NICK_PUNCT else " " for ch in text)
    return " ".join(kept.split())[:NICK_MAX].strip()


def check_nickname(nick: str) -> str:
    """The cleaned nickname, "" when the student cleared it (back to the anonymous label); NicknameRefused
    when something was typed that shows as nothing or as an anonymous student's label."""
    clean = clean_nickname(nick)
    if not clean and str(nick).strip():
        raise NicknameRefused(_("That nickname has nothing the class could read: use letters or digits (spaces "
                                "and - _ . ' are fine too)."))
    if ANONYMOUS.fullmatch(clean):
        raise NicknameRefused(_("\"{nick}\" looks like the name of a student without a nickname: pick another "
                                "one, so nobody is taken for someone else.").format(nick=clean))
    return clean


def unique_nickname(nick: str, taken: set[str]) -> str:
    """`nick`, or `nick (2)`, `nick (3)`, ... when another student has it (compared without case)."""
    taken = {t.casefold() for t in taken}
    if nick.casefold() not in taken:
        return nick
    for k in itertools.count(2):
        suffix = f" ({k})"
        candidate = nick[: NICK_MAX - len(suffix)].rstrip() + suffix
        if candidate.casefold() not in taken:
            return candidate
    raise AssertionError("unreachable")


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
    """store: a run store (ganlab/store/) where nicknames outlive a restart; the server's classroom() has the
    default one, a Classroom made elsewhere none."""

    def __init__(self, store=None):
        self.store = store
        self._lock = threading.Lock()
        self._nicks: dict[str, str] = {}
        self._anon = itertools.count(1)
        self._anon_of: dict[str, int] = {}
        self._announcement: Announcement | None = None
        self._ids = itertools.count(1)
        self._rates: dict[tuple[int, int], CounterRate] = {}  # (job id, run index) -> its counter's rate
        self._asked: set[str] = set()  # owners whose nickname was looked up in the run store (after a restart)
        self.pacing = Pacing()  # the lesson the teacher runs, its step, the students' predictions

    # ---- nicknames -------------------------------------------------------------------------------------------
    def set_nickname(self, owner: str, nick: str) -> str:
        """Sets the cleaned nickname (clean_nickname), made unique in the class (unique_nickname), and returns
        it; an empty name goes back to the anonymous label. NicknameRefused (nothing changes) for a name that
        shows as nothing or as an anonymous label. (A nickname is shown to the whole class: no markup, no links.)"""
        clean = check_nickname(nick)
        with self._lock:
            self._asked.add(owner)
            if clean:
                self._nicks[owner] = unique_nickname(clean, {v for k, v in self._nicks.items() if k != owner})
            else:
                self._nicks.pop(owner, None)
            kept = self._nicks.get(owner, "")
        _keep_nickname(self.store, owner, kept)
        return self.nickname(owner)

    def _recall(self, owner: str) -> None:
        """Once per owner and process, the nickname the store kept: a restarted server knows the class's names."""
        if owner not in self._asked:
            stored = _stored_nickname(self.store, owner)
            with self._lock:
                self._asked.add(owner)
                if stored and owner not in self._nicks:
                    self._nicks[owner] = unique_nickname(stored, {v for k, v in self._nicks.items() if k != owner})

    def nickname(self, owner: str) -> str:
        """The owner's nickname, else their anonymous label ("student N": N given at the first ask)."""
        self._recall(owner)
        with self._lock:
            if owner in self._nicks:
                return self._nicks[owner]
            if owner not in self._anon_of:
                self._anon_of[owner] = next(self._anon)
            return anonymous(self._anon_of[owner])

    def has_nickname(self, owner: str) -> bool:
        """Whether the owner chose a nickname (this process, or kept by the store); gives no anonymous number."""
        self._recall(owner)
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
                                   str(job.meta.get("preset", "")), step, _budget(snap, job),
                                   self._counter_rate((job.id, i), step, job.status == Status.RUNNING),
                                   _status(job, progress[i][1] if i < len(progress) else ""), lesson_number(snap)))
        with self._lock:  # forget the counters of jobs that left the table
            if len(self._rates) > 2 * len(rows) + 64:
                seen = {(r.job_id, "AB".index(r.run) if r.run else 0) for r in rows}
                self._rates = {k: v for k, v in self._rates.items() if k in seen}
        return rows

    def _counter_rate(self, key: tuple[int, int], step: int, running: bool) -> float:
        """Steps per second the run's counter moved at over the last few reads of the table (ganlab/rate.py;
        not the runner's compute rate); 0 while not running or not yet known."""
        with self._lock:
            rate = self._rates.setdefault(key, CounterRate()).update(step)
        return rate if running and rate is not None else 0.0

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


def _stored_nickname(s, owner: str) -> str | None:
    try:
        return s.nickname(owner) if s is not None else None
    except Exception:  # noqa: BLE001
        return None


def _keep_nickname(s, owner: str, nick: str) -> None:
    try:
        if s is not None:
            s.set_nickname(owner, nick)
    except Exception:  # noqa: BLE001 - the class still sees the name now
        pass


_CLASSROOM: Classroom | None = None
_LOCK = threading.Lock()


def classroom() -> Classroom:
    global _CLASSROOM
    with _LOCK:
        if _CLASSROOM is None:
            _CLASSROOM = Classroom(_store.default_or_none())
        return _CLASSROOM


def install(room: Classroom) -> None:
    """Make `room` the process's classroom (the Ray backend's keeps nicknames and the announcement where every
    app replica reads them: ganlab/jobs/ray_backend/registry.py)."""
    global _CLASSROOM
    with _LOCK:
        _CLASSROOM = room
