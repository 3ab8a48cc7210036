"""The class's lesson: which lesson the teacher runs and its current step, every student's prediction, and how
the class's runs answered each question.

Process-wide state lives in the Classroom (ganlab/jobs/classroom.py holds one `Pacing`); nothing here checks the
passcode (the Class page offers the teacher's commands only once ganlab/ui/teacher.py accepted it) and nothing
here imports Streamlit or the job layer: the caller hands in the lesson objects and the runs' snapshots.

A page that shows the lesson compares `Pacing.version` with the one it drew (an int read under a lock: the
cheap check a page's slow poll makes) and redraws when it moved.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ganlab.i18n import _
from ganlab.lessons.model import Lesson, Outcome, Step

MAX_ANSWERS = 2000  # per step: more students than any class; a flood of forged owners stops here


class AnswerRefused(ValueError):
    """An answer that cannot be recorded; the message says why, in the student's language."""


@dataclass(frozen=True)
class Pace:
    """Where the teacher has the class: lesson `lesson`, step index `step` (0-based)."""

    lesson: str
    step: int
    version: int  # moves on at every start, step change and stop
    first_job: int  # the class's runs with a job id above this one were started during this step


class Pacing:
    def __init__(self):
        self._lock = threading.Lock()
        self._pace: Pace | None = None
        self._version = 0
        self._answers: dict[tuple[str, str], dict[str, int]] = {}  # (lesson id, step id) -> owner -> option

    # ---- the teacher's pace ----------------------------------------------------------------------------------
    def start(self, lesson: Lesson, first_job: int, step: int = 0) -> Pace:
        """Run `lesson` for the class from step index `step` (clamped to its steps)."""
        with self._lock:
            self._version += 1
            self._pace = Pace(lesson.id, _clamp(step, lesson), self._version, int(first_job))
            return self._pace

    def goto(self, lesson: Lesson, step: int, first_job: int) -> Pace | None:
        """Move the class to step index `step` of the running lesson (clamped); None when `lesson` is not the one
        running (a stale click after the teacher switched lessons changes nothing)."""
        with self._lock:
            if self._pace is None or self._pace.lesson != lesson.id:
                return None
            step = _clamp(step, lesson)
            if step != self._pace.step:
                self._version += 1
                self._pace = Pace(lesson.id, step, self._version, int(first_job))
            return self._pace

    def stop(self) -> None:
        with self._lock:
            if self._pace is not None:
                self._version += 1
            self._pace = None

    def current(self) -> Pace | None:
        with self._lock:
            return self._pace

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    # ---- predictions -----------------------------------------------------------------------------------------
    def answer(self, owner: str, lesson: Lesson, step_id: str, option: Any) -> int:
        """Record `owner`'s prediction for a step of `lesson` and return the recorded option. The first answer
        stands (the reveal follows it), so a second call returns the first one. AnswerRefused for anything but
        one of the step's options: the browser's word is never taken for what the question offers."""
        if not isinstance(owner, str) or not owner:
            raise AnswerRefused(_("Your answer could not be recorded: this page has no student id. Reload it."))
        step = next((s for s in lesson.steps if s.id == step_id), None)
        if step is None:
            raise AnswerRefused(_("That question is not in this lesson any more: reload the Lesson page."))
        n = len(step.question.options)
        if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < n:
            raise AnswerRefused(_("Choose one of the {n} answers first.").format(n=n))
        with self._lock:
            held = self._answers.setdefault((lesson.id, step.id), {})
            if owner in held:
                return held[owner]
            if len(held) >= MAX_ANSWERS:
                raise AnswerRefused(_("This question has all the answers it can hold."))
            held[owner] = option
            return option

    def answer_of(self, owner: str, lesson_id: str, step_id: str) -> int | None:
        with self._lock:
            return self._answers.get((lesson_id, step_id), {}).get(owner)

    def answers(self, lesson_id: str, step_id: str) -> dict[str, int]:
        """{owner: option} of every recorded prediction for the step."""
        with self._lock:
            return dict(self._answers.get((lesson_id, step_id), {}))


def _clamp(step: int, lesson: Lesson) -> int:
    return max(0, min(int(step), len(lesson.steps) - 1))


# ---- what the class predicted against what its runs did -------------------------------------------------------
@dataclass(frozen=True)
class Tally:
    predicted: tuple[int, ...]  # students per option
    runs: tuple[int, ...]  # runs whose outcome fell in each option's range (zeros when the step has no outcome)
    judged: int  # runs with a value for the outcome's metric
    elsewhere: int  # of those, runs in no option's range

    @property
    def answered(self) -> int:
        return sum(self.predicted)


def run_value(snapshots: Sequence[Any], outcome: Outcome) -> float | None:
    """The outcome's metric for one job's run (`outcome.run`: A or B) at its latest logged interval, or None
    (no such run, nothing logged yet, not finite)."""
    if outcome.run >= len(snapshots) or snapshots[outcome.run] is None:
        return None
    column = (getattr(snapshots[outcome.run], "history", None) or {}).get(outcome.metric)
    if column is None:
        return None
    for i in range(len(column) - 1, -1, -1):  # the newest finite value: read from the end, not the whole column
        v = float(column[i])
        if math.isfinite(v):
            return v
    return None


def tally(step: Step, answers: Mapping[str, int], runs: Iterable[Sequence[Any]]) -> Tally:
    """Count the predictions per option, and judge each run (its job's snapshots) by the step's outcome."""
    n = len(step.question.options)
    predicted = [0] * n
    for option in answers.values():
        if 0 <= option < n:
            predicted[option] += 1
    landed, judged, elsewhere = [0] * n, 0, 0
    if step.outcome is not None:
        for snaps in runs:
            value = run_value(snaps, step.outcome)
            if value is None:
                continue
            judged += 1
            option = step.outcome.judge(value)
            if option is None:
                elsewhere += 1
            else:
                landed[option] += 1
    return Tally(tuple(predicted), tuple(landed), judged, elsewhere)
