"""The teacher's lesson on the Class page (passcode-unlocked): pick a lesson, start it, move the class from step to
step, end it, and download the class's predictions. Every callback checks again that this session is the
teacher's (ganlab/ui/teacher.py): a student's browser cannot move the class, whatever it sends.

Moving to a step notes the newest job id: the runs started after it are the ones the step's outcome judges
(ganlab/ui/lesson/tally_view.py).
"""
from __future__ import annotations

import csv
import functools
import io

import streamlit as st

from ganlab import jobs, lessons
from ganlab.i18n import _, pgettext
from ganlab.jobs import classroom
from ganlab.ui import lang, teacher
from ganlab.ui.class_view.teacher_panel import NOT_TEACHER
from ganlab.ui.lesson import follow

P = "class_lesson_"
_MSG = P + "msg"


def newest_job() -> int:
    return max((j.id for j in jobs.manager().all_jobs()), default=0)


def _refuse() -> bool:
    if teacher.is_teacher():
        return False
    st.session_state[_MSG] = _(NOT_TEACHER)
    return True


def _start() -> None:
    if _refuse():
        return
    try:
        lesson = lessons.get(str(st.session_state.get(P + "pick", "")))
    except KeyError:
        st.session_state[_MSG] = _("Pick a lesson first.")
        return
    classroom.classroom().pacing.start(lesson, newest_job())


def _move(by: int) -> None:
    if _refuse():
        return
    paced = follow.class_pace()
    if paced is not None:
        lesson, pace = paced
        classroom.classroom().pacing.goto(lesson, pace.step + by, newest_job())


def _end() -> None:
    if not _refuse():
        classroom.classroom().pacing.stop()


def predictions_csv(lesson: lessons.Lesson, lang_: str) -> str:
    """Every recorded prediction of the lesson: one row per student and step, with the right answer."""
    room = classroom.classroom()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([_("lesson"), _("step"), _("step id"), _("student"), _("prediction"), _("right answer"),
                _("right")])
    for k, step in enumerate(lesson.steps, 1):
        text = step.text(lang_)
        answers = room.pacing.answers(lesson.id, step.id)
        for nick, option in sorted((room.nickname(o), a) for o, a in answers.items()):
            w.writerow([lesson.id, k, step.id, nick, text.options[option], text.options[text.correct],
                        _("yes") if option == text.correct else _("no")])
    return out.getvalue()


def render() -> None:
    """The teacher's row of lesson controls (nothing for a student)."""
    if not teacher.is_teacher():
        return
    paced = follow.class_pace()
    all_ = lessons.all_lessons()
    here = lang.current()
    with st.container(border=True):
        c1, c2, c3, c4, c5, c6 = st.columns([2.3, 1.3, 1.5, 1.2, 1.2, 1.8], vertical_alignment="bottom")
        c1.selectbox(pgettext("a lesson", "Lesson"), [x.id for x in all_], key=P + "pick",
                     index=[x.id for x in all_].index(paced[0].id) if paced else 0,
                     format_func=lambda i: lessons.get(i).title.get(here))
        c2.button(_("Start lesson"), key=P + "start", on_click=lang.callback(_start), type="primary",
                  width="stretch", help=_("Every student's Lesson page shows its first step within a few seconds"))
        at = paced[1].step if paced else 0
        n = len(paced[0].steps) if paced else 0
        c3.button(_("Previous step"), key=P + "prev", on_click=lang.callback(_move), args=(-1,),
                  disabled=not paced or at == 0, width="stretch")
        c4.button(_("Next step"), key=P + "next", on_click=lang.callback(_move), args=(1,),
                  disabled=not paced or at >= n - 1, width="stretch")
        c5.button(_("End lesson"), key=P + "end", on_click=lang.callback(_end), disabled=not paced, width="stretch")
        if paced:
            c6.download_button(_("Predictions (CSV)"), functools.partial(predictions_csv, paced[0], here),
                               file_name=f"ganlab-{paced[0].id}-predictions.csv", mime="text/csv",
                               key=P + "csv", width="stretch", on_click="ignore")  # built when clicked
        msg = st.session_state.pop(_MSG, None)
        if msg:
            st.error(msg)
