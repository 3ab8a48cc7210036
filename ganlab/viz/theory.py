"""Plotly figures for the theory page, from plain arrays (a TheorySnapshot), never from models.

game_figure      the paper's Figure 1: p_data, p_g, learned D and D* on one x axis; z -> G(z) lines below
gradient_figure  G's loss and |dL/dlogit| as functions of D(G(z)), saturating vs non-saturating, batch marked
value_figure     V(D, G), V(D*, G) and -log 4 + 2 JSD over training
Curves are float32 arrays (Plotly >= 6 ships them as binary); gaps in segment traces are NaN.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab.i18n import _
from ganlab.theory import math1d as m1

DATA_C, GEN_C, D_C, DSTAR_C = "#222222", "#2ca02c", "#1f77b4", "#d62728"
SAT_C, NS_C = "#9467bd", "#ff7f0e"
_F32 = np.float32


def _segments(x0: np.ndarray, x1: np.ndarray, y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """One trace of k segments (x0_i, y0) -> (x1_i, y1): arrays (3k,) with NaN breaks."""
    k = len(x0)
    xs = np.full(3 * k, np.nan, _F32)
    ys = np.full(3 * k, np.nan, _F32)
    xs[0::3], xs[1::3] = x0, x1
    ys[0::3], ys[1::3] = y0, y1
    return xs, ys


def _top(snap) -> float:
    finite = [np.nanmax(a) for a in (snap.p_data, snap.p_g) if np.isfinite(a).any()]
    return 1.1 * max(max(finite, default=0.0), 1e-3)


def game_figure(snap, height: int = 520, fig: go.Figure | None = None) -> go.Figure:
    """Densities (left axis) and D(x), D*(x) in [0, 1] (right axis) over x; the mapping z -> G(z) below.

    With `fig` (a figure this function built for the same grid) only the arrays and the title are replaced:
    far cheaper than building the subplots again, which matters at a live refresh of 2 Hz.
    """
    if fig is not None and len(fig.data) == 7:
        xs, ys = _segments(snap.z_line, snap.gz_line, 0.0, 1.0)
        with fig.batch_update():
            fig.data[1].y, fig.data[2].y, fig.data[3].y = snap.p_g, snap.d, snap.d_star
            fig.data[4].x, fig.data[6].x = xs, snap.gz_line
            fig.layout.yaxis.range = (0, _top(snap))
            fig.layout.title.text = _("step {step}").format(step=snap.step)
        return fig
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.04,
                        specs=[[{"secondary_y": True}], [{}]])
    x = snap.grid
    fig.add_trace(go.Scatter(x=x, y=snap.p_data, name="p_data(x)", line=dict(color=DATA_C, dash="dot", width=2),
                             fill="tozeroy", fillcolor="rgba(34,34,34,0.08)"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=snap.p_g, name=_("p_g(x) (KDE of G(z))"), line=dict(color=GEN_C, width=2),
                             fill="tozeroy", fillcolor="rgba(44,160,44,0.12)"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=snap.d, name=_("D(x), learned"), line=dict(color=D_C, dash="dash", width=2)),
                  row=1, col=1, secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=snap.d_star, name="D*(x) = p_data / (p_data + p_g)",
                             line=dict(color=DSTAR_C, dash="dashdot", width=2)), row=1, col=1, secondary_y=True)
    xs, ys = _segments(snap.z_line, snap.gz_line, 0.0, 1.0)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="z -> G(z)", line=dict(color=GEN_C, width=1),
                             opacity=0.7, connectgaps=False, showlegend=False), row=2, col=1)
    fig.add_trace(go.Scatter(x=snap.z_line, y=np.zeros_like(snap.z_line), mode="markers", name="z",
                             marker=dict(color="#555555", size=4), showlegend=False), row=2, col=1)
    fig.add_trace(go.Scatter(x=snap.gz_line, y=np.ones_like(snap.gz_line), mode="markers", name="G(z)",
                             marker=dict(color=GEN_C, size=4), showlegend=False), row=2, col=1)
    fig.update_yaxes(title_text=_("density"), range=[0, _top(snap)], row=1, col=1, secondary_y=False)
    fig.update_yaxes(title_text="D(x)", range=[0, 1.05], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=1,
                     secondary_y=True, showgrid=False)
    fig.update_yaxes(tickvals=[0, 1], ticktext=["z", "x = G(z)"], range=[-0.15, 1.15], row=2, col=1)
    fig.update_xaxes(range=[float(x[0]), float(x[-1])], title_text="x", row=2, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.08),
                      title=dict(text=_("step {step}").format(step=snap.step), x=0.0, y=0.995, font=dict(size=13)),
                      uirevision="theory-game")
    return fig


def gradient_figure(batch_dgz: np.ndarray, loss: str = "non_saturating", height: int = 330,
                    fig: go.Figure | None = None) -> go.Figure:
    """Left: G's loss vs d = D(G(z)). Right: |dL/ds| (s = D's logit), the factor that reaches G's weights.

    Saturating L = log(1 - d): |dL/ds| = d, ~0 where D rejects the fakes (d -> 0, early training).
    Non-saturating L = -log d:  |dL/ds| = 1 - d, largest exactly there.
    With `fig` (built here for the same loss) only the batch's dots and its mean line move.
    """
    b = np.asarray(batch_dgz, np.float64)
    b = np.clip(b[np.isfinite(b)], 1e-3, 1 - 1e-3)
    if fig is not None and len(fig.data) == 8 and len(b) and fig.layout.meta == loss:
        fns = (m1.saturating_loss, m1.saturating_grad_logit, m1.non_saturating_loss, m1.non_saturating_grad_logit)
        with fig.batch_update():
            for k, (i, f) in enumerate(zip((2, 3, 6, 7), fns)):
                fig.data[i].x = b.astype(_F32)
                fig.data[i].y = (f(b) if k % 2 == 0 else np.abs(f(b))).astype(_F32)
            for shape in fig.layout.shapes:
                shape.x0 = shape.x1 = float(b.mean())
        return fig
    d = np.linspace(1e-3, 1 - 1e-3, 400)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(_("G's loss per sample"), _("|dL/d logit|: gradient reaching G")))
    curves = ((m1.saturating_loss, m1.saturating_grad_logit, _("saturating  log(1 - D(G(z)))"), SAT_C, "minimax"),
              (m1.non_saturating_loss, m1.non_saturating_grad_logit, _("non-saturating  -log D(G(z))"), NS_C,
               "non_saturating"))
    for f_loss, f_grad, label, color, key in curves:
        width = 3 if key == loss else 1.5
        fig.add_trace(go.Scatter(x=d.astype(_F32), y=f_loss(d).astype(_F32), name=label, legendgroup=key,
                                 line=dict(color=color, width=width)), row=1, col=1)
        fig.add_trace(go.Scatter(x=d.astype(_F32), y=np.abs(f_grad(d)).astype(_F32), name=label, legendgroup=key,
                                 showlegend=False, line=dict(color=color, width=width)), row=1, col=2)
        if len(b):
            mark = dict(color=color, size=6, opacity=0.35, line=dict(width=0))
            fig.add_trace(go.Scatter(x=b.astype(_F32), y=f_loss(b).astype(_F32), mode="markers", marker=mark,
                                     legendgroup=key, showlegend=False, hoverinfo="skip"), row=1, col=1)
            fig.add_trace(go.Scatter(x=b.astype(_F32), y=np.abs(f_grad(b)).astype(_F32), mode="markers",
                                     marker=mark, legendgroup=key, showlegend=False, hoverinfo="skip"), row=1, col=2)
    if len(b):
        for col in (1, 2):
            fig.add_vline(x=float(b.mean()), line=dict(color="#555555", dash="dot"), row=1, col=col)
    fig.update_xaxes(title_text=_("D(G(z)) (dots: this batch; line: its mean)"), range=[0, 1])
    fig.update_yaxes(range=[-5, 5], row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25),
                      uirevision="theory-grad", meta=loss)
    return fig


def value_figure(history: dict[str, np.ndarray], height: int = 300, fig: go.Figure | None = None) -> go.Figure:
    """V(D, G) <= V(D*, G) = -log 4 + 2 JSD over steps; -log 4 is the value at the game's equilibrium."""
    step = history.get("step", np.zeros(0, _F32))  # rows logged by "train D to optimum" share a step:
    if fig is not None and len(fig.data) == 3 and all(k in history for k in ("v_d", "v_star", "identity")):
        with fig.batch_update():
            for trace, key in zip(fig.data, ("v_d", "v_star", "identity")):
                trace.x, trace.y = step, history[key]
        return fig
    fig = go.Figure()
    for key, label, style in (("v_d", _("V(D, G), learned D"), dict(color=D_C, width=2)),
                              ("v_star", "V(D*, G)", dict(color=DSTAR_C, width=3)),
                              ("identity", "-log 4 + 2 JSD", dict(color="#000000", dash="dot", width=2))):
        if key in history:
            fig.add_trace(go.Scatter(x=step, y=history[key], name=label, line=style))  # D alone -> vertical jump
    fig.add_hline(y=-m1.LOG4, line=dict(color="#888888", dash="dash"), annotation_text="-log 4",
                  annotation_position="bottom right")
    fig.update_xaxes(title_text=_("G step"))
    fig.update_yaxes(title_text=_("value"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12),
                      uirevision="theory-value")
    return fig
