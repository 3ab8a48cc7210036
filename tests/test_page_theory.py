"""AppTest of pages/theory.py: formulas, start / pause / step, "freeze G, train D to optimum", live loss change,
input errors. The conftest's autouse fixture stops every job after each test (no worker thread survives)."""
import json
import math

import pytest

from ganlab import jobs

PAGE = "pages/theory.py"



def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _job(at):
    return jobs.manager().get(at.session_state["th_job"])


def _snap(at):
    snaps = _job(at).snapshots()
    return snaps[0] if snaps else None


def _spec(at, i):
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def test_page_shows_the_formulas_and_what_to_do(app_test):
    at = app_test(PAGE).run()
    _ok(at)
    assert at.title[0].value.startswith("Theory")
    latex = " ".join(x.value for x in at.latex)
    assert len(at.latex) >= 5 and r"\frac{p_{data}(x)}{p_{data}(x) + p_g(x)}" in latex and "JSD" in latex
    assert any("Press **Start**" in i.value for i in at.info)
    assert at.button(key="th_step").disabled and not at.button(key="th_start").disabled
    assert any("optimal_d" in c.value for c in at.code)  # "Show the code": the real functions


def test_before_start_the_page_draws_the_initial_state(app_test):
    """Not an empty area until Start (issue #13): the game at step 0 of this setup, its numbers and panels;
    a new setup redraws it."""
    from ganlab.theory import Theory1D, TheoryConfig

    at = app_test(PAGE).run()
    _ok(at)
    assert at.session_state["th_job"] is None and len(at.get("plotly_chart")) == 3  # game, gradient, value
    game = _spec(at, 0)
    names = [t.get("name") for t in game["data"]]
    assert "p_data(x)" in names and "D(x), learned" in names and "D*(x) = p_data / (p_data + p_g)" in names
    assert game["layout"]["title"]["text"] == "step 0"
    want = Theory1D(TheoryConfig.from_preset("gaussian")).snapshot()  # what a run of this setup starts from
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["V(D*, G)"]) == pytest.approx(want.v_star, abs=1e-4)
    assert float(metrics["JSD(p_data ‖ p_g)"]) == pytest.approx(want.jsd, abs=1e-4)
    at.selectbox(key="th_data").set_value("bimodal").run()
    _ok(at)
    assert float(next(m.value for m in at.metric if m.label == "V(D*, G)")) != pytest.approx(want.v_star, abs=1e-4)


def test_a_run_folds_the_formulas_and_the_setup_and_the_live_view_comes_first(app_test, wait_until):
    at = app_test(PAGE).run()
    labels = [e.label for e in at.expander]
    assert labels[:2] == ["The formulas", "Setup: data, noise, loss, learning rates"]
    assert at.expander[0].proto.expanded and at.expander[1].proto.expanded
    at.button(key="th_start").click().run()
    wait_until(lambda: _snap(at) is not None and _snap(at).step > 0, 20, what="a first snapshot")
    at.run()
    _ok(at)
    setup, formulas = at.expander[0], at.expander[1]  # the formulas moved below the live view
    assert setup.label == "Setup: p_data gaussian · noise z normal × 1 · seed 0" and not setup.proto.expanded
    assert formulas.label == "The formulas" and not formulas.proto.expanded
    assert not setup.radio(key="th_loss").disabled  # the live settings are at hand in the panel
    at.button(key="th_reset").click().run()
    _ok(at)
    assert [e.label for e in at.expander][:2] == labels[:2] and at.expander[0].proto.expanded


def test_start_pause_step_draws_the_game_and_the_identity(app_test, wait_until):
    at = app_test(PAGE).run()
    at.number_input(key="th_seed").set_value(3).run()
    at.button(key="th_start").click().run()
    _ok(at)
    wait_until(lambda: _snap(at) is not None and _snap(at).step >= 50, 20, what="50 G steps")
    at.button(key="th_pause").click().run()
    wait_until(lambda: _job(at).status == "paused", 10, what="pause")
    at.run()
    before = _snap(at).step
    at.button(key="th_step").click().run()
    wait_until(lambda: _snap(at).step == before + 25, 10, what="one logging interval")
    at.run()
    _ok(at)
    assert any(f"step {before + 25}" in m.value for m in at.markdown)
    names = [t.get("name") for t in _spec(at, 0)["data"]]
    assert "D*(x) = p_data / (p_data + p_g)" in names and "D(x), learned" in names
    assert len(at.get("plotly_chart")) == 3  # game, gradient panel, value history
    metrics = {m.label: m.value for m in at.metric}
    v_star, identity = float(metrics["V(D*, G)"]), float(metrics["−log 4 + 2·JSD"])
    assert abs(v_star - identity) < 1e-3 and -math.log(4) - 1e-3 <= v_star <= 1e-9
    assert _snap(at).config.seed == 3


def test_freeze_g_trains_d_to_its_optimum(app_test, wait_until):
    at = app_test(PAGE).run()
    at.number_input(key="th_dopt_steps").set_value(600).run()
    at.button(key="th_dopt").click().run()  # no run yet: starts one paused, then trains D alone
    _ok(at)
    wait_until(lambda: _snap(at) is not None and _snap(at).d_only_steps == 600, 25, what="600 D-only steps")
    at.run()
    _ok(at)
    s = _snap(at)
    assert _job(at).status == "paused" and s.step == 0
    assert s.max_d_error <= 0.05, s.max_d_error
    assert any("D-only steps 600" in m.value for m in at.markdown)
    err = float(next(m.value for m in at.metric if m.label == "max |D − D*|"))
    assert err == pytest.approx(s.max_d_error, abs=1e-4)


def test_loss_change_reaches_the_running_job(app_test, wait_until):
    at = app_test(PAGE).run()
    at.button(key="th_start").click().run()
    wait_until(lambda: _job(at).runners, 20, what="the runner")
    assert at.selectbox(key="th_data").disabled and not at.radio(key="th_loss").disabled
    at.radio(key="th_loss").set_value("minimax").run()
    at.select_slider(key="th_d_lr").set_value(2e-3).run()
    _ok(at)
    runner = _job(at).runners[0]
    wait_until(lambda: runner.config.loss == "minimax" and runner.config.d_lr == 2e-3, 10, what="live change")
    wait_until(lambda: _snap(at).loss == "minimax", 10, what="a snapshot after the change")


def test_custom_density_input_errors_are_clear(app_test):
    at = app_test(PAGE).run()
    at.selectbox(key="th_data").set_value("custom").run()
    at.text_input(key="th_means").set_value("-1, x").run()
    assert any("means: write numbers" in e.value for e in at.error)
    assert at.button(key="th_start").disabled
    at.text_input(key="th_means").set_value("-1, 2, 3").run()
    assert any("one std or one per mean" in e.value for e in at.error)
    at.text_input(key="th_stds").set_value("0.4").run()
    at.text_input(key="th_weights").set_value("1").run()
    _ok(at)
    assert not at.button(key="th_start").disabled


def test_the_run_line_shows_the_rate_the_counter_moves_at_not_the_compute_rate(app_test, wait_until):
    """A paused run's counter does not move: its line shows no rate (it showed steps / seconds of compute, e.g.
    '384 steps/s', whatever share of the workers the run had)."""
    at = app_test(PAGE).run()
    at.button(key="th_start").click().run()
    wait_until(lambda: _snap(at) is not None and _snap(at).step >= 20 and _snap(at).seconds > 0, 25,
               what="a few steps")
    _job(at).pause()
    wait_until(lambda: _job(at).status == "paused", 10, what="paused")
    at.run()
    _ok(at)
    line = next(m.value for m in at.markdown if m.value.startswith("**step "))
    assert "paused" in line and "steps/s" not in line, line
