"""What every page's figures share: colours, labels, loss and D(x) curves, and the in-place update path.

Figures are built from Snapshot arrays (plain numpy), never from models; no Streamlit here. Every array handed
to Plotly stays float32 numpy: Plotly >= 6 ships numpy arrays to the browser as binary, which keeps a 2 Hz
refresh cheap. Histories are already bounded (<= 1,000 rows, see ganlab/engine/history.py).

Points are drawn as SVG `scatter`, not `scattergl`: Streamlit remounts a chart whose figure changed, and a
WebGL context per remount (2 Hz, several charts) costs more than 2,000 SVG markers, in software GL most of all.

Building a Plotly figure validates every property, which is slow; swapping new arrays into an existing figure
is much cheaper, and into its plain-dict form (`to_spec`) cheaper still. So each figure function takes an
optional `fig`, a figure or such a dict, and hands it to `update_or_build`: when it has the same traces (type
and name, in order) the new data is written into it in place and it is returned; otherwise a new one is built
(a dict again when a dict was given). A live page keeps its figures and passes them back (see
ganlab/ui/live.py, and docs/architecture.md, "Performance rules").
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np
import plotly.graph_objects as go

from ganlab.i18n import N_, _

REAL_COLOR = "#1f77b4"
FAKE_COLOR = "#ff7f0e"
RUN_DASH = ("solid", "dash", "dot", "dashdot")  # line style per run in comparison curves

LABELS = {  # English msgids: label(col) shows them in the session's language
    "d_loss": N_("D loss"), "g_loss": N_("G loss"), "d_real": "D(x)", "d_fake": "D(G(z))",
    "g_grad": "|grad G|", "d_grad": "|grad D|", "modes_captured": N_("modes captured"),
    "high_quality_frac": N_("high-quality %"), "reverse_kl": N_("reverse KL"), "seconds": N_("seconds"),
    "recon": N_("reconstruction -log p(x|z)"), "kl": "KL(q(z|x) || p(z))", "elbo": "ELBO",
}


def label(col: str) -> str:
    """A history column's name as a legend shows it, in this context's language."""
    return _(LABELS[col]) if col in LABELS else col
COLORS = {"d_loss": "#d62728", "g_loss": "#9467bd", "d_real": REAL_COLOR, "d_fake": FAKE_COLOR,
          "modes_captured": "#2ca02c", "high_quality_frac": "#17becf", "reverse_kl": "#8c564b",
          "recon": "#1f77b4", "kl": "#e377c2", "elbo": "#7f7f7f"}

History = Mapping[str, np.ndarray]
# One history, or several runs to compare as (name, history) pairs: [("A", hist_a), ("B", hist_b)].
Histories = Union[History, Sequence[tuple[str, History]]]


def f32(a) -> np.ndarray:
    """`a` as a float32 numpy array (what Plotly sends to the browser as binary)."""
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


def update_or_build(traces: list[dict], fig: Fig | None, build: Callable[[list[dict]], go.Figure],
                    title: str, height: int) -> Fig:
    """Update `fig` in place when its traces match `traces` (type, name, order); else `build` a new one.

    A change of style is signalled by a change of trace name (e.g. the heat-map's "D(x)" vs "D score").
    """
    if isinstance(fig, dict):
        if _update_spec(fig, traces, title):
            return fig
        return to_spec(update_or_build(traces, None, build, title, height))
    if fig is not None and len(fig.data) == len(traces) and all(
            t.type == d["type"] and t.name == d.get("name") for t, d in zip(fig.data, traces)):
        with fig.batch_update():
            for t, d in zip(fig.data, traces):
                for k in _DATA_KEYS:  # only the data: style props would be re-validated
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


def plain_figure(traces: list[dict]) -> go.Figure:
    """A one-panel figure of `traces` (trace dicts as the figure functions make them; subplot keys dropped)."""
    return go.Figure([{k: v for k, v in d.items() if k not in ("row", "col")} for d in traces])


def curve_traces(histories: Histories, columns: Sequence[str], scale: Mapping[str, float] | None = None,
                 rows: Mapping[str, int] | None = None) -> list[dict]:
    """One line trace per (run, column) against `step`, the column times `scale[column]`; with `rows`, each
    trace goes to the subplot row `rows[column]` (stacked panels)."""
    traces = []
    runs = _runs(histories)
    for i, (run, h) in enumerate(runs):
        x = f32(h.get("step", ()))
        for col in columns:
            if col not in h:
                continue
            name = f"{run}: {label(col)}" if run else label(col)
            d = dict(type="scatter", name=name, x=x, y=f32(h[col]) * (scale or {}).get(col, 1.0), mode="lines",
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
    """One line per column against `step`; several runs share the axes (A solid, B dashed, ...). `title` is an
    English msgid (translated here)."""
    def build(traces: list[dict]) -> go.Figure:
        f = plain_figure(traces)
        f.update_xaxes(title_text=_("G step"))
        return f

    return update_or_build(curve_traces(histories, columns), fig, build, _(title) if title else "", height)


def d_probs_figure(histories: Histories, height: int = 260, fig: Fig | None = None) -> Fig:
    """Mean D(x) on real and mean D(G(z)) on generated batches; at the game's optimum both are 1/2."""
    def build(traces: list[dict]) -> go.Figure:
        f = plain_figure(traces)
        f.add_hline(y=0.5, line=dict(dash="dot", color="grey", width=1))
        f.update_yaxes(range=[0, 1])
        f.update_xaxes(title_text=_("G step"))
        return f

    return update_or_build(curve_traces(histories, ("d_real", "d_fake")), fig, build,
                           _("mean D(x) vs mean D(G(z))"), height)
