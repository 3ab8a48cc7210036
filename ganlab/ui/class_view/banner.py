"""The teacher's announcement as a banner at the top of every page (app.py draws it on every run).

A small fragment polls the class's announcement every ANNOUNCE_EVERY_S seconds, so a new one appears without a
reload; the same tick shows the class lesson's step (ganlab/ui/lesson/line.py) and brings the page up to date
when its run's status changed elsewhere (ganlab/ui/watch.py), and on the Lesson page when the teacher moved
on. Its tick also tells the job manager that this student is still here: a run paused for a long explanation
is not taken for abandoned by the idle reaper while its tab is open.
"""
from __future__ import annotations

import streamlit as st

from ganlab import jobs
from ganlab.i18n import _
from ganlab.jobs import classroom
from ganlab.text import md
from ganlab.ui import lang, live, session, watch
from ganlab.ui.lesson import line

ANNOUNCE_EVERY_S = 3.0
LESSON_POLL_S = 1.5  # on the Lesson page: the teacher's step reaches it within about this in a small class
LESSON_TABS_AT_FULL_RATE = 20  # open tabs up to which Lesson pages poll every LESSON_POLL_S
LESSON_POLL_MAX_S = 4.5  # ... and the slowest poll, in a full class


def lesson_poll_s(open_tabs: int) -> float:
    """The Lesson page's poll interval with `open_tabs` tabs open on the server: LESSON_POLL_S up to
    LESSON_TABS_AT_FULL_RATE tabs, then longer in proportion (so all the Lesson tabs together poll at most about
    LESSON_TABS_AT_FULL_RATE / LESSON_POLL_S times a second: a tick costs the server ~10 ms of CPU whatever it
    finds, and 30 Lesson tabs at 1.5 s beside 30 labs cost the class a quarter of its steps), at most
    LESSON_POLL_MAX_S. Set at each full run of the page: every move of the teacher's sets it again."""
    return round(min(LESSON_POLL_MAX_S, LESSON_POLL_S * max(1.0, open_tabs / LESSON_TABS_AT_FULL_RATE)), 2)


def text(a: classroom.Announcement) -> str:
    """The banner's Markdown: the teacher's words, then a link to the preset when there is one."""
    if a.link:
        return _("**Teacher:** {text} · [Open the preset]({link})").format(text=md(a.text), link=_with_lang(a.link))
    return _("**Teacher:** {text}").format(text=md(a.text))


def _with_lang(link: str) -> str:
    """The preset's link in the student's language (`lang=zh` added when the page is in Chinese)."""
    extra = lang.link_params()
    if not extra or "lang=" in link:
        return link
    return link + ("&" if "?" in link else "?") + "&".join(f"{k}={v}" for k, v in extra.items())


def banner(here: str = "") -> None:
    """Draw the banner's fragment; its poll interval is set at each full run (slower when the server is busy).
    `here`: the page's url path (the class lesson's line is left out where the page shows the lesson). On the
    Lesson page this tick is the page's only poll, at LESSON_POLL_S: its watch.tick() brings the teacher's new step
    (the page notes the lesson's version, ganlab/ui/lesson/header.py). One fragment per open tab, not two: a class
    of 30 keeps its Lesson tabs open beside their labs."""

    if here == "lesson":  # the class size's interval or the load's, never slower than LESSON_POLL_MAX_S
        every = min(LESSON_POLL_MAX_S, max(lesson_poll_s(jobs.manager().open_tabs()), live.every(LESSON_POLL_S)))
    else:
        every = live.every(ANNOUNCE_EVERY_S)

    @st.fragment(run_every=every)
    def poll() -> None:
        lang.use()
        session.touch()
        a = classroom.classroom().announcement()
        if a is not None:
            st.info(text(a), icon=":material/campaign:")
        if here not in ("lesson", "class"):  # those pages show the lesson themselves
            line.draw()
        watch.tick()  # last: a rerun it starts ends this tick

    poll()
