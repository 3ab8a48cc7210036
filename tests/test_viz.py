"""ganlab.viz.common and ganlab.viz.mode_collapse: figures built from a real snapshot of a 50-step ring run
(trace counts, shapes, dtypes)."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from ganlab.engine.runner import TrainerRunner
from ganlab.presets import PRESETS
from ganlab.snapshot import GRID_N, N_ARROWS, N_POINTS
from ganlab.viz import common as viz
from ganlab.viz import mode_collapse as mc


@pytest.fixture(scope="module")
def snaps():
    """Two snapshots of the same ring-collapse run (steps 50 and 100; logging every 10 steps)."""
    torch.set_num_threads(1)
    r = TrainerRunner(PRESETS["ring-collapse"].config.replace(steps=100, log_every=10))
    r.step(50)
    s1 = r.snapshot()
    r.step(50)
    return s1, r.snapshot()


def test_field_figure_has_heat_points_arrows_and_centres(snaps):
    s = snaps[0]
    fig = mc.toy_field_figure(s, "A")
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter", "scatter", "scatter"]
    heat, real, fake, arrows, centres = fig.data
    assert np.asarray(heat.z).shape == (GRID_N, GRID_N)
    xmin, xmax, ymin, ymax = s.extent
    assert np.isclose(heat.x[0], xmin) and np.isclose(heat.x[-1], xmax)
    assert np.isclose(heat.y[0], ymin) and np.isclose(heat.y[-1], ymax)
    assert (heat.zmin, heat.zmax) == (0.0, 1.0) and heat.name == "D(x)"  # probabilities for the NS loss
    assert len(real.x) == 250 and len(fake.x) == 500  # thinned: each SVG marker costs the browser a redraw
    assert len(mc.toy_field_figure(s, max_real=N_POINTS, max_fake=N_POINTS).data[2].x) == N_POINTS
    assert np.asarray(fake.x).dtype == np.float32  # binary transfer to the browser
    assert len(arrows.x) == 3 * N_ARROWS and np.isnan(arrows.x[2::3]).all()
    assert len(centres.x) == 8
    assert list(fig.layout.xaxis.range) == pytest.approx([xmin, xmax])
    assert fig.layout.yaxis.scaleanchor == "x"
    assert len(fig.to_json()) < 200_000


def test_arrow_segments_scale_longest_to_length():
    x, y = mc.arrow_segments(np.array([[0, 0], [1, 1]]), np.array([[2, 0], [0, 1]]), length=0.5)
    assert x.dtype == np.float32 and x.shape == (6,)
    np.testing.assert_allclose(x[[0, 1, 3, 4]], [0, 0.5, 1, 1])
    np.testing.assert_allclose(y[[0, 1, 3, 4]], [0, 0, 1, 1.25])
    assert np.isnan(x[[2, 5]]).all() and np.isnan(y[[2, 5]]).all()
    x, _ = mc.arrow_segments(np.zeros((3, 2)), np.zeros((3, 2)), 1.0)  # no gradient: zero-length arrows
    np.testing.assert_array_equal(x[[0, 1]], [0, 0])


def test_critic_heat_is_centred_on_zero(snaps):
    s = dataclasses.replace(snaps[0], heat=snaps[0].heat * 4 - 2, heat_is_prob=False)
    heat = mc.toy_field_figure(s).data[0]
    assert heat.name == "D score" and heat.zmid == 0.0
    assert heat.zmax == pytest.approx(np.abs(s.heat).max()) and heat.zmin == -heat.zmax


def test_field_figure_updates_in_place_and_rebuilds_on_new_style(snaps):
    s1, s2 = snaps
    fig = mc.toy_field_figure(s1, "step 50")
    same = mc.toy_field_figure(s2, "step 100", fig=fig)
    assert same is fig and fig.layout.title.text == "step 100"
    np.testing.assert_array_equal(fig.data[2].x, s2.fake[:500, 0])
    np.testing.assert_array_equal(fig.data[0].z, s2.heat)
    critic = dataclasses.replace(s2, heat_is_prob=False)
    assert mc.toy_field_figure(critic, fig=fig) is not fig  # colour scale and bar change: a new figure


def _decode(spec) -> np.ndarray:
    """A plotly.js typed-array spec back to numpy."""
    import base64

    a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.float32)
    return a.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else a


def test_plain_dict_figures_update_in_place_like_plotlys_own(snaps):
    s1, s2 = snaps
    spec = viz.to_spec(mc.toy_field_figure(s1, "step 50"))
    assert viz.to_spec(spec) is spec
    assert mc.toy_field_figure(s2, "step 100", fig=spec) is spec and spec["layout"]["title"]["text"] == "step 100"
    fresh = mc.toy_field_figure(s2, "step 100").to_dict()  # what plotly itself makes of the same snapshot
    for i in range(len(fresh["data"])):
        for k in ("x", "y", "z"):
            if k in fresh["data"][i]:
                np.testing.assert_array_equal(_decode(spec["data"][i][k]), _decode(fresh["data"][i][k]))
    assert _decode(spec["data"][0]["z"]).shape == (GRID_N, GRID_N)
    critic = dataclasses.replace(s2, heat_is_prob=False)
    rebuilt = mc.toy_field_figure(critic, fig=spec)
    assert isinstance(rebuilt, dict) and rebuilt is not spec and rebuilt["data"][0]["name"] == "D score"
    bars = viz.to_spec(mc.mode_counts_figure(np.array([0, 3])))
    mc.mode_counts_figure(np.array([2, 0]), fig=bars)
    assert bars["data"][0]["marker"]["color"] == [viz.FAKE_COLOR, "#cccccc"]


def test_curves_one_run_and_two_runs(snaps):
    h1, h2 = snaps[0].history, snaps[1].history
    fig = viz.curves_figure(h1, ("d_loss", "g_loss", "not_a_column"), "losses")
    assert [t.name for t in fig.data] == ["D loss", "G loss"]
    assert len(fig.data[0].x) == len(h1["step"]) == 5
    fig = viz.curves_figure([("A", h1), ("B", h2)], ("d_loss", "g_loss"), "losses")
    assert [t.name for t in fig.data] == ["A: D loss", "A: G loss", "B: D loss", "B: G loss"]
    assert fig.data[2].line.dash == "dash" and len(fig.data[2].y) == 10
    np.testing.assert_allclose(fig.data[3].y, h2["g_loss"])


def test_d_probs_and_coverage(snaps):
    h = snaps[1].history
    fig = viz.d_probs_figure([("A", h), ("B", h)])
    assert len(fig.data) == 4 and tuple(fig.layout.yaxis.range) == (0, 1)
    fig = mc.coverage_figure(h, n_modes=8)
    assert [t.name for t in fig.data] == ["modes captured", "high-quality %", "reverse KL"]
    assert [t.yaxis for t in fig.data] == ["y", "y2", "y3"]  # stacked panels
    np.testing.assert_allclose(fig.data[1].y, 100 * h["high_quality_frac"], rtol=1e-6)
    assert tuple(fig.layout.yaxis.range) == (0, 8.5)
    two = mc.coverage_figure([("A", h), ("B", h)], n_modes=8)
    assert len(two.data) == 6 and sum(bool(t.showlegend) for t in two.data) == 2
    assert mc.coverage_figure([("A", h), ("B", h)], 8, fig=two) is two


def test_mode_counts(snaps):
    counts = np.array([0, 5, 0, 7, 1, 0, 0, 2])
    fig = mc.mode_counts_figure(counts)
    (bar,) = fig.data
    np.testing.assert_array_equal(bar.x, np.arange(1, 9))
    np.testing.assert_array_equal(bar.y, counts)
    assert [c == "#cccccc" for c in bar.marker.color] == list(counts == 0)  # dropped modes are grey
    assert len(mc.mode_counts_figure(snaps[1].counts).data[0].y) == 8
    assert len(mc.mode_counts_figure(None).data) == 0


def test_viz_does_not_import_streamlit():
    code = ("import sys, ganlab.viz.common, ganlab.viz.mode_collapse, ganlab.viz.image_gan, ganlab.viz.latent_space, "
            "ganlab.viz.theory; sys.exit('streamlit' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
