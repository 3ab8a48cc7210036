"""AppTest of the Mode collapse lab (default page of app.py): presets, Start / Pause / Step / Reset, live
loss switching, CSV upload errors, share links, and a diverging run. Runs train ring data with run B off
(one runner, ~50 G steps a chunk) unless the test is about B. The conftest stops every job after each test.
"""
import re

import pytest
import torch

from ganlab import jobs
from ganlab.config import TrainConfig
from ganlab.presets import PRESETS
from ganlab.ui import controls
from ganlab.ui.mode_collapse import setup as ts
from ganlab.ui.mode_collapse import views as toy_views

SLOT = "mc_job"


@pytest.fixture(scope="module", autouse=True)
def warm_engine():
    """The process's one-time cost (fused Adam's lazy imports, ~5 s here) outside the tests' time limits."""
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _open(app_test, **query):
    at = app_test(query=query or None).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _job(at) -> jobs.Job:
    return jobs.manager().get(at.session_state[SLOT])


def _status(at, run="A") -> str:
    return next(m.value for m in at.markdown if m.value.startswith(f"Run {run} · step "))


def _shown_step(at, run="A") -> int:
    return int(re.search(r"step (\d+) /", _status(at, run)).group(1))


def _start_single(at):
    """Run B off, then Start: a job with one runner (run A)."""
    at.checkbox(key="mc_compare").uncheck().run()
    at.button(key="mc_start").click().run()
    _ok(at)
    return _job(at)


def _until_step(at, wait_until, above: int, what: str):
    job = _job(at)
    wait_until(lambda: job.snapshots() and job.snapshots()[0].step > above, 25, what=what)
    at.run()
    _ok(at)
    return _shown_step(at)


def test_page_renders_the_default_preset_and_its_share_link(app_test):
    at = _open(app_test)
    _ok(at)
    assert at.title[0].value == "Mode collapse lab"
    assert at.selectbox(key="mc_preset").value == "ring-collapse"
    assert any(PRESETS["ring-collapse"].lesson in i.value for i in at.info)
    assert at.selectbox(key="mc_b_loss").value == "non_saturating"
    assert at.number_input(key="mc_b_r1_gamma").value == 1.0  # B = the fixed twin, ring-fixed (R1, D as fast as G)
    assert not at.button(key="mc_start").disabled and at.button(key="mc_pause").disabled
    q = at.query_params
    assert q["preset"] == "ring-collapse" and q["z_dim"] == "64" and float(q["b_r1_gamma"]) == 1.0
    longer = max(PRESETS["ring-collapse"].config.steps, PRESETS["ring-fixed"].config.steps)
    assert int(q.get("steps", TrainConfig().steps)) == longer  # the pair trains for the longer budget


@pytest.mark.parametrize("preset, twin", [("grid-collapse", "grid-fixed"), ("ring-fixed", "ring-collapse")])
def test_choosing_a_preset_sets_the_widgets_and_b_is_its_twin(app_test, preset, twin):
    at = _open(app_test)
    at.number_input(key="mc_z_dim").set_value(3).run()
    at.selectbox(key="mc_preset").set_value(preset).run()
    _ok(at)
    a, b = PRESETS[preset].config, PRESETS[twin].config
    assert at.selectbox(key="mc_data").value == a.data
    assert at.number_input(key="mc_z_dim").value == a.z_dim == 64
    assert at.number_input(key="mc_steps").value == max(a.steps, b.steps)  # both runs get the longer budget
    for f in ts.RUN_FIELDS:  # A is the preset, B its twin (loss, learning rates, remedies)
        assert at.session_state[f"mc_a_{f}"] == getattr(a, f), f
        assert at.session_state[f"mc_b_{f}"] == getattr(b, f), f
    assert any(PRESETS[preset].lesson in i.value for i in at.info)
    assert any(PRESETS[twin].lesson in c.value for c in at.caption)


def test_start_creates_a_job_for_this_session_and_the_step_counter_advances(app_test, wait_until):
    at = _open(app_test)
    job = _start_single(at)
    owner = at.session_state["ganlab_owner"]
    assert [j.id for j in jobs.manager().jobs_of(owner)] == [job.id]
    first = _until_step(at, wait_until, 0, "the first chunk")
    assert first > 0 and "running" in _status(at)
    later = _until_step(at, wait_until, first, "a later chunk")
    assert later > first
    charts = at.get("plotly_chart")
    assert len(charts) == 5  # field, per-mode counts, losses, D(x) vs D(G(z)), coverage
    assert '"heatmap"' in charts[0].proto.spec
    assert at.button(key="mc_start").label == "Restart" and not at.button(key="mc_pause").disabled


def test_switching_loss_and_lr_while_running_reaches_the_job(app_test, wait_until):
    at = _open(app_test)
    job = _start_single(at)
    _until_step(at, wait_until, 0, "the first chunk")
    at.selectbox(key="mc_a_loss").set_value("hinge").run()
    at.number_input(key="mc_a_g_lr").set_value(5e-4).run()
    assert not at.number_input(key="mc_g_ema").disabled  # the weight average can change live too
    at.number_input(key="mc_g_ema").set_value(0.0).run()
    _ok(at)
    wait_until(lambda: (job.snapshots()[0].config.loss, job.snapshots()[0].config.g_lr,
                        job.snapshots()[0].config.g_ema) == ("hinge", 5e-4, 0.0),
               25, what="the new loss, lr and weight average in a snapshot")
    assert job.status == "running" and job.error is None  # the same run goes on, with its weights
    at.run()
    assert any(m.value == "#### A: Hinge" for m in at.markdown)
    assert at.number_input(key="mc_z_dim").disabled  # not live: needs a new run


def _setup_panel(at):
    return next(e for e in at.expander if e.label.startswith("Setup"))


def test_the_setup_folds_into_a_summary_while_a_run_is_shown(app_test, wait_until):
    """Live view first (issue #13): the setup panel is open before Start, folded into a one-line summary from
    Start until Reset, the live settings still inside it; its label stays put while the student edits them."""
    at = _open(app_test)
    panel = _setup_panel(at)
    assert panel.label == "Setup: data, networks, optimiser" and panel.proto.expanded
    assert panel.selectbox(key="mc_preset").value == "ring-collapse"  # the whole setup is inside
    _start_single(at)
    _until_step(at, wait_until, 0, "the first chunk")
    panel = _setup_panel(at)
    summary = panel.label
    assert summary.startswith("Setup: ring-collapse · Ring: 8 Gaussians · G ") and not panel.proto.expanded
    assert "seed 0" in summary and "z 64" in summary and "runs A and B" not in summary
    assert not panel.selectbox(key="mc_a_loss").disabled  # the live settings are at hand in the panel
    at.selectbox(key="mc_a_loss").set_value("hinge").run()
    _ok(at)
    assert _setup_panel(at).label == summary  # a new label would fold the panel under the student's hand
    assert _status(at).startswith("Run A · step ")
    at.button(key="mc_reset").click().run()
    panel = _setup_panel(at)
    assert panel.label == "Setup: data, networks, optimiser" and panel.proto.expanded


def test_pause_step_resume_and_reset(app_test, wait_until):
    at = _open(app_test)
    job = _start_single(at)
    _until_step(at, wait_until, 0, "the first chunk")
    at.button(key="mc_pause").click().run()
    wait_until(lambda: job.status == "paused", 25, what="paused")
    at.run()
    assert at.button(key="mc_pause").label == "Resume" and not at.button(key="mc_step").disabled
    assert not controls.is_live(job, SLOT)  # nothing runs: the page stops refreshing
    before = job.snapshots()[0].step
    at.button(key="mc_step").click().run()
    wait_until(lambda: job.snapshots()[0].step == before + 50, 25, what="one logging interval")
    assert job.status == "paused"
    at.button(key="mc_pause").click().run()
    wait_until(lambda: job.status == "running", 10, what="running again")
    at.button(key="mc_reset").click().run()
    _ok(at)
    assert at.session_state[SLOT] is None and any("press **Start**" in i.value for i in at.info)
    wait_until(lambda: job.status == "stopped", 25, what="stopped")


def test_a_bad_csv_upload_shows_a_clear_error_and_blocks_start(app_test):
    at = _open(app_test)
    at.selectbox(key="mc_data").set_value("csv").run()
    assert any("Upload a CSV file" in e.value for e in at.error) and at.button(key="mc_start").disabled
    at.file_uploader(key="mc_csv").set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["CSV upload: line 3: expected two numbers, got '3,abc'"]
    assert at.button(key="mc_start").disabled
    good = "\n".join(f"{i},{(i * 7) % 11}" for i in range(40)).encode()
    at.file_uploader(key="mc_csv").set_value(("good.csv", good, "text/csv")).run()
    _ok(at)
    assert not at.button(key="mc_start").disabled


def test_share_link_round_trip(app_test):
    at = _open(app_test)
    at.selectbox(key="mc_preset").set_value("grid-collapse").run()
    at.number_input(key="mc_z_dim").set_value(16).run()
    at.selectbox(key="mc_b_loss").set_value("hinge").run()
    at.number_input(key="mc_b_r1_gamma").set_value(1.0).run()
    _ok(at)
    link = dict(at.query_params)
    assert link["z_dim"] == "16" and link["b_loss"] == "hinge" and link["b_r1_gamma"] == "1.0"
    keys = [ts.P + f for f in ts.SHARED_FIELDS] + [f"{ts.P}{r}_{f}" for r in "ab" for f in ts.RUN_FIELDS]
    again = _open(app_test, **link)
    _ok(again)
    assert not again.warning
    assert {k: again.session_state[k] for k in keys} == {k: at.session_state[k] for k in keys}
    assert again.selectbox(key="mc_preset").value == "grid-collapse"


def test_a_bad_share_link_keeps_the_defaults_with_a_warning(app_test):
    at = _open(app_test, z_dim="abc", colour="red")
    _ok(at)
    warnings = " | ".join(w.value for w in at.warning)
    assert "z_dim: expected a whole number, got 'abc'" in warnings and "colour" in warnings
    assert at.number_input(key="mc_z_dim").value == PRESETS["ring-collapse"].config.z_dim


def test_restore_rules():
    a, b, preset, compare, warnings = ts.restore({})
    assert (preset, compare, warnings) == ("ring-collapse", True, [])
    fixed = PRESETS["ring-fixed"].config
    assert a == PRESETS["ring-collapse"].config.replace(steps=fixed.steps) and b == fixed
    _, b, _, _, _ = ts.restore({"preset": "grid-collapse"})
    assert b.r1_gamma == 1.0 and b.d_lr == PRESETS["grid-fixed"].config.d_lr
    a, b, preset, _, warnings = ts.restore({"data": "moons", "loss": "hinge", "compare": "0"})
    assert (preset, a.data, a.loss, b.loss, warnings) == ("(custom)", "moons", "hinge", "wgan_gp", [])
    _, _, preset, _, warnings = ts.restore({"preset": "mnist-mlp"})
    assert preset == "ring-collapse" and "not a Mode collapse lab preset" in warnings[0]
    _, _, _, _, warnings = ts.restore({"data": "mnist"})
    assert "image data" in warnings[0]
    grid = PRESETS["grid-collapse"].config  # 6,000 steps; its twin grid-fixed has 20,000
    a, b, _, _, _ = ts.restore({"preset": "grid-collapse", "b_pack": "4"})
    assert a == grid and b == grid.replace(pack=4)  # B given by the link, not the twin: the preset's own budget
    a, _, _, compare, _ = ts.restore({"preset": "grid-collapse", "compare": "0"})
    assert not compare and a == grid  # no B at all: the preset's own budget
    _, b, _, _, warnings = ts.restore({"preset": "ring-collapse", "b_pack": "3"})
    assert "batch_size (256) must be a multiple of pack (3)" in warnings[0] and b == fixed.replace(seed=b.seed)


def test_live_status_rules():
    assert controls.live_status("running", 3, None) and controls.live_status("queued", 0, None)
    assert not controls.live_status("paused", 3, None)
    assert controls.live_status("paused", 3, ("resume", 3))
    assert controls.live_status("paused", 3, ("step", 3)) and not controls.live_status("paused", 4, ("step", 3))
    assert not any(controls.live_status(s, 1, ("resume", 1)) for s in ("done", "stopped", "diverged", "error"))


def test_a_diverging_run_says_where_it_diverged(app_test, wait_until):
    at = _open(app_test)
    at.selectbox(key="mc_optimizer").set_value("sgd").run()
    at.number_input(key="mc_a_g_lr").set_value(1.0).run()
    at.number_input(key="mc_a_d_lr").set_value(1.0).run()
    at.selectbox(key="mc_a_loss").set_value("lsgan").run()
    job = _start_single(at)
    wait_until(lambda: job.status == "diverged", 25, what="the run to diverge")
    at.run()
    assert not at.exception
    (err,) = [e.value for e in at.error]
    at_step = job.snapshots()[0].diverged_at
    assert at_step is not None and f"Run A diverged at step {at_step}:" in err
    assert "diverged" in _status(at) and not controls.is_live(job, SLOT)
    assert at.button(key="mc_start").label == "Start"


def test_show_the_code_has_the_losses_and_the_training_step(app_test):
    at = _open(app_test)
    sources = " ".join(c.value for c in at.code)
    for name in ("def minimax_d", "def non_saturating_g", "def _train_step", "def r1_penalty",
                 "def _ema_update"):  # B, ring-fixed, has R1
        assert name in sources
    assert [f.__name__ for f in toy_views.code_objects([PRESETS["ring-collapse"].config])] == [
        "minimax_d", "non_saturating_g", "_train_step", "_d_update", "_ema_update"]
    assert "_ema_update" not in [f.__name__ for f in toy_views.code_objects([TrainConfig(data="ring")])]
