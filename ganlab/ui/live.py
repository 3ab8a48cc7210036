"""Live views: refresh while something runs, stop when nothing does, redraw only what changed.

A page draws its live part in its own `@st.fragment(run_every=refresh_every(live))` (the interval is fixed
when the fragment is defined, i.e. at each full rerun). When the fragment sees that its run stopped being live
it calls `stop_when_idle`, which reruns the whole app once: the fragment is then defined again with no
`run_every`, and the page's buttons catch up with the run's status.

Figures are kept per session and updated in place only when the job published a new snapshot (job.version),
so a tick with nothing new costs only the sending of the figures (see ganlab/viz.py).
"""
from __future__ import annotations

from typing import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st

REFRESH_S = 0.5
_FIGS = "_ganlab_figs"


def refresh_every(live: bool, seconds: float = REFRESH_S) -> float | None:
    return seconds if live else None


def stop_when_idle(was_live: bool, is_live: bool) -> None:
    """Call at the end of a fragment tick: one full rerun when the run just stopped being live."""
    if was_live and not is_live:
        st.rerun()


def figure(key: Hashable, version: Hashable, draw: Callable[[go.Figure | None], go.Figure]) -> go.Figure:
    """The session's figure under `key`, redrawn by `draw(previous_figure)` only when `version` changed.

    `draw` receives the previous figure (or None) so a viz function can write new arrays into it.
    """
    cache = st.session_state.setdefault(_FIGS, {})
    held = cache.get(key)
    if held is not None and held[0] == version:
        return held[1]
    fig = draw(held[1] if held is not None else None)
    cache[key] = (version, fig)
    return fig


def forget_figures(prefix: Hashable | None = None) -> None:
    """Drop cached figures (all, or those whose key is a tuple starting with `prefix`)."""
    cache = st.session_state.get(_FIGS)
    if not cache:
        return
    for k in list(cache):
        if prefix is None or (isinstance(k, tuple) and k and k[0] == prefix):
            del cache[k]


def chart(fig: go.Figure, key: str | None = None) -> None:
    """A Plotly chart at the figure's own height (layout.height), as wide as its column."""
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key=key)
