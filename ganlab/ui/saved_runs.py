"""The sidebar's "Saved runs": this student's runs in the run store (ganlab/store/), also those from before a
server restart or from a closed lid, each with its downloads (the checkpoint; a toy run's samples as CSV) and,
when it stopped before its budget, Resume (a new job from its newest checkpoint, shown on its page)."""
from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

from ganlab import jobs
from ganlab.config import TOY_DATA
from ganlab.i18n import _, status
from ganlab.jobs import JobLimitError, stored
from ganlab.text import md
from ganlab.ui import address, controls, lang

PAGES = {"mode_collapse": "pages/mode_collapse.py", "image_gan": "pages/image_gan.py"}
MSG = "ganlab_saved_msg"
GO = "ganlab_saved_go"  # the page of a run just resumed: the next run of the app opens it


def _line(s: stored.Saved) -> str:
    rec = s.record
    when = dt.datetime.fromtimestamp(rec.updated).strftime("%H:%M")
    state = status(s.job.status) if s.job is not None else status(rec.shown_status)
    return " · ".join([md(rec.label), state, _("step {step} / {budget}").format(step=rec.step, budget=rec.budget),
                       _("saved {time}").format(time=when)])


def _resume(owner: str, key: str) -> None:
    """Resume: the new job becomes its page's current run (ganlab.ui.controls slots remember their page)."""
    manager = jobs.manager()
    try:
        job = stored.resume(manager, owner, key, address=address.address())
    except (stored.NotResumable, JobLimitError) as e:
        st.session_state[MSG] = str(e)
        return
    controls.show_on_page(job)
    st.session_state[GO] = job.page


def render(owner: str) -> None:
    go = PAGES.get(st.session_state.pop(GO, None) or "")
    if go is not None:
        st.switch_page(go)  # (not from the callback: Streamlit leaves switch_page to the script)
    manager = jobs.manager()
    runs = stored.saved(manager, owner)
    if not runs:
        return
    with st.expander(_("Saved runs ({n})").format(n=len(runs))):
        st.caption(_("Kept on the server's disk: they survive a restart and a closed laptop. Resume continues a run "
                     "from its last checkpoint."))
        msg = st.session_state.pop(MSG, None)
        if msg:
            st.error(md(msg))
        for s in runs:
            rec = s.record
            st.markdown(_line(s))
            names = ("A", "B") if len(rec.configs) > 1 else ("",)
            cols = st.columns(3)
            if s.job is None and rec.resumable:
                cols[0].button(_("Resume"), key=f"saved_resume_{rec.key}", on_click=lang.callback(_resume),
                               args=(owner, rec.key))
            if not rec.saved:
                cols[1].caption(_("deleted to keep the disk budget"))
                continue
            for i, name in enumerate(names):
                suffix = f"-{name}" if name else ""
                label = _("Checkpoint {run}").format(run=name) if name else _("Checkpoint")
                cols[1].download_button(
                    label, key=f"saved_ckpt_{rec.key}_{i}",
                    data=functools.partial(stored.checkpoint_bytes, manager, owner, rec.key, i),
                    file_name=f"ganlab-{rec.page}-{rec.key[:8]}{suffix}.pt", mime="application/octet-stream",
                    on_click="ignore")
                if rec.configs[i].get("data") in TOY_DATA:
                    cols[2].download_button(
                        _("Samples {run} (CSV)").format(run=name) if name else _("Samples (CSV)"),
                        key=f"saved_samples_{rec.key}_{i}",
                        data=functools.partial(stored.samples_csv, manager, owner, rec.key, i),
                        file_name=f"ganlab-samples-{rec.key[:8]}{suffix}.csv", mime="text/csv", on_click="ignore")
