"""The class lesson's one line in the banner on every other page: which step the teacher is on, and a link to
the Lesson page (so a student on the lab sees the class move on within the banner's few seconds)."""
from __future__ import annotations

import streamlit as st

from ganlab.i18n import _
from ganlab.ui import lang
from ganlab.ui.lesson import follow


def draw() -> None:
    paced = follow.class_pace()
    if paced is None:
        return
    lesson, pace = paced
    here = lang.current()  # only the two titles: not the whole lesson's text on every page's banner tick
    step = lesson.steps[pace.step].title.get(here)
    st.info(_("**Lesson:** {title} · step {k} of {n}: {step} · [Open the lesson](./lesson)").format(
        title=lesson.title.get(here), k=pace.step + 1, n=len(lesson.steps), step=step), icon=":material/school:")
