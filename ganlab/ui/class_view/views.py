"""The Class page's live part: a row per run (student, page, preset, step, speed, status, the lesson's number)
and the projector gallery (every toy run's point cloud as small multiples, every image run's sample grid).

Read-only: nothing here changes a run, and nothing here takes input from the URL. Rows come from
ganlab.jobs.classroom (only what the class is doing now: `current_jobs`); the gallery figure is a plain spec from
ganlab/viz/class_view.py, rebuilt only when a shown run published a new snapshot.
"""
from __future__ import annotations

import streamlit as st

from ganlab import jobs
from ganlab.i18n import N_, _, ngettext, pgettext, status
from ganlab.jobs import classroom
from ganlab.jobs.classroom import RunRow
from ganlab.text import html_text, md
from ganlab.ui import live
from ganlab.viz import class_view as gallery

REFRESH_S = 2.0
PAGE_TITLES = {"mode_collapse": N_("Mode collapse lab"), "image_gan": N_("Image GAN"), "theory": N_("Theory")}
IMAGE_COLS = 6


def page_title(page: str) -> str:
    """A page's title in the session's language ('–' for none)."""
    return _(PAGE_TITLES[page]) if page in PAGE_TITLES else (page or "–")


def rows() -> list[RunRow]:
    return classroom.classroom().rows(jobs.manager(), current_only=True)


def run_name(row: RunRow) -> str:
    return f"#{row.job_id}{' ' + row.run if row.run else ''}"


def table(rows_: list[RunRow]) -> None:
    """One line per run, newest jobs last."""
    n_live = len({r.job_id for r in rows_ if r.status in jobs.LIVE})
    st.markdown(ngettext("**{n} run** on this server, {live} training (the table and the gallery refresh every "
                         "{seconds:.0f} s)",
                         "**{n} runs** on this server, {live} training (the table and the gallery refresh every "
                         "{seconds:.0f} s)", len(rows_)).format(n=len(rows_), live=n_live, seconds=REFRESH_S))
    if not rows_:
        st.caption(_("No runs yet: students press Start on a page and their runs appear here."))
        return
    cols = {k: _(k) for k in (N_("Student"), N_("Page"), N_("Preset"), N_("Run"), N_("Steps/s"), N_("Status"),
                              N_("Lesson"))}
    cols["Step"] = pgettext("table column", "Step")
    st.table([{cols["Student"]: md(r.nickname), cols["Page"]: page_title(r.page),
               cols["Preset"]: md(r.preset or "–"), cols["Run"]: run_name(r),
               cols["Step"]: f"{r.step} / {r.budget}" if r.budget else str(r.step),
               cols["Steps/s"]: f"{r.steps_per_s:.0f}" if r.steps_per_s else "–", cols["Status"]: status(r.status),
               cols["Lesson"]: lesson(r.lesson)} for r in rows_], hide_index=True)


def lesson(text: str | None) -> str:
    return text or "–"


def _panels(rows_: list[RunRow]) -> tuple[list[gallery.Panel], tuple]:
    """Gallery panels of the toy runs among `rows_`, and a version that changes when any of them should be
    redrawn (a new snapshot, a new nickname)."""
    panels, version = [], []
    manager = jobs.manager()
    for r in rows_:
        job = manager.get(r.job_id)
        snaps = job.snapshots() if job is not None else ()
        i = "AB".index(r.run) if r.run else 0
        s = snaps[i] if i < len(snaps) else None
        if s is None or getattr(s, "fake", None) is None or getattr(s, "extent", None) is None:
            continue
        m = classroom.modes(s)
        title = html_text(f"{r.nickname}{' ' + r.run if r.run else ''}")
        if r.lesson:
            title += f" · {lesson(r.lesson)}"
        panels.append(gallery.Panel(title, s.fake, getattr(s, "centers", None), s.extent,
                                    collapsed=m is not None and 2 * m[0] < m[1]))
        version.append((r.job_id, r.run, job.version, title))
    return panels, tuple(version)


def toy_gallery(rows_: list[RunRow]) -> None:
    panels, version = _panels(rows_)
    if not panels:
        return
    st.markdown(_("**Point clouds** (orange: generated points, crosses: the data's modes; red title: fewer than "
                  "half of the modes captured)"))
    fig = live.figure(("class", "gallery"), version, lambda _prev: gallery.gallery_spec(panels))
    live.chart(fig, key="class_gallery")


def image_gallery(rows_: list[RunRow]) -> None:
    shown = []
    manager = jobs.manager()
    for r in rows_:
        job = manager.get(r.job_id)
        snaps = job.snapshots() if job is not None else ()
        s = snaps[0] if snaps else None
        if s is not None and getattr(s, "grid_jpeg", None):
            what = lesson(r.lesson) if r.lesson else _("step {step}").format(step=r.step)
            shown.append((f"{md(r.nickname)} · {what}", s.grid_jpeg))  # a caption renders Markdown
    if not shown:
        return
    st.markdown(_("**Sample grids**"))
    for start in range(0, len(shown), IMAGE_COLS):
        for col, (caption, jpeg) in zip(st.columns(IMAGE_COLS), shown[start:start + IMAGE_COLS]):
            col.image(jpeg, caption=caption, width="stretch")


def refuse_link_commands() -> None:
    """The Class page takes nothing from its address: say so when a link tries (a job id, a command, a
    passcode), and drop the parameters from the address bar."""
    asked = sorted(k for k in st.query_params if k != "lang")
    if not asked:
        return
    for k in asked:
        del st.query_params[k]
    st.error(_("This page takes no commands from its address (ignored: {names}). No link can stop, pause or "
               "change a run: each run belongs to the student who started it, and only the teacher can stop one, "
               "with the controls on this page after entering the passcode.").format(names=md(", ".join(asked))))
