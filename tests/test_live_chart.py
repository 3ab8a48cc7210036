"""ganlab.ui.live: the private Plotly fast path (a frozen BaseFigure) and its public fallback send the same chart.

Both paths run through the real st.plotly_chart (AppTest) on figures of every shape the pages send: a toy field
as a plain dict, stacked panels as a go.Figure, a figure with no traces.
"""
import json

import plotly
import pytest
from streamlit.testing.v1 import AppTest

from ganlab.ui import live


def _charts_script():
    """Draws three figures through live.figure + live.chart, as a page does (cached per version)."""
    from types import SimpleNamespace

    import numpy as np

    from ganlab.ui import live
    from ganlab.viz import common, mode_collapse

    rng = np.random.default_rng(0)
    snap = SimpleNamespace(heat=rng.random((8, 8), dtype=np.float32), heat_is_prob=True, extent=(-3, 3, -3, 3),
                           real=rng.normal(size=(40, 2)), fake=rng.normal(size=(40, 2)),
                           arrows=rng.normal(size=(10, 2)), centers=np.array([[2.0, 0.0], [-2.0, 0.0]]))
    hist = {"step": np.arange(1, 6, dtype=np.float32), "modes_captured": np.array([1, 2, 2, 3, 4], np.float32),
            "high_quality_frac": np.linspace(0, 1, 5, dtype=np.float32), "reverse_kl": np.ones(5, np.float32)}
    live.chart(live.figure("field", 1, lambda f: common.to_spec(mode_collapse.toy_field_figure(snap, "A"))))
    live.chart(live.figure("cover", 1, lambda f: mode_collapse.coverage_figure([("A", hist), ("B", hist)], 8)))
    live.chart(live.figure("empty", 1, lambda f: common.to_spec(mode_collapse.mode_counts_figure(None))))


def _sent_specs(monkeypatch, fast: bool) -> list[dict]:
    monkeypatch.setattr(live, "frozen_path_ok", lambda: fast)
    at = AppTest.from_function(_charts_script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_fast_and_public_paths_send_the_same_chart(monkeypatch):
    fast, public = _sent_specs(monkeypatch, True), _sent_specs(monkeypatch, False)
    assert len(fast) == len(public) == 3
    assert fast == public
    assert fast[0]["data"][0]["type"] == "heatmap" and fast[2]["data"] == []


def test_sendable_picks_the_path():
    spec = {"data": [{"type": "scatter", "x": [0.0, 1.0], "y": [1.0, 2.0]}], "layout": {}}
    frozen = live.sendable(spec, fast=True)
    assert frozen.to_dict() is spec  # the fast path hands the dict through as is
    public = live.sendable(spec, fast=False)
    assert isinstance(public, plotly.graph_objects.Figure) and public.to_dict()["data"][0]["y"] == [1.0, 2.0]
    fig = plotly.graph_objects.Figure(spec)
    assert live.sendable(fig, fast=False) is fig


def test_fast_path_only_on_the_checked_plotly(monkeypatch):
    live.frozen_path_ok.cache_clear()
    try:
        assert live.frozen_path_ok() == plotly.__version__.startswith(live.FROZEN_CHECKED + ".")
        live.frozen_path_ok.cache_clear()
        monkeypatch.setattr(plotly, "__version__", "99.0.0")
        assert not live.frozen_path_ok()
    finally:
        live.frozen_path_ok.cache_clear()


@pytest.mark.skipif(not plotly.__version__.startswith(live.FROZEN_CHECKED + "."), reason="plotly not the checked one")
def test_checked_plotly_takes_the_fast_path():
    live.frozen_path_ok.cache_clear()
    assert live.frozen_path_ok()
