"""Sidebar: the language switch, the training device, the student's nickname for the Class page, and the
student's jobs (status, step, queue position, a Stop button), and their saved runs (ganlab/ui/saved_runs.py)."""
from __future__ import annotations

import streamlit as st

from ganlab import jobs
from ganlab.i18n import _, status
from ganlab.jobs import Status, classroom
from ganlab.text import md
from ganlab.ui import lang, live, saved_runs, session, watch

SIDEBAR_REFRESH_S = 2.0
NICK_KEY = "ganlab_nickname"
NICK_MSG = "ganlab_nickname_msg"  # (kind, text) of the last nickname change


def job_step(job: jobs.Job) -> tuple[int, int]:
    """(step, budget) of the job's furthest runner, from its latest snapshots (0, 0 before the first)."""
    snaps = job.snapshots()
    if not snaps:
        return 0, 0
    return max(s.step for s in snaps), max(s.config.steps for s in snaps)


def job_summary(job: jobs.Job) -> str:
    step, budget = job_step(job)
    parts = [f"**#{job.id}** {md(job.label)}", status(job.status)]
    if job.status == Status.QUEUED:
        pos = job.queue_position()
        if pos:
            parts.append(_("queue position {pos}").format(pos=pos))
    elif budget:
        parts.append(_("step {step} / {budget}").format(step=step, budget=budget))
    if job.status == Status.DIVERGED:
        at = [s.diverged_at for s in job.snapshots() if s.diverged_at is not None]
        if at:
            parts.append(_("diverged at step {step}").format(step=min(at)))
    return " · ".join(parts)


def _running(owner: str) -> bool:
    return any(j.status in jobs.LIVE for j in jobs.manager().jobs_of(owner))


def _set_nickname(owner: str) -> None:
    """The nickname box's callback: set it (cleaned, unique in the class) and say so when it was refused or
    changed; the box then shows what the class sees."""
    ss, room = st.session_state, classroom.classroom()
    typed = ss.get(NICK_KEY, "")
    ss.pop(NICK_MSG, None)
    try:
        nick = room.set_nickname(owner, typed)
        wanted = classroom.clean_nickname(typed)
        if wanted and nick != wanted:
            ss[NICK_MSG] = ("info", _("\"{wanted}\" is taken in this class, so you are \"{nick}\".").format(
                wanted=md(wanted), nick=md(nick)))
    except classroom.NicknameRefused as e:
        ss[NICK_MSG] = ("error", md(e))
    ss[NICK_KEY] = room.nickname(owner) if room.has_nickname(owner) else ""  # "": the anonymous label


def nickname_ui(owner: str) -> None:
    """The name the Class page shows for this student (kept per owner: a reload keeps it)."""
    room = classroom.classroom()
    if NICK_KEY not in st.session_state:
        st.session_state[NICK_KEY] = room.nickname(owner) if room.has_nickname(owner) else ""
    st.text_input(_("Nickname"), key=NICK_KEY, max_chars=classroom.NICK_MAX, placeholder=room.nickname(owner),
                  on_change=_set_nickname, args=(owner,), help=_("Shown beside your runs on the Class page"))
    kind, text = st.session_state.get(NICK_MSG, (None, None))
    if kind == "error":
        st.error(text)
    elif kind:
        st.info(text)


def render(owner: str, refresh: bool = True) -> None:
    """Draw the sidebar block; its job list refreshes every SIDEBAR_REFRESH_S while one of them runs (refresh=False:
    only at the page's full reruns, e.g. on the Lesson page, whose tab stays open beside the lab that shows the run;
    a run that starts or stops elsewhere still reruns the page through the watch note)."""
    with st.sidebar:
        lang.selector()
        st.caption(_("Device: {device}").format(device=session.device_label()))
        nickname_ui(owner)
        was_live = _running(owner)
        watch.note("sidebar", was_live, lambda: _running(owner))  # a run resumed elsewhere: refresh again

        @st.fragment(run_every=live.refresh_every(was_live and refresh, SIDEBAR_REFRESH_S))
        def _jobs() -> None:
            lang.use()
            mine = jobs.manager().jobs_of(owner)
            stats = jobs.manager().stats()
            st.markdown(_("**Your runs** ({running} running on this server, {queued} queued, at most {max_running} "
                          "at once)").format(running=stats["running"], queued=stats["queued"],
                                             max_running=stats["max_running"]))
            if not mine:
                st.caption(_("No runs yet."))
            for job in reversed(mine):
                c1, c2 = st.columns([5, 2], vertical_alignment="center")
                c1.markdown(job_summary(job))
                if job.active:
                    c2.button(_("Stop"), key=f"sidebar_stop_{job.id}", on_click=job.stop, width="stretch")
            live.stop_when_idle(was_live, _running(owner))

        _jobs()
        saved_runs.render(owner)  # the run store: runs from before a restart, downloads, Resume
