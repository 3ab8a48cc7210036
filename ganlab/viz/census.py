"""The census chart for the projector: per panel (ring, grid: modes captured; image runs: feature FID) a row per
group of the class, a point per run, the group's mean with its standard error as a bar, and for the toy data
PacGAN's Table 1 rows (grey squares, the paper's ±) beside them.

A plain-dict figure spec (as the gallery's, ganlab/viz/class_view.py): rows are numeric y positions 0, 1, ...
top-down with the group labels as tick texts, so each run's point can be nudged off its row by a fixed small
offset (whole-number modes of several runs would otherwise hide one another).
"""
from __future__ import annotations

from ganlab import census
from ganlab.i18n import _
from ganlab.text import html_text

RUN_COLOR = "#ff7f0e"  # a run of the class (FAKE_COLOR: what the class generated)
MEAN_COLOR = "#222222"
PAPER_COLOR = "#7f7f7f"
ROW_PX = 34
PANEL_PAD_PX = 70
JITTER = (0.0, 0.18, -0.18, 0.09, -0.09, 0.27, -0.27)  # row offsets of a group's runs, in turn


def _panels(groups: list[census.Group]) -> list[tuple[str, str, float | None, list[census.Group],
                                                      list[census.PaperRow]]]:
    """(title, metric, x max, groups, paper rows) per panel, toy data in census.MIXTURES order, images last."""
    out = []
    for data in census.MIXTURES:
        gs = [g for g in groups if g.key.kind == "toy" and g.key.data == data]
        if gs:
            n = census.paper_rows(data)[0].n_modes
            title = _("{data}: modes captured (of {n})").format(data=_(census.DATA_LABELS[data]), n=n)
            out.append((title, "modes", n + 0.5, gs, census.paper_rows(data)))
    images = [g for g in groups if g.key.kind == "image"]
    if images:
        out.append((_("Image runs: feature FID (lower is better; not comparable with papers' FID)"), "fid", None,
                    images, []))
    return out


def census_spec(groups: list[census.Group], height_px: int | None = None) -> dict:
    """A figure spec: one panel per kind of run in `groups` (stacked, top to bottom), traces per panel: the
    runs' points (one per run), the groups' means with SE error bars, and the paper's rows (toy panels)."""
    panels = _panels(groups)
    rows = [len(p[3]) + len(p[4]) for p in panels]
    total = sum(rows) or 1
    height = height_px or sum(r * ROW_PX + PANEL_PAD_PX for r in rows) + 40
    layout = {"height": height, "showlegend": True, "margin": dict(l=10, r=10, t=30, b=30),
              "font": dict(size=14), "plot_bgcolor": "white", "annotations": [],
              "legend": dict(orientation="h", x=0, y=1.0, yanchor="bottom")}
    data: list[dict] = []
    top = 1.0
    gap = 0.06 if len(panels) > 1 else 0.0
    usable = 1.0 - gap * max(0, len(panels) - 1)
    for k, ((title, metric, xmax, gs, paper), n) in enumerate(zip(panels, rows)):
        ax = "" if k == 0 else str(k + 1)
        lo = top - usable * n / total
        labels = [html_text(g.label) for g in gs] + [_("paper: {model}").format(model=p.model) for p in paper]
        layout[f"yaxis{ax}"] = dict(domain=[max(0.0, lo), top], anchor=f"x{ax}", tickvals=list(range(n)),
                                    ticktext=labels, range=[n - 0.5, -0.5], automargin=True, showgrid=False,
                                    zeroline=False)
        layout[f"xaxis{ax}"] = dict(anchor=f"y{ax}", automargin=True, gridcolor="#eee", zeroline=False,
                                    title=dict(text=title, standoff=4),
                                    **({"range": [-0.3, xmax]} if xmax else {"type": "log"}))
        xs, ys, who = [], [], []
        for row, g in enumerate(gs):
            for i, r in enumerate(g.runs):
                v = r.modes if metric == "modes" else r.fid
                if v is not None:
                    xs.append(float(v))
                    ys.append(row + JITTER[i % len(JITTER)])
                    who.append(html_text(f"{r.student}{' ' + r.run if r.run else ''}"))  # plotly reads HTML
        first = k == 0
        data.append(dict(type="scatter", mode="markers", x=xs, y=ys, text=who, hoverinfo="text+x",
                         xaxis=f"x{ax}", yaxis=f"y{ax}", name=_("a run"), legendgroup="runs", showlegend=first,
                         marker=dict(size=9, color=RUN_COLOR, opacity=0.75)))
        means = [getattr(g, metric) for g in gs]
        data.append(dict(type="scatter", mode="markers", x=[m[0] for m in means], y=list(range(len(gs))),
                         error_x=dict(type="data", array=[m[1] or 0.0 for m in means], color=MEAN_COLOR,
                                      thickness=2, width=8),
                         xaxis=f"x{ax}", yaxis=f"y{ax}", name=_("class mean ± SE"), legendgroup="mean",
                         showlegend=first, hoverinfo="x", marker=dict(symbol="diamond", size=13, color=MEAN_COLOR)))
        if paper:
            data.append(dict(type="scatter", mode="markers", x=[p.modes for p in paper],
                             y=[len(gs) + i for i in range(len(paper))],
                             error_x=dict(type="data", array=[p.modes_pm for p in paper], color=PAPER_COLOR,
                                          thickness=2, width=8),
                             xaxis=f"x{ax}", yaxis=f"y{ax}", legendgroup="paper",
                             name=_("PacGAN Table 1 (2,500 samples, high quality within 3 std)"),
                             showlegend=first, hoverinfo="x",
                             marker=dict(symbol="square", size=11, color=PAPER_COLOR)))
        top = lo - gap
    return {"data": data, "layout": layout}
