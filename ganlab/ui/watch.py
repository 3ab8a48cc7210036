"""Bring an open page up to date when what it drew changes elsewhere: the teacher resumes every run, moves the
lesson on, another tab pauses the student's run.

A page's live view refreshes on its own only while its run is live (ganlab/ui/live.py); a paused or finished
run's page has no timer of its own, so without this a run resumed by the teacher kept reading "paused". Each
full run notes what it drew and a cheap way to read it again: `note(key, drawn, probe)`. The banner's fragment,
on every page every few seconds (ganlab/ui/class_view/banner.py), calls `tick()`: when a probe returns something
other than what was drawn, one full rerun brings the whole page (its buttons, its live timer, the sidebar) up to
date. A probe runs on every tick of every open page, so it reads a status or a version number, nothing more:
a class of 30 idle pages costs 10 probe calls a second.
"""
from __future__ import annotations

from typing import Callable, Hashable

import streamlit as st

from ganlab.ui import controls

_KEY = "_ganlab_watch"


def reset() -> None:
    """At the start of every full run (before the page runs): forget the previous page's notes."""
    st.session_state[_KEY] = {}


def note(key: str, drawn: Hashable, probe: Callable[[], Hashable]) -> None:
    """This full run drew `drawn` for `key`; `probe()` reads the same thing now."""
    st.session_state.setdefault(_KEY, {})[key] = (drawn, probe)


def changed() -> list[str]:
    """The keys whose probe no longer returns what was drawn; each is noted as seen now, so one change asks for
    one rerun even where the rerun does not note it again (a page run without app.py, e.g. under AppTest)."""
    notes = st.session_state.get(_KEY, {})
    moved = []
    for k, (drawn, probe) in list(notes.items()):
        now = probe()
        if now != drawn:
            notes[k] = (now, probe)
            moved.append(k)
    return moved


def tick() -> None:
    """In a polling fragment: one full rerun when anything noted has changed."""
    if changed():
        st.rerun()


def run(slot: str, was_live: bool, also: Callable[[object], bool] | None = None) -> None:
    """Note whether the page's run (its job in session slot `slot`) was live when drawn: once a paused or
    finished run trains again (the teacher's "Resume all runs", another tab), the page reruns and its live
    view refreshes again; `also(job)` counts as live too (the Theory page's pending D-only training)."""
    def probe() -> bool:  # the live status as the page reads it (a pending Resume or Step included)
        job = controls.current_job(slot)
        return controls.is_live(job, slot) or (also is not None and bool(also(job)))

    note("run:" + slot, was_live, probe)
