"""Live views: refresh while something runs, stop when nothing does, redraw only what changed.

A page draws its live part in its own `@st.fragment(run_every=refresh_every(live))` (the interval is fixed
when the fragment is defined, i.e. at each full rerun). When the fragment sees that its run stopped being live
it calls `stop_when_idle`, which reruns the whole app once: the fragment is then defined again with no
`run_every`, and the page's buttons catch up with the run's status.

Figures are kept per session and updated in place only when the job published a new snapshot (job.version),
so a tick with nothing new costs only the sending of the figures (see ganlab/viz/common.py).
"""
from __future__ import annotations

import functools
import time
from typing import Callable, Hashable, Union

import plotly
import plotly.graph_objects as go
import streamlit as st
from plotly.basedatatypes import BaseFigure
from plotly.tools import return_figure_from_figure_or_data

from ganlab import i18n

REFRESH_S = 0.5
SLOW_S = 2.0  # curves of the whole history: redrawn at most this often while a run is live
_FIGS = "_ganlab_figs"
Fig = Union[go.Figure, dict]
_THROTTLE = "_ganlab_throttle"


MAX_LIVE_S = 0.8  # a live run's view refreshes at least 1.25 times a second, however busy the server
JOBS_PER_WORKER = 4  # runs a worker carries before views start refreshing less often


def load_factor() -> float:
    """>= 1: how much busier the server is than its workers carry at full refresh rate. Fragment reruns
    compete with training for the same cores, so under load every view refreshes less often."""
    from ganlab import jobs

    stats = jobs.manager().stats()
    return max(1.0, stats["running"] / (JOBS_PER_WORKER * max(1, stats.get("workers", 1))))


def refresh_every(live: bool, seconds: float = REFRESH_S) -> float | None:
    """The fragment interval for a view while a run is live (None, no auto-refresh, when nothing is): see
    `every`."""
    return every(seconds) if live else None


def every(seconds: float = REFRESH_S) -> float:
    """`seconds` on a quiet server, longer under load: a run's live line at most MAX_LIVE_S (about once a
    second), slower views (figures, the sidebar, the banner) at most 4x their quiet interval.

    Every interval is a whole multiple of the live line's. A page keeps its whole live view (lines and figures)
    in ONE fragment: measured with the classroom benchmark, two fragments of a page whose timers fired
    together often ran only one of them (the other's tick was lost, so a student's counter moved less than once
    a second even on an idle server); the sidebar's and the banner's slower ticks coincide with it at most
    every 2nd-4th tick."""
    f = load_factor()
    base = round(min(MAX_LIVE_S, REFRESH_S * f), 2)
    if seconds <= REFRESH_S:
        return base
    target = min(4 * seconds, seconds * f)
    return round(base * max(1, round(target / base)), 2)


def stop_when_idle(was_live: bool, is_live: bool) -> None:
    """Call at the end of a fragment tick: one full rerun when the run just stopped being live."""
    if was_live and not is_live:
        st.rerun()


def figure(key: Hashable, version: Hashable, draw: Callable[[Fig | None], Fig]) -> Fig:
    """The session's figure under `key`, redrawn by `draw(previous_figure)` only when `version` changed.

    `draw` receives the previous figure (or None) so a viz function can write new arrays into it. It may
    return a go.Figure or its plain-dict form (ganlab.viz.common.to_spec): updating a dict skips plotly's
    validation, the cheapest path for a figure redrawn at 2 Hz. A figure drawn in another language is drawn
    anew (None: its titles, axes and legends are in the words of the language it was built in).
    """
    cache = st.session_state.setdefault(_FIGS, {})
    held = cache.get(key)
    lang = i18n.language()
    same_lang = held is not None and held[3] == lang
    if same_lang and held[0] == version:
        return held[1]
    fig = draw(held[1] if same_lang else None)
    cache[key] = [version, fig, None, lang]  # [2]: what chart() sends (sendable), made once per version
    return fig


# ---- the one private Plotly use, behind a guard (docs/architecture.md, "Private APIs") ---------------------
FROZEN_CHECKED = "7.1"  # plotly major.minor on which the frozen fast path was checked (requirements.txt pins it)


class _Frozen(BaseFigure):
    """A figure already turned into a plain dict (numpy arrays base64-encoded by plotly's to_dict).

    st.plotly_chart accepts any BaseFigure as validated and only calls its to_dict(); returning the dict made
    once per version skips plotly's deep copy and re-encoding at every 2 Hz tick. BaseFigure.__init__ is
    deliberately not called (private: nothing else of the figure machinery is used), so this class is only
    used where frozen_path_ok() says the behaviour is the checked one.
    """

    def __init__(self, spec: dict):  # BaseFigure.__init__ not called on purpose
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


@functools.cache
def frozen_path_ok() -> bool:
    """May charts take the private fast path? Only on the checked plotly version, and only when plotly's own
    figure-or-dict conversion (what st.plotly_chart calls) still hands a frozen figure's dict through as is."""
    try:
        if ".".join(plotly.__version__.split(".")[:2]) != FROZEN_CHECKED:
            return False
        probe = {"data": [{"type": "scatter", "x": [0.0, 1.0], "y": [1.0, 0.0]}], "layout": {}}
        return return_figure_from_figure_or_data(_Frozen(probe), validate_figure=True) is probe
    except Exception:  # noqa: BLE001 - any surprise means: use the public path
        return False


def sendable(fig: Fig, fast: bool | None = None) -> BaseFigure:
    """What st.plotly_chart is given for `fig` (a go.Figure or its plain-dict form); the chart is the same.

    fast (default: frozen_path_ok()): a frozen figure whose to_dict() returns the dict made here, once.
    Otherwise the public path: the go.Figure itself, or go.Figure(spec) for a dict (plotly validates it; a
    plain dict cannot be passed as is, st.plotly_chart refuses one without traces).
    """
    if frozen_path_ok() if fast is None else fast:
        return _Frozen(fig if isinstance(fig, dict) else fig.to_dict())
    return fig if isinstance(fig, BaseFigure) else go.Figure(fig)


def _cached_sendable(fig: Fig) -> BaseFigure:
    """sendable(fig), made once per version for a figure held by `figure()`; a figure held nowhere is sent as
    is (a dict through sendable)."""
    for held in st.session_state.get(_FIGS, {}).values():
        if held[1] is fig:
            if held[2] is None:
                held[2] = sendable(fig)
            return held[2]
    return sendable(fig) if isinstance(fig, dict) else fig


def throttle(key: Hashable, version: Hashable, every_s: float = SLOW_S, now_anyway: bool = False) -> Hashable:
    """`version`, but moving on at most once per `every_s` seconds (at once when `now_anyway`, e.g. the run
    stopped). Streamlit remounts a chart whose figure changed, which costs the browser far more than the
    server; history curves gain nothing from 2 Hz, so they follow a throttled version."""
    cache = st.session_state.setdefault(_THROTTLE, {})
    held = cache.get(key)
    now = time.monotonic()
    if held is None or (version != held[0] and (now_anyway or now - held[1] >= every_s)):
        held = cache[key] = (version, now)
    return held[0]


def forget_figures(prefix: Hashable | None = None) -> None:
    """Drop cached figures (all, or those whose key is a tuple starting with `prefix`)."""
    cache = st.session_state.get(_FIGS)
    if not cache:
        return
    for k in list(cache):
        if prefix is None or (isinstance(k, tuple) and k and k[0] == prefix):
            del cache[k]


def chart(fig: Fig, key: str | None = None) -> None:
    """A Plotly chart at the figure's own height (layout.height), as wide as its column. Figures from
    `figure()` are sent in their cached sendable form (made once per version)."""
    st.plotly_chart(_cached_sendable(fig), width="stretch", config={"displaylogo": False}, key=key)
