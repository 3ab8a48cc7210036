"""The Class page's census: every run the server holds (finished ones too, as many as the job manager keeps),
grouped by what was changed, with each group's mean ± standard error beside PacGAN's Table 1, a chart for the
projector and CSV downloads of the runs and of the groups. Everyone can read it: no passcode.

Read-only and cheap: a tick reads each job's latest snapshot (no copy) and the last logged row of its history
(ganlab/census.py does the grouping and the statistics); the chart is redrawn only when a run published a new
snapshot, a run started or ended, or a nickname changed. The CSVs are made only when downloaded.
"""
from __future__ import annotations

import streamlit as st

from ganlab import census, jobs
from ganlab.i18n import N_, _, ngettext
from ganlab.jobs import classroom
from ganlab.text import md
from ganlab.ui import live
from ganlab.viz import census as census_viz

TOY_COLUMNS = (N_("Group"), N_("Runs"), N_("Modes captured"), N_("High quality"), N_("Reverse KL"),
               N_("Presets"))
IMAGE_COLUMNS = (N_("Group"), N_("Runs"), N_("Feature FID"), N_("Smallest class"), N_("Presets"))


def runs() -> tuple[list[census.CensusRun], tuple]:
    """The census record of every run with something to count, and a version that changes when the chart
    should be redrawn."""
    room = classroom.classroom()
    out, version = [], []
    for job in jobs.manager().all_jobs():
        snaps = job.snapshots()
        progress = job.progress()
        names = ("A", "B") if len(snaps) > 1 else ("",)
        for i, (name, snap) in enumerate(zip(names, snaps)):
            step, runner = progress[i] if i < len(progress) else (getattr(snap, "step", 0), "")
            status = "diverged" if runner == "diverged" else str(job.status)
            r = census.run_of(job.id, name, room.nickname(job.owner), str(job.meta.get("preset", "")), status,
                              step, snap)
            if r is not None:
                out.append(r)
                version.append((job.id, name, job.version, r.student))
    return out, tuple(version)


def pm(mean_se: tuple[float | None, float | None], fmt: str, scale: float = 1.0, unit: str = "") -> str:
    """'6.3 ± 0.5' (no ± for a group of one run), '–' without a value."""
    mean, se = mean_se
    if mean is None:
        return "–"
    text = fmt.format(mean * scale)
    if se is not None:
        text += " ± " + fmt.format(se * scale)
    return text + unit


def n_runs(g: census.Group) -> str:
    if not g.n_live:
        return str(g.n)
    return _("{n} ({live} training)").format(n=g.n, live=g.n_live)


def toy_rows(groups: list[census.Group]) -> list[dict]:
    """The toy groups' table, data by data, each data's groups followed by the paper's rows for it."""
    cols = {k: _(k) for k in TOY_COLUMNS}
    out = []
    for data in census.MIXTURES:
        gs = [g for g in groups if g.key.kind == "toy" and g.key.data == data]
        if not gs:
            continue
        for g in gs:
            out.append({cols["Group"]: md(g.label), cols["Runs"]: n_runs(g),
                        cols["Modes captured"]: pm(g.modes, "{:.1f}") + (f" / {g.n_modes}" if g.n_modes else ""),
                        cols["High quality"]: pm(g.high_quality, "{:.0f}", 100.0, " %"),
                        cols["Reverse KL"]: pm(g.reverse_kl, "{:.2f}"), cols["Presets"]: md(", ".join(g.presets))})
        for p in census.paper_rows(data):
            out.append({cols["Group"]: _("paper: {model} ({data})").format(model=p.model,
                                                                          data=_(census.DATA_LABELS[data])),
                        cols["Runs"]: "–", cols["Modes captured"]: f"{p.modes:.1f} ± {p.modes_pm:.1f} / {p.n_modes}",
                        cols["High quality"]: f"{100 * p.high_quality:.1f} %",
                        cols["Reverse KL"]: f"{p.reverse_kl:.2f}", cols["Presets"]: ""})
    return out


def image_rows(groups: list[census.Group]) -> list[dict]:
    cols = {k: _(k) for k in IMAGE_COLUMNS}
    return [{cols["Group"]: md(g.label), cols["Runs"]: n_runs(g), cols["Feature FID"]: pm(g.fid, "{:.0f}"),
             cols["Smallest class"]: pm(g.smallest_class, "{:.1f}", 100.0, " %"),
             cols["Presets"]: md(", ".join(g.presets))} for g in groups if g.key.kind == "image"]


def caption_parts(groups: list[census.Group]) -> list[str]:
    """What the numbers are: the statistics, then the toy runs' and the image runs' measures (when shown)."""
    parts = [_("Mean ± standard error (s/√n over a group's n runs; one run: no ±).")]
    if any(g.key.kind == "toy" for g in groups):
        parts.append(_("Toy runs: {n:,} fresh samples each logged interval, the paper's definitions.")
                     .format(n=census.PAPER_SAMPLES))
        parts.append(census.paper_setup())
    if any(g.key.kind == "image" for g in groups):
        parts.append(_("Image runs: ganlab's feature FID and the share of the rarest digit on 1,000 samples, scored "
                       "every few intervals during training (the latest score; the CLI's end-of-run summary uses "
                       "2,500 samples and reads lower)."))
    return parts


def render() -> None:
    runs_, version = runs()
    st.subheader(_("Census: the class as an experiment"))
    if not runs_:
        st.caption(_("No run to count yet: the census groups the toy runs on the ring and the grid (modes "
                     "captured) and the image runs on MNIST digits (feature FID) once they logged their first "
                     "numbers."))
        return
    groups = census.groups(runs_)
    n_live = sum(r.live for r in runs_)
    st.markdown(ngettext("**{n} run** counted, {live} still training: every run on this server, finished ones "
                         "too, grouped by what was changed, at its latest logged step.",
                         "**{n} runs** counted, {live} still training: every run on this server, finished ones "
                         "too, grouped by what was changed, at its latest logged step.",
                         len(runs_)).format(n=len(runs_), live=n_live))
    toy = toy_rows(groups)
    if toy:
        st.table(toy, hide_index=True)
    images = image_rows(groups)
    if images:
        st.table(images, hide_index=True)
    st.caption(" ".join(caption_parts(groups)))
    fig = live.figure(("class", "census"), version, lambda _prev: census_viz.census_spec(groups))
    live.chart(fig, key="class_census")
    a, b = st.columns(2)
    a.download_button(_("Download the runs (CSV)"), lambda: census.runs_csv(runs_), "class_runs.csv", "text/csv",
                      key="class_census_runs_csv", on_click="ignore")
    b.download_button(_("Download the census (CSV)"), lambda: census.groups_csv(groups), "class_census.csv",
                      "text/csv", key="class_census_groups_csv", on_click="ignore")
