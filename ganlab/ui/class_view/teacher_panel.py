"""The teacher's controls on the Class page: unlock with the passcode, pause / resume / stop every run, stop one
run, the class announcement, and the cap on runs per network address.

Nothing here renders for a student: without a passcode set on the server the page only says how to set one;
with one, a student sees the passcode box and nothing else. Every command callback checks again that this
session is the teacher's (ganlab/ui/teacher.py), so a command can never run for a student, whatever the browser
sends. The passcode is read from its widget inside the callback, checked in constant time and then cleared.
"""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from ganlab import jobs
from ganlab.i18n import N_, _, ngettext
from ganlab.jobs import classroom
from ganlab.jobs.classroom import Classroom, RunRow
from ganlab.presets import PRESETS
from ganlab.text import md
from ganlab.ui import teacher
from ganlab.ui.class_view import limits_panel
from ganlab.ui.class_view.views import page_title

P = "class_"
_MSG = P + "msg"  # (kind, text) of the last teacher action, shown once
NO_LINK = "(no link)"  # the preset picker's "no link" value (shown through format_func)
NOT_TEACHER = N_("Only the teacher can stop or change another student's run: unlock the teacher controls on the "
                 "Class page with the passcode first.")


def _say(kind: str, text: str) -> None:
    st.session_state[_MSG] = (kind, text)


def _show_message() -> None:
    kind, text = st.session_state.pop(_MSG, (None, None))
    if kind == "error":
        st.error(text)
    elif kind:
        st.success(text)


def preset_link(name: str) -> str:
    """A link to the page that trains preset `name`, relative to the app's root."""
    page = "./" if PRESETS[name].config.is_toy else "./image_gan"
    return f"{page}?{urlencode({'preset': name})}"


# ---- callbacks (run before the script; each checks the teacher again) -------------------------------------
def _unlock() -> None:
    typed = st.session_state.get(P + "passcode", "")
    st.session_state[P + "passcode"] = ""  # never kept beyond this check
    err = teacher.try_unlock(typed)
    if err:
        _say("error", err)


def _class_command(name: str) -> None:
    if not teacher.is_teacher():
        _say("error", _(NOT_TEACHER))
        return
    command = {"pause": Classroom.pause_all, "resume": Classroom.resume_all, "stop": Classroom.stop_all}[name]
    n = command(jobs.manager())
    done = {"pause": ngettext("Paused {n} run.", "Paused {n} runs.", n),
            "resume": ngettext("Resumed {n} run.", "Resumed {n} runs.", n),
            "stop": ngettext("Stopped {n} run.", "Stopped {n} runs.", n)}[name]
    _say("success", done.format(n=n))


def stop_run(job_id: object) -> None:
    """Stop one run of the class (the teacher's "Stop this run"); refused for anyone else."""
    if not teacher.is_teacher():
        _say("error", _(NOT_TEACHER))
        return
    job = jobs.manager().get(job_id) if isinstance(job_id, int) else None
    if job is None or not job.active:
        _say("error", _("That run is no longer training."))
        return
    job.stop()
    _say("success", _("Stopped run #{id} of {nickname}.").format(id=job.id,
                                                                 nickname=md(classroom.classroom().nickname(job.owner))))


def _stop_picked() -> None:
    stop_run(st.session_state.get(P + "stop_pick"))


def _announce() -> None:
    if not teacher.is_teacher():
        _say("error", _(NOT_TEACHER))
        return
    preset = st.session_state.get(P + "announce_preset", NO_LINK)
    text = st.session_state.get(P + "announce_text", "")
    link = preset_link(preset) if preset in PRESETS else ""
    a = classroom.classroom().announce(text, link)
    _say("success", _("Announcement posted: it shows on every student's page within a few seconds.") if a
         else _("Announcement cleared."))


def _set_per_address() -> None:
    if not teacher.is_teacher():
        _say("error", _(NOT_TEACHER))
        return
    n = max(0, int(st.session_state.get(P + "per_address") or 0))
    jobs.manager().max_jobs_per_address = n
    _say("success", ngettext("From now on, at most {n} run at a time from one network address.",
                             "From now on, at most {n} runs at a time from one network address.", n).format(n=n)
         if n else _("Runs per network address: no limit."))


def _clear_announcement() -> None:
    if teacher.is_teacher():
        classroom.classroom().announce("")
        st.session_state[P + "announce_text"] = ""
        _say("success", _("Announcement cleared."))


# ---- drawing ------------------------------------------------------------------------------------------------
def render() -> None:
    """The teacher's part of the page, above the live table: how to turn it on, the passcode box, or the
    controls."""
    if not teacher.enabled():
        st.info(_("Teacher controls are off on this server: no passcode is set. To turn them on, start the server "
                  "with a passcode, e.g. `GANLAB_TEACHER_PASSCODE=<passcode> streamlit run app.py`, or put "
                  "`teacher_passcode = \"<passcode>\"` in `.streamlit/secrets.toml`."))
        return
    if not teacher.is_teacher():
        with st.expander(_("Teacher controls")):
            with st.form(P + "unlock", border=False):
                st.text_input(_("Teacher passcode"), type="password", key=P + "passcode")
                st.form_submit_button(_("Unlock"), on_click=_unlock)
        _show_message()
        return
    st.markdown(_("**Teacher controls** (this browser tab only)"))
    c1, c2, c3, c4 = st.columns(4)
    c1.button(_("Pause all runs"), key=P + "pause_all", on_click=_class_command, args=("pause",), width="stretch")
    c2.button(_("Resume all runs"), key=P + "resume_all", on_click=_class_command, args=("resume",),
              width="stretch")
    with c3.popover(_("Stop all runs…"), width="stretch"):
        st.markdown(_("Stop every run on this server? Students can start again; a stopped run cannot resume."))
        st.button(_("Yes, stop every run"), key=P + "stop_all", type="primary", on_click=_class_command,
                  args=("stop",))
    c4.button(_("Leave teacher mode"), key=P + "lock", on_click=teacher.lock, width="stretch")
    with st.form(P + "announce", border=True):
        st.markdown(_("**Announcement** (a banner on every student's page)"))
        a1, a2 = st.columns([3, 1])
        a1.text_input(_("Text"), key=P + "announce_text", max_chars=500,
                      placeholder=_("Everyone: open ring-fixed and compare it with your collapsed run"))
        a2.selectbox(_("Link to a preset"), (NO_LINK, *PRESETS), key=P + "announce_preset",
                     format_func=lambda v: _("(no link)") if v == NO_LINK else v)
        st.form_submit_button(_("Post"), on_click=_announce)
    current = classroom.classroom().announcement()
    if current is not None:
        b1, b2 = st.columns([4, 1], vertical_alignment="center")
        b1.caption(_("Showing now: {text}").format(text=md(current.text))
                   + (f" ({md(current.link)})" if current.link else ""))
        b2.button(_("Clear"), key=P + "announce_clear", on_click=_clear_announcement, width="stretch")
    address_limit()
    limits_panel.render(_say, _(NOT_TEACHER))
    _show_message()


def address_limit() -> None:
    """The teacher's cap on runs per network address (JobManager.max_jobs_per_address); 0 is no cap."""
    if P + "per_address" not in st.session_state:
        st.session_state[P + "per_address"] = jobs.manager().max_jobs_per_address
    with st.form(P + "address_cap", border=True):
        st.number_input(_("Runs at a time per network address (0: no limit)"), min_value=0, max_value=1000,
                        step=1, key=P + "per_address",
                        help=_("Off by default: a class behind one school router shares one address. Where every "
                               "student's computer has its own address, 2 to 4 stops one student from filling the "
                               "server with private windows."))
        st.form_submit_button(_("Apply"), on_click=_set_per_address)


def stop_one(rows: list[RunRow]) -> None:
    """The teacher's "stop this run" (inside the live part: its choices follow the class). Teacher only."""
    if not teacher.is_teacher():
        return
    room = classroom.classroom()
    active = {}
    for r in rows:
        job = jobs.manager().get(r.job_id)
        if job is not None and job.active and r.job_id not in active:
            active[r.job_id] = (f"#{r.job_id} · {room.nickname(job.owner)} · "
                                f"{page_title(r.page)} · {r.preset or '–'}")
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    c1.selectbox(_("Stop one run"), tuple(active), key=P + "stop_pick", index=None, placeholder=_("Pick a run"),
                 format_func=lambda i: active.get(i, f"#{i}"), disabled=not active)
    c2.button(_("Stop this run"), key=P + "stop_one", on_click=_stop_picked, disabled=not active, width="stretch")
    _show_message()  # a click here reruns only the live part
