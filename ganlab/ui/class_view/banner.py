"""The teacher's announcement as a banner at the top of every page (app.py draws it on every run).

A small fragment polls the class's announcement every ANNOUNCE_EVERY_S seconds, so a new one appears without a
reload. Its tick also tells the job manager that this student is still here: a run paused for a long
explanation is not taken for abandoned by the idle reaper while its tab is open.
"""
from __future__ import annotations

import streamlit as st

from ganlab.jobs import classroom
from ganlab.ui import session

ANNOUNCE_EVERY_S = 3.0


def text(a: classroom.Announcement) -> str:
    """The banner's Markdown: the teacher's words, then a link to the preset when there is one."""
    link = f" · [Open the preset]({a.link})" if a.link else ""
    return f"**Teacher:** {a.text}{link}"


@st.fragment(run_every=ANNOUNCE_EVERY_S)
def banner() -> None:
    session.touch()
    a = classroom.classroom().announcement()
    if a is not None:
        st.info(text(a), icon=":material/campaign:")
