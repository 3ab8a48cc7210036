"""Which lesson step this session shows: the class's current one while the teacher runs a lesson (unless the
student chose to go alone), else the student's own lesson and step, moved with Previous / Next."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ganlab import lessons
from ganlab.jobs import classroom
from ganlab.lessons.model import Lesson
from ganlab.lessons.pacing import Pace

FOLLOW = "lesson_follow"  # the toggle: follow the teacher (on by default)
OWN_LESSON = "lesson_own_id"
OWN_STEP = "lesson_own_step"


@dataclass(frozen=True)
class Shown:
    lesson: Lesson
    index: int  # 0-based step
    paced: bool  # the teacher's step (the student cannot move it)

    @property
    def step(self):
        return self.lesson.steps[self.index]


def class_pace() -> tuple[Lesson, Pace] | None:
    """The lesson the teacher runs and where, or None."""
    pace = classroom.classroom().pacing.current()
    if pace is None:
        return None
    try:
        return lessons.get(pace.lesson), pace
    except KeyError:  # a lesson file removed while it ran: nothing to show
        return None


def following() -> bool:
    return bool(st.session_state.get(FOLLOW, True))


def own() -> Shown:
    """The student's own place: the chosen lesson (the first one to begin with) and step."""
    all_ = lessons.all_lessons()
    ids = [x.id for x in all_]
    lid = st.session_state.get(OWN_LESSON)
    lesson = all_[ids.index(lid)] if lid in ids else all_[0]
    index = max(0, min(int(st.session_state.get(OWN_STEP, 0) or 0), len(lesson.steps) - 1))
    return Shown(lesson, index, paced=False)


def shown() -> Shown:
    paced = class_pace()
    if paced is not None and following():
        lesson, pace = paced
        return Shown(lesson, pace.step, paced=True)
    return own()


def choose_lesson(lesson_id: str) -> None:
    st.session_state[OWN_LESSON] = lesson_id
    st.session_state[OWN_STEP] = 0


def move(by: int) -> None:
    """Previous (-1) / Next (+1) of the student's own lesson, from where the page shows it."""
    now = own()
    st.session_state[OWN_LESSON] = now.lesson.id
    st.session_state[OWN_STEP] = max(0, min(now.index + by, len(now.lesson.steps) - 1))


def go_alone_from(shown_now: Shown) -> None:
    """Leaving the teacher's pace: the student's own lesson starts where the class is."""
    st.session_state[OWN_LESSON] = shown_now.lesson.id
    st.session_state[OWN_STEP] = shown_now.index
