"""The Class page's "Runs saved today": every run of the day in the run store (ganlab/store/), also those from
before a server restart, one row per run, and the class's results as CSV for the teacher to take home (the same
file as `python -m ganlab runs --today --csv` on the server). Readable by everyone, like the census; drawn once
per page run, not in the 2-second fragment (it reads the store's index, not the live runs)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from ganlab import jobs
from ganlab.i18n import N_, _, status
from ganlab.store import export
from ganlab.ui.class_view.views import page_title

COLUMNS = (N_("Student"), N_("Page"), N_("Preset"), N_("Run"), N_("Loss"), N_("Remedy"), N_("Status"), N_("Steps"),
           N_("Modes captured"), N_("Feature FID"))


def render() -> None:
    store = jobs.manager().store
    if store is None:
        return
    live = {j.store_key: str(j.status) for j in jobs.manager().all_jobs() if j.store_key}
    records = [dataclasses.replace(r, status=live[r.key]) if r.key in live else r  # the live status, not the last
               for r in store.runs(since=export.midnight())]  # one written (a paused run saves nothing new)
    with st.expander(_("Runs saved today ({n})").format(n=len(records))):
        st.caption(_("Every run of today's lesson kept on the server's disk, also from before a restart. The CSV has "
                     "one row per run: nickname, page, preset, loss, remedy, steps and the lesson's numbers."))
        if not records:
            st.caption(_("No runs saved today yet."))
            return
        rows = [dict(zip(export.COLUMNS, r)) for r in export.rows(records)]
        table = {_(c): [] for c in COLUMNS}
        for r in rows:
            modes = f"{r['modes_captured']:g} / {r['n_modes']:g}" if r["modes_captured"] != "" and r["n_modes"] != "" \
                else ""
            for c, v in zip(COLUMNS, (r["nickname"] or "–", page_title(r["page"]), r["preset"] or "–", r["run"] or "–",
                                      r["loss"], r["remedy"] or "–", status(r["status"]),
                                      f"{r['steps']} / {r['budget']}", modes,
                                      f"{r['fid']:.0f}" if r["fid"] != "" else "")):
                table[_(c)].append(str(v))
        st.dataframe(table, hide_index=True)
        st.download_button(_("Download the class's results (CSV)"), data=lambda: export.to_csv(records),
                           file_name=f"ganlab-class-{dt.date.today().isoformat()}.csv", mime="text/csv",
                           key="class_saved_csv", on_click="ignore")
