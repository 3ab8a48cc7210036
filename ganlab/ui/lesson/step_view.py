"""One lesson step as a student reads it, in one screen (1366x768): the text on the left; on the right the
question to answer *before* running, then (once the prediction is recorded) the link that opens the page with
the step's setup, what to look for, and the reveal.

The prediction is recorded in the class (ganlab.lessons.pacing, through the Classroom) before the link and the
reveal appear; the first answer stands. The option sent is an index checked against the step's options there.
"""
from __future__ import annotations

import streamlit as st

from ganlab.i18n import _
from ganlab.jobs import classroom
from ganlab.lessons.model import Lesson
from ganlab.lessons.pacing import AnswerRefused
from ganlab.ui import lang
from ganlab.ui.lesson.follow import Shown

_MSG = "lesson_msg"


def pick_key(lesson: Lesson, step_id: str) -> str:
    return f"lesson_pick_{lesson.id}_{step_id}"


def _record(owner: str, lesson: Lesson, step_id: str) -> None:
    """The button's callback: record the chosen option (an index the radio gave; checked again in pacing)."""
    st.session_state.pop(_MSG, None)
    try:
        classroom.classroom().pacing.answer(owner, lesson, step_id, st.session_state.get(pick_key(lesson, step_id)))
    except AnswerRefused as e:
        st.session_state[_MSG] = str(e)


def link(url: str) -> str:
    """A step's relative link ('?preset=...', 'theory?...') from the Lesson page: against the app's root."""
    return "./" + url


def draw(shown: Shown, owner: str) -> None:
    lesson, step = shown.lesson, shown.step
    text = step.text(lang.current())
    answered = classroom.classroom().pacing.answer_of(owner, lesson.id, step.id)
    left, right = st.columns([5, 4], gap="medium")
    with left:
        st.markdown(f"#### {shown.index + 1}. {text.title}")
        st.markdown(text.body)
    with right, st.container(border=True):
        st.markdown(_("**Predict before you run it:** {question}").format(question=text.question))
        key = pick_key(lesson, step.id)
        if answered is None:
            st.radio(_("Your prediction"), list(range(len(text.options))), format_func=lambda i: text.options[i],
                     index=None, key=key, label_visibility="collapsed")
            st.button(_("Record my prediction"), type="primary", key=f"lesson_record_{lesson.id}_{step.id}",
                      on_click=lang.callback(_record), args=(owner, lesson, step.id),
                      disabled=st.session_state.get(key) is None)
            err = st.session_state.pop(_MSG, None)
            if err:
                st.error(err)
            st.caption(_("The link that runs it, what to look for and the answer appear once your prediction is "
                         "recorded."))
            return
        st.markdown(_("**Your prediction:** {option}").format(option=text.options[answered]))  # recorded: it stands
        st.link_button(_("Open the page with this setup"), link(text.url), type="primary", width="stretch",
                       icon=":material/play_arrow:")
        st.markdown(_("**What to look for:** {text}").format(text=text.look_for))
        with st.popover(_("Reveal: what happened"), width="stretch"):  # over the page: the step stays on one screen
            right_or_not = (_("Your prediction was right.") if answered == text.correct
                            else _("The answer: {option}").format(option=text.options[text.correct]))
            st.markdown(f"**{right_or_not}** {text.reveal}")
