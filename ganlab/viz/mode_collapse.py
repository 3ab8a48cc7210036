"""Mode collapse lab figures (2-D toy data), built from Snapshot arrays (plain numpy). No Streamlit here.

toy_field_figure    D's decision heat-map under the real and generated points, G's gradient arrows, the centres
coverage_figure     modes captured, high-quality % and reverse KL over training, stacked (one line per run)
mode_counts_figure  high-quality samples per mode (bars; a grey bar is a dropped mode)
Like every figure function, each takes the previous figure (or its dict form) and updates it in place when
its traces still match (ganlab.viz.common.update_or_build).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab.i18n import N_, _
from ganlab.viz.common import FAKE_COLOR, REAL_COLOR, Fig, Histories, curve_traces, f32, plain_figure, update_or_build

ARROW_COLOR = "#2ca02c"
ARROW_FRAC = 0.08  # the longest arrow is this share of the view's width
FIELD_LEGEND = N_("Background: D's verdict, blue where D says *real*, red where it says *generated*, white where "
                "it cannot tell (D = 0.5; for LSGAN, hinge and WGAN losses D's raw score, white = 0). Blue dots: "
                "real data; orange: generated; green strokes: where G's next update pushes its points "
                   "(−∇ₓ L_G); ×: the modes' centres.")  # shown with _(FIELD_LEGEND)
COVERAGE = ("modes_captured", "high_quality_frac", "reverse_kl")


def arrow_segments(starts: np.ndarray, vectors: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Quiver as one polyline: start, tip, NaN for each arrow -> x, y of shape (3N,), float32.

    The vectors are scaled together so the longest is `length` (directions and relative sizes are kept).
    """
    starts, vectors = f32(starts).reshape(-1, 2), f32(vectors).reshape(-1, 2)
    norm = np.linalg.norm(vectors, axis=1)
    top = float(norm.max()) if len(norm) and np.isfinite(norm).all() else 0.0
    tips = starts + vectors * (length / top if top > 0 else 0.0)
    seg = np.full((len(starts), 3, 2), np.nan, dtype=np.float32)  # (N, [start, tip, gap], xy)
    seg[:, 0], seg[:, 1] = starts, tips
    seg = seg.reshape(-1, 2)
    return seg[:, 0], seg[:, 1]


def _field_traces(s, max_real: int, max_fake: int) -> list[dict]:
    traces: list[dict] = []
    if s.heat is not None and s.extent is not None:
        xmin, xmax, ymin, ymax = s.extent
        ny, nx = s.heat.shape
        heat = f32(s.heat)
        if s.heat_is_prob:
            z_range, bar = dict(zmin=0.0, zmax=1.0, zmid=0.5), "D(x)"
        else:  # critic score: centre the colour scale on 0
            m = float(np.nanmax(np.abs(heat))) if np.isfinite(heat).any() else 1.0
            z_range, bar = dict(zmin=-m, zmax=m, zmid=0.0), _("D score")
        traces.append(dict(type="heatmap", name=bar, x=np.linspace(xmin, xmax, nx, dtype=np.float32),
                           y=np.linspace(ymin, ymax, ny, dtype=np.float32), z=heat, colorscale="RdBu",
                           opacity=0.55, showscale=False,  # a colour bar doubles the browser's redraw time
                           hovertemplate="x=%{x:.2f} y=%{y:.2f} D=%{z:.2f}<extra></extra>", **z_range))
    if s.real is not None:
        real = s.real[:max_real]
        traces.append(dict(type="scatter", name=_("real"), x=f32(real[:, 0]), y=f32(real[:, 1]),
                           mode="markers", marker=dict(size=3, color=REAL_COLOR, opacity=0.5)))
    if s.fake is not None:
        fake = s.fake[:max_fake]
        traces.append(dict(type="scatter", name=_("generated"), x=f32(fake[:, 0]), y=f32(fake[:, 1]),
                           mode="markers", marker=dict(size=4, color=FAKE_COLOR, opacity=0.8)))
    if s.arrows is not None and s.fake is not None and s.extent is not None:
        ax, ay = arrow_segments(s.fake[: len(s.arrows)], s.arrows, ARROW_FRAC * (s.extent[1] - s.extent[0]))
        traces.append(dict(type="scatter", name=_("G's push (-grad L_G)"), x=ax, y=ay, mode="lines",
                           hoverinfo="skip", line=dict(color=ARROW_COLOR, width=1.2)))
    if s.centers is not None:
        c = f32(s.centers)
        traces.append(dict(type="scatter", name=_("mode centres"), x=c[:, 0], y=c[:, 1], mode="markers",
                           hoverinfo="skip", marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="black"))))
    return traces


def toy_field_figure(snapshot, title: str = "", height: int = 430, fig: Fig | None = None,
                     max_real: int = 250, max_fake: int = 500) -> Fig:
    """D's decision map (heat), real points, generated points, G's gradient arrows and the mode centres.

    heat[i, j] is D at (x_j, y_i) on a GRID_N x GRID_N grid over `extent` (rows = y): a probability for the
    probabilistic losses (blue = "real", red = "generated", white = 0.5, undecided), a raw critic score
    centred on 0 otherwise (FIELD_LEGEND says so in words; there is no colour bar). Arrows: -grad_x L_G at
    generated points, the way G's next update pushes each of them. At most `max_real` real and `max_fake`
    generated points are drawn: every SVG marker costs the browser time at each redraw, and a live page redraws
    this figure every half second; the snapshot's 1,000 points are i.i.d., so a prefix is a sample.
    """
    ext = snapshot.extent

    def build(traces: list[dict]) -> go.Figure:
        f = plain_figure(traces)
        if ext is not None:
            f.update_xaxes(range=[ext[0], ext[1]], constrain="domain")
            f.update_yaxes(range=[ext[2], ext[3]], scaleanchor="x", scaleratio=1)
        return f

    return update_or_build(_field_traces(snapshot, max_real, max_fake), fig, build, title, height)


def coverage_figure(histories: Histories, n_modes: int | None = None, height: int = 420,
                    fig: Fig | None = None) -> Fig:
    """Modes captured, high-quality % and reverse KL over time, stacked (toy mixtures).

    The metrics are ganlab/metrics.py's: a sample is high quality within 3 std of its nearest centre; reverse
    KL = KL(p_hat || uniform) over the modes (0 = balanced, log M = one mode)."""
    rows = {c: i for i, c in enumerate(COVERAGE, start=1)}

    def build(traces: list[dict]) -> go.Figure:
        f = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                          subplot_titles=(_("modes captured"), _("high-quality %"), _("reverse KL (0 = balanced)")))
        for d in traces:
            f.add_trace({k: v for k, v in d.items() if k not in ("row", "col")}, row=d["row"], col=1)
        if n_modes:
            f.update_yaxes(range=[0, n_modes + 0.5], row=1, col=1)
            f.update_yaxes(range=[0, max(float(np.log(n_modes)), 0.1) * 1.05], row=3, col=1)
        f.update_yaxes(range=[0, 100], row=2, col=1)
        f.update_annotations(font_size=11)
        f.update_xaxes(title_text=_("G step"), row=3, col=1)
        return f

    traces = curve_traces(histories, COVERAGE, scale={"high_quality_frac": 100.0}, rows=rows)
    return update_or_build(traces, fig, build, "", height)


def mode_counts_figure(counts: np.ndarray | None, height: int = 200, fig: Fig | None = None,
                       title: str = N_("high-quality samples per mode")) -> Fig:
    """High-quality generated samples per mode (bars); an empty (grey) mode is one G has dropped."""
    traces: list[dict[str, Any]] = []
    if counts is not None:
        c = f32(counts)
        traces.append(dict(type="bar", name=_("samples per mode"), x=np.arange(1, len(c) + 1, dtype=np.float32),
                           y=c, marker=dict(color=np.where(c > 0, FAKE_COLOR, "#cccccc").tolist())))

    def build(tr: list[dict]) -> go.Figure:
        f = plain_figure(tr)
        f.update_xaxes(title_text=_("mode"), dtick=1 if counts is not None and len(counts) <= 10 else None)
        f.update_yaxes(rangemode="nonnegative")
        f.update_layout(showlegend=False)
        return f

    return update_or_build(traces, fig, build, _(title), height)
