"""The Class page's projector view: every toy run's generated points as small multiples, one panel a student.

Built as a plain-dict figure spec (no plotly validation: 30 panels would cost ~0.5 s to validate), with the
points as binary typed arrays. Panel k sits in row k // cols, column k % cols; each panel has its own square
axes over its run's view box, the mode centres as grey crosses, and a title "nickname · modes 3 / 8".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganlab.viz.common import FAKE_COLOR, typed_array

MAX_POINTS = 300  # per panel: 30 panels x 300 SVG markers stay cheap to redraw on a projector's browser
GAP = 0.012  # space between panels, in figure fractions


@dataclass(frozen=True)
class Panel:
    title: str
    fake: np.ndarray | None  # (N, 2) generated points
    centers: np.ndarray | None  # (M, 2) mode centres
    extent: tuple[float, float, float, float] | None  # xmin, xmax, ymin, ymax
    collapsed: bool = False  # drawn with a red title: fewer than half of the modes captured


def _domain(i: int, n: int, top_down: bool = False) -> list[float]:
    lo, hi = i / n + GAP, (i + 1) / n - GAP
    return [1 - hi, 1 - lo] if top_down else [lo, hi]


def gallery_spec(panels: list[Panel], cols: int = 6, panel_px: int = 170) -> dict:
    """A figure spec with one scatter panel per run (cols panels a row)."""
    n = len(panels)
    cols = max(1, min(cols, n)) if n else 1
    rows = max(1, -(-n // cols))
    data, layout = [], {"height": rows * panel_px + 20, "showlegend": False, "margin": dict(l=4, r=4, t=24, b=4),
                        "annotations": [], "plot_bgcolor": "white"}
    for k, p in enumerate(panels):
        r, c = divmod(k, cols)
        ax = "" if k == 0 else str(k + 1)
        xa, ya = f"xaxis{ax}", f"yaxis{ax}"
        ext = p.extent or (-1.0, 1.0, -1.0, 1.0)
        layout[xa] = dict(domain=_domain(c, cols), range=[ext[0], ext[1]], anchor=f"y{ax}", showticklabels=False,
                          showgrid=False, zeroline=False, constrain="domain", linecolor="#ddd", mirror=True)
        layout[ya] = dict(domain=_domain(r, rows, top_down=True), range=[ext[2], ext[3]], anchor=f"x{ax}",
                          scaleanchor=f"x{ax}", showticklabels=False, showgrid=False, zeroline=False,
                          linecolor="#ddd", mirror=True)
        if p.centers is not None and len(p.centers):
            cen = np.asarray(p.centers, np.float32)
            data.append(dict(type="scatter", mode="markers", x=typed_array(cen[:, 0]), y=typed_array(cen[:, 1]),
                             xaxis=f"x{ax}", yaxis=f"y{ax}", hoverinfo="skip",
                             marker=dict(symbol="x-thin", size=6, line=dict(width=1, color="#999"))))
        if p.fake is not None and len(p.fake):
            pts = np.asarray(p.fake[:MAX_POINTS], np.float32)
            data.append(dict(type="scatter", mode="markers", x=typed_array(pts[:, 0]), y=typed_array(pts[:, 1]),
                             xaxis=f"x{ax}", yaxis=f"y{ax}", hoverinfo="skip",
                             marker=dict(size=2.5, color=FAKE_COLOR, opacity=0.7)))
        x0, x1 = _domain(c, cols)
        y0, y1 = _domain(r, rows, top_down=True)
        layout["annotations"].append(dict(text=p.title, x=(x0 + x1) / 2, y=y1, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False,
                                          font=dict(size=11, color="#c0392b" if p.collapsed else "#333")))
    return {"data": data, "layout": layout}
