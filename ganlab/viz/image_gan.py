"""Image GAN figures, built from a Snapshot's history (plain numpy). No Streamlit here.

The quality columns (ganlab/quality.py) are written only at scored logging intervals and are NaN in between,
so these figures plot the finite rows only. Like every figure function, each takes the previous figure and
writes new arrays into it when its traces still match (ganlab.viz.common.update_or_build), far cheaper than
building it again.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab.i18n import N_, _
from ganlab.viz.common import FAKE_COLOR, RUN_DASH, Histories, f32, plain_figure, update_or_build

History = Mapping[str, np.ndarray]
N_CLASSES = 10
CLASS_PREFIX = "class_"  # per-class shares of generated samples: class_0 ... class_9 (when recorded)
PRESENT_FRAC = 0.05  # a class "is present" at >= 5 % of the samples (ganlab.quality.PRESENT_FRAC)
QUALITY_PANELS = {  # column -> (panel title, colour, scale)
    "fid": (N_("feature FID (lower is better, log scale)"), "#d62728", 1.0),
    "classes_present": (N_("classes present (≥ 5 % of samples)"), "#2ca02c", 1.0),
    "cond_acc": (N_("conditional accuracy % (classified as the class asked for)"), "#9467bd", 100.0),
}


def finite(history: History, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the rows where `col` was recorded (finite), float32."""
    y = f32(history.get(col, ()))
    x = f32(history.get("step", ()))[: len(y)]
    ok = np.isfinite(y)
    return x[ok], y[ok]


def last_value(history: History, col: str) -> float | None:
    _, y = finite(history, col)
    return float(y[-1]) if len(y) else None


def quality_columns(history: History) -> tuple[str, ...]:
    """The quality panels this history can fill (in QUALITY_PANELS order)."""
    return tuple(c for c in QUALITY_PANELS if c in history and len(finite(history, c)[1]))


def _runs(histories: Histories) -> list[tuple[str, History]]:
    return [("", histories)] if isinstance(histories, Mapping) else list(histories)


def quality_figure(histories: Histories, height: int | None = None, fig: go.Figure | None = None) -> go.Figure:
    """Stacked panels over G steps: feature FID (log y), classes present (0-10), conditional accuracy (%).
    Several runs, as (name, history) pairs, share the panels (A solid, B dashed, ...)."""
    runs = _runs(histories)
    have = {c for _, h in runs for c in quality_columns(h)}
    cols = tuple(c for c in QUALITY_PANELS if c in have)
    traces = []
    for i, (run, history) in enumerate(runs):
        for row, col in enumerate(cols, start=1):
            if col not in history:
                continue
            title, color, scale = QUALITY_PANELS[col]
            x, y = finite(history, col)
            traces.append(dict(type="scatter", name=f"{run}: {col}" if run else col, x=x, y=y * np.float32(scale),
                               mode="lines+markers", marker=dict(size=4), row=row, showlegend=False,
                               line=dict(color=color, width=1.6, dash=RUN_DASH[i % len(RUN_DASH)])))

    def build(tr: list[dict]) -> go.Figure:
        if not cols:
            return go.Figure()
        f = make_subplots(rows=len(cols), cols=1, shared_xaxes=True, vertical_spacing=0.12,
                          subplot_titles=[_(QUALITY_PANELS[c][0]) for c in cols])
        for d in tr:
            f.add_trace({k: v for k, v in d.items() if k != "row"}, row=d["row"], col=1)
        for row, col in enumerate(cols, start=1):
            if col == "fid":
                f.update_yaxes(type="log", row=row, col=1)
            elif col == "classes_present":
                f.update_yaxes(range=[0, N_CLASSES + 0.5], row=row, col=1)
            else:
                f.update_yaxes(range=[0, 100], row=row, col=1)
        f.update_annotations(font_size=11)
        f.update_xaxes(title_text=_("G step"), row=len(cols), col=1)
        return f

    return update_or_build(traces, fig, build, "", height or 150 * max(len(cols), 1) + 60)


def class_shares(history: History, n_classes: int = N_CLASSES) -> np.ndarray | None:
    """(n_classes,) the latest recorded per-class shares of generated samples, or None when not recorded."""
    cols = [f"{CLASS_PREFIX}{i}" for i in range(n_classes)]
    if not all(c in history for c in cols):
        return None
    m = np.stack([f32(history[c]) for c in cols], 1)  # (rows, classes)
    ok = np.isfinite(m).all(1)
    return m[ok][-1] if ok.any() else None


RUN_COLORS = (FAKE_COLOR, "#2ca02c", "#9467bd")  # bars of runs A, B, ... in a comparison


def class_hist_figure(shares: np.ndarray | None | Sequence[tuple[str, np.ndarray | None]],
                      class_names: Sequence[str] = (), height: int = 230, fig: go.Figure | None = None) -> go.Figure:
    """What the judge says the generated samples are: share per class (%); a grey bar is a class G has
    (nearly) dropped, < 5 % of samples -- mode collapse on digits. 10 % each is perfect balance.
    Several runs, as (name, shares) pairs, get grouped bars (A orange, B green)."""
    named = shares is not None and not isinstance(shares, np.ndarray)
    runs = [(n, sh) for n, sh in shares if sh is not None] if named else ([("", shares)] if shares is not None else [])
    traces = []
    for i, (run, sh) in enumerate(runs):
        s = f32(sh) * np.float32(100)
        names = list(class_names) if len(class_names) == len(s) else [str(k) for k in range(len(s))]
        color = RUN_COLORS[i % len(RUN_COLORS)]
        traces.append(dict(type="bar", name=run or _("share of samples"), x=names, y=s,
                           marker=dict(color=np.where(s >= 100 * PRESENT_FRAC, color, "#bbbbbb").tolist())))

    def build(tr: list[dict]) -> go.Figure:
        f = plain_figure(tr)
        if runs:
            f.add_hline(y=100 / len(runs[0][1]), line=dict(dash="dot", color="grey", width=1))
        f.update_yaxes(title_text=_("% of samples"), rangemode="tozero")
        f.update_xaxes(type="category")
        f.update_layout(showlegend=named, barmode="group")
        return f

    return update_or_build(traces, fig, build, _("generated samples per class (the judge's verdict)"), height)
