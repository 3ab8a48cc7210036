"""Plotly figures for the Latent space page, built from plain numpy arrays (never from models)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlab.i18n import _

GRID_COLOUR = "rgba(31, 119, 180, 0.55)"
REAL_COLOUR = "rgba(120, 120, 120, 0.35)"


def _lines(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, P, 2) polylines -> one x and one y array with NaN breaks between lines (one trace draws them all)."""
    L, P, _xy = lines.shape
    out = np.full((L, P + 1, 2), np.nan, np.float32)
    out[:, :P] = lines
    out = out.reshape(-1, 2)
    return out[:, 0], out[:, 1]


def manifold_figure(m: dict[str, np.ndarray], path_z: np.ndarray, path_x: np.ndarray, span: float,
                    real: np.ndarray | None = None, centers: np.ndarray | None = None) -> go.Figure:
    """Left: the noise plane (z[0], z[1]) with its square grid and the path; right: the same grid and path as
    G maps them into data space (the warped manifold), over the real data.

    m: `latent.toy_manifold` output (rows, cols (n_grid, n_fine, 2), grid (n_grid,)); path_z (n, 2) in noise
    space, path_x (n, 2) = G(path) in data space; real (N, 2) and centers (M, 2) optional.
    """
    fig = make_subplots(1, 2, subplot_titles=(_("noise space: z[0], z[1]"), _("data space: G(z)")),
                        horizontal_spacing=0.08)
    a = m["grid"]
    s = np.linspace(-span, span, m["rows"].shape[1], dtype=np.float32)
    flat_rows = np.stack([np.broadcast_to(s, (len(a), len(s))), np.broadcast_to(a[:, None], (len(a), len(s)))], -1)
    flat_cols = flat_rows[..., ::-1]
    t = np.linspace(0, 1, len(path_z), dtype=np.float32)
    for col, rows, cols, path in ((1, flat_rows, flat_cols, path_z), (2, m["rows"], m["cols"], path_x)):
        if col == 2 and real is not None:
            fig.add_trace(go.Scattergl(x=real[:, 0].astype(np.float32), y=real[:, 1].astype(np.float32),
                                       mode="markers", marker=dict(size=3, color=REAL_COLOUR), name=_("real data")),
                          1, 2)
        if col == 2 and centers is not None:
            fig.add_trace(go.Scatter(x=centers[:, 0].astype(np.float32), y=centers[:, 1].astype(np.float32),
                                     mode="markers", marker=dict(size=9, symbol="x", color="black"),
                                     name=_("mode centres")), 1, 2)
        for lines in (rows, cols):
            x, y = _lines(np.asarray(lines, np.float32))
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(width=1, color=GRID_COLOUR),
                                     hoverinfo="skip", showlegend=False), 1, col)
        fig.add_trace(go.Scatter(x=path[:, 0].astype(np.float32), y=path[:, 1].astype(np.float32),
                                 mode="lines+markers", line=dict(color="crimson", width=2),
                                 marker=dict(size=7, color=t, colorscale="Reds", cmin=-0.3, cmax=1),
                                 name=_("interpolation path"), showlegend=col == 1), 1, col)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", scaleratio=1, row=1, col=2)
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.08))
    return fig


def norm_figure(t: np.ndarray, norms: dict[str, np.ndarray], shell: float) -> go.Figure:
    """||z(t)|| along an interpolation, one curve per mode, with sqrt(d) (where N(0, I) noise lives) dashed."""
    fig = go.Figure()
    for name, n in norms.items():
        fig.add_trace(go.Scatter(x=np.asarray(t, np.float32), y=np.asarray(n, np.float32), mode="lines+markers",
                                 name=name))
    fig.add_hline(y=shell, line_dash="dash", line_color="grey", annotation_text="sqrt(d)")
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), title=_("norm ||z|| along the path"),
                      xaxis_title="t", yaxis_title="||z||")
    return fig
