"""Plotly figures built from Snapshot arrays (plain numpy), never from models. No Streamlit here.

Every array handed to Plotly stays float32 numpy: Plotly >= 6 ships numpy arrays to the browser as binary,
which keeps a 2 Hz refresh cheap. Histories are already bounded (<= 1,000 rows, see ganlab/history.py).

Points are drawn as SVG `scatter`, not `scattergl`: Streamlit remounts a chart whose figure changed, and a
WebGL context per remount (2 Hz, several charts) costs more than 2,000 SVG markers, in software GL most of all.

Building a Plotly figure validates every property (10-60 ms a figure here); swapping new arrays into an
existing figure costs ~1-3 ms, and into its plain-dict form (`to_spec`) well under 1 ms. So each function
takes an optional `fig`, a figure or such a dict: when it has the same traces (type and name, in order) the
new data is written into it in place and it is returned; otherwise a new one is built (a dict again when a
dict was given). A live page keeps its figures and passes them back (see ganlab/ui/live.py).
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

REAL_COLOR = "#1f77b4"
FAKE_COLOR = "#ff7f0e"
ARROW_COLOR = "#2ca02c"
ARROW_FRAC = 0.08  # the longest arrow is this share of the view's width
RUN_DASH = ("solid", "dash", "dot", "dashdot")  # line style per run in comparison curves
FIELD_LEGEND = ("Background: D's verdict, blue where D says *real*, red where it says *generated*, white where "
                "it cannot tell (D = 0.5; for LSGAN, hinge and WGAN losses D's raw score, white = 0). Blue dots: "
                "real data; orange: generated; green strokes: where G's next update pushes its points "
                "(−∇ₓ L_G); ×: the modes' centres.")

LABELS = {
    "d_loss": "D loss", "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))",
    "g_grad": "|grad G|", "d_grad": "|grad D|", "modes_captured": "modes captured",
    "high_quality_frac": "high-quality %", "reverse_kl": "reverse KL", "seconds": "seconds",
}
COLORS = {"d_loss": "#d62728", "g_loss": "#9467bd", "d_real": REAL_COLOR, "d_fake": FAKE_COLOR,
          "modes_captured": "#2ca02c", "high_quality_frac": "#17becf", "reverse_kl": "#8c564b"}

History = Mapping[str, np.ndarray]
# One history, or several runs to compare as (name, history) pairs: [("A", hist_a), ("B", hist_b)].
Histories = Union[History, Sequence[tuple[str, History]]]


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _runs(histories: Histories) -> list[tuple[str, History]]:
    if isinstance(histories, Mapping):
        return [("", histories)]
    return list(histories)


_DATA_KEYS = ("x", "y", "z", "zmin", "zmax", "zmid")
Fig = Union[go.Figure, dict]  # a figure, or its plain-dict form (to_spec)


def to_spec(fig: Fig) -> dict:
    """The plain-dict form of a figure (numpy arrays as plotly.js typed-array specs); dicts pass through."""
    return fig if isinstance(fig, dict) else fig.to_dict()


def typed_array(a) -> Any:
    """A numpy array as plotly.js's binary typed-array spec (what plotly.py's to_dict makes); scalars pass."""
    if not isinstance(a, np.ndarray):
        return a
    a = np.ascontiguousarray(a, dtype="<f4")
    spec = {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = ", ".join(map(str, a.shape))
    return spec


def _update_spec(spec: dict, traces: list[dict], title: str) -> bool:
    data = spec.get("data", [])
    if len(data) != len(traces) or any(t.get("type") != d["type"] or t.get("name") != d.get("name")
                                       for t, d in zip(data, traces)):
        return False
    for t, d in zip(data, traces):
        for k in _DATA_KEYS:
            if k in d:
                t[k] = typed_array(d[k])
        if d["type"] == "bar":
            t.setdefault("marker", {})["color"] = d["marker"]["color"]
    spec.setdefault("layout", {}).setdefault("title", {})["text"] = title
    return True


def _figure(traces: list[dict], fig: Fig | None, build: Callable[[list[dict]], go.Figure],
            title: str, height: int) -> Fig:
    """Update `fig` in place when its traces match `traces` (type, name, order); else `build` a new one.

    A change of style is signalled by a change of trace name (e.g. the heat-map's "D(x)" vs "D score").
    """
    if isinstance(fig, dict):
        return fig if _update_spec(fig, traces, title) else to_spec(_figure(traces, None, build, title, height))
    if fig is not None and len(fig.data) == len(traces) and all(
            t.type == d["type"] and t.name == d.get("name") for t, d in zip(fig.data, traces)):
        with fig.batch_update():
            for t, d in zip(fig.data, traces):
                for k in _DATA_KEYS:  # only the data: style props would be re-validated (~3 ms a trace)
                    if k in d:
                        setattr(t, k, d[k])
                if d["type"] == "bar":
                    t.marker.color = d["marker"]["color"]
            if fig.layout.title.text != title:
                fig.layout.title.text = title
        return fig
    fig = build(traces)
    # uirevision: a redraw with new data keeps the user's zoom and hidden traces.
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, uirevision="keep",
                      margin=dict(l=40, r=10, t=36, b=30), legend=dict(orientation="h", y=-0.18))
    return fig


def _plain(traces: list[dict]) -> go.Figure:
    return go.Figure([{k: v for k, v in d.items() if k not in ("row", "col")} for d in traces])


def arrow_segments(starts: np.ndarray, vectors: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Quiver as one polyline: start, tip, NaN for each arrow -> x, y of shape (3N,), float32.

    The vectors are scaled together so the longest is `length` (directions and relative sizes are kept).
    """
    starts, vectors = _f32(starts).reshape(-1, 2), _f32(vectors).reshape(-1, 2)
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
        heat = _f32(s.heat)
        if s.heat_is_prob:
            z_range, bar = dict(zmin=0.0, zmax=1.0, zmid=0.5), "D(x)"
        else:  # critic score: centre the colour scale on 0
            m = float(np.nanmax(np.abs(heat))) if np.isfinite(heat).any() else 1.0
            z_range, bar = dict(zmin=-m, zmax=m, zmid=0.0), "D score"
        traces.append(dict(type="heatmap", name=bar, x=np.linspace(xmin, xmax, nx, dtype=np.float32),
                           y=np.linspace(ymin, ymax, ny, dtype=np.float32), z=heat, colorscale="RdBu",
                           opacity=0.55, showscale=False,  # a colour bar doubles the browser's redraw time
                           hovertemplate="x=%{x:.2f} y=%{y:.2f} D=%{z:.2f}<extra></extra>", **z_range))
    if s.real is not None:
        real = s.real[:max_real]
        traces.append(dict(type="scatter", name="real", x=_f32(real[:, 0]), y=_f32(real[:, 1]),
                           mode="markers", marker=dict(size=3, color=REAL_COLOR, opacity=0.5)))
    if s.fake is not None:
        fake = s.fake[:max_fake]
        traces.append(dict(type="scatter", name="generated", x=_f32(fake[:, 0]), y=_f32(fake[:, 1]),
                           mode="markers", marker=dict(size=4, color=FAKE_COLOR, opacity=0.8)))
    if s.arrows is not None and s.fake is not None and s.extent is not None:
        ax, ay = arrow_segments(s.fake[: len(s.arrows)], s.arrows, ARROW_FRAC * (s.extent[1] - s.extent[0]))
        traces.append(dict(type="scatter", name="G's push (-grad L_G)", x=ax, y=ay, mode="lines",
                           hoverinfo="skip", line=dict(color=ARROW_COLOR, width=1.2)))
    if s.centers is not None:
        c = _f32(s.centers)
        traces.append(dict(type="scatter", name="mode centres", x=c[:, 0], y=c[:, 1], mode="markers",
                           hoverinfo="skip", marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="black"))))
    return traces


def toy_field_figure(snapshot, title: str = "", height: int = 430, fig: Fig | None = None,
                     max_real: int = 250, max_fake: int = 500) -> Fig:
    """D's decision map (heat), real points, generated points, G's gradient arrows and the mode centres.

    heat[i, j] is D at (x_j, y_i) on a GRID_N x GRID_N grid over `extent` (rows = y): a probability for the
    probabilistic losses (blue = "real", red = "generated", white = 0.5, undecided), a raw critic score
    centred on 0 otherwise (FIELD_LEGEND says so in words; there is no colour bar). Arrows: -grad_x L_G at generated
    points, the way G's next update pushes each of them. At most `max_real` real and `max_fake` generated
    points are drawn: each SVG marker costs the browser ~0.08 ms a redraw (Chromium here), and a live page
    redraws this figure every half second; the snapshot's 1,000 points are i.i.d., so a prefix is a sample.
    """
    ext = snapshot.extent

    def build(traces: list[dict]) -> go.Figure:
        f = _plain(traces)
        if ext is not None:
            f.update_xaxes(range=[ext[0], ext[1]], constrain="domain")
            f.update_yaxes(range=[ext[2], ext[3]], scaleanchor="x", scaleratio=1)
        return f

    return _figure(_field_traces(snapshot, max_real, max_fake), fig, build, title, height)


def _curve_traces(histories: Histories, columns: Sequence[str], scale: Mapping[str, float] | None = None,
                  rows: Mapping[str, int] | None = None) -> list[dict]:
    traces = []
    runs = _runs(histories)
    for i, (run, h) in enumerate(runs):
        x = _f32(h.get("step", ()))
        for col in columns:
            if col not in h:
                continue
            name = f"{run}: {LABELS.get(col, col)}" if run else LABELS.get(col, col)
            d = dict(type="scatter", name=name, x=x, y=_f32(h[col]) * (scale or {}).get(col, 1.0), mode="lines",
                     line=dict(color=COLORS.get(col), dash=RUN_DASH[i % len(RUN_DASH)], width=1.6))
            if rows is not None:
                d.update(row=rows[col], col=1, showlegend=row_legend(rows[col], len(runs)))
            traces.append(d)
    return traces


def row_legend(row: int, n_runs: int) -> bool:
    """In stacked panels only the first panel's runs go in the legend (the panel titles name the metric)."""
    return n_runs > 1 and row == 1


def curves_figure(histories: Histories, columns: Sequence[str], title: str = "", height: int = 260,
                  fig: Fig | None = None) -> Fig:
    """One line per column against `step`; several runs share the axes (A solid, B dashed, ...)."""
    def build(traces: list[dict]) -> go.Figure:
        f = _plain(traces)
        f.update_xaxes(title_text="G step")
        return f

    return _figure(_curve_traces(histories, columns), fig, build, title, height)


def d_probs_figure(histories: Histories, height: int = 260, fig: Fig | None = None) -> Fig:
    """Mean D(x) on real and mean D(G(z)) on generated batches; at the game's optimum both are 1/2."""
    def build(traces: list[dict]) -> go.Figure:
        f = _plain(traces)
        f.add_hline(y=0.5, line=dict(dash="dot", color="grey", width=1))
        f.update_yaxes(range=[0, 1])
        f.update_xaxes(title_text="G step")
        return f

    return _figure(_curve_traces(histories, ("d_real", "d_fake")), fig, build, "mean D(x) vs mean D(G(z))",
                   height)


COVERAGE = ("modes_captured", "high_quality_frac", "reverse_kl")


def coverage_figure(histories: Histories, n_modes: int | None = None, height: int = 420,
                    fig: Fig | None = None) -> Fig:
    """Modes captured, high-quality % and reverse KL over time, stacked (toy mixtures; DESIGN section 3)."""
    rows = {c: i for i, c in enumerate(COVERAGE, start=1)}

    def build(traces: list[dict]) -> go.Figure:
        f = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                          subplot_titles=("modes captured", "high-quality %", "reverse KL (0 = balanced)"))
        for d in traces:
            f.add_trace({k: v for k, v in d.items() if k not in ("row", "col")}, row=d["row"], col=1)
        if n_modes:
            f.update_yaxes(range=[0, n_modes + 0.5], row=1, col=1)
            f.update_yaxes(range=[0, max(float(np.log(n_modes)), 0.1) * 1.05], row=3, col=1)
        f.update_yaxes(range=[0, 100], row=2, col=1)
        f.update_annotations(font_size=11)
        f.update_xaxes(title_text="G step", row=3, col=1)
        return f

    traces = _curve_traces(histories, COVERAGE, scale={"high_quality_frac": 100.0}, rows=rows)
    return _figure(traces, fig, build, "", height)


def mode_counts_figure(counts: np.ndarray | None, height: int = 200, fig: Fig | None = None,
                       title: str = "high-quality samples per mode") -> Fig:
    """High-quality generated samples per mode (bars); an empty (grey) mode is one G has dropped."""
    traces: list[dict[str, Any]] = []
    if counts is not None:
        c = _f32(counts)
        traces.append(dict(type="bar", name="samples per mode", x=np.arange(1, len(c) + 1, dtype=np.float32),
                           y=c, marker=dict(color=np.where(c > 0, FAKE_COLOR, "#cccccc").tolist())))

    def build(tr: list[dict]) -> go.Figure:
        f = _plain(tr)
        f.update_xaxes(title_text="mode", dtick=1 if counts is not None and len(counts) <= 10 else None)
        f.update_yaxes(rangemode="nonnegative")
        f.update_layout(showlegend=False)
        return f

    return _figure(traces, fig, build, title, height)
