"""ganlab.theory: the 1-D minimax game's maths (D*, V, JSD, the identity, G's gradients) and the live runner."""
import json
import math
import threading
import time

import numpy as np
import pytest
import torch

from ganlab import losses
from ganlab.config import ConfigError
from ganlab.jobs import JobManager
from ganlab.theory import DATA_PRESETS, Theory1D, TheoryConfig, measure, parse_floats
from ganlab.theory import math1d as m1
from ganlab.viz import theory as viz

LOG2, LOG4 = math.log(2), math.log(4)
GRID = m1.make_grid(-10, 10, 4001)
P_DATA = m1.mixture(GRID, [1.5], [0.5])


def uniform(lo, hi):
    """U[lo, hi] on GRID, normalised for the trapezoid rule (its jumps cost ~dx/2 of mass otherwise)."""
    return m1.normalize(m1.uniform(GRID, lo, hi), GRID)



# ---- JSD and KL ---------------------------------------------------------------------------------------------
def test_jsd_is_zero_for_identical_densities():
    for p in (P_DATA, m1.mixture(GRID, [-2, 2], [0.3, 1.0], [0.3, 0.7]), uniform(-1, 3)):
        assert abs(m1.jsd(p, p, GRID)) < 1e-12


def test_jsd_is_log2_for_disjoint_densities():
    assert m1.jsd(uniform(-4, -1), uniform(1, 5), GRID) == pytest.approx(LOG2, abs=1e-9)
    far = m1.jsd(m1.gaussian(GRID, -6, 0.3), m1.gaussian(GRID, 6, 0.3), GRID)  # disjoint to float precision
    assert far == pytest.approx(LOG2, abs=1e-9)
    # and strictly between for overlapping densities, symmetric
    a, b = m1.gaussian(GRID, 0, 1), m1.gaussian(GRID, 1, 1)
    assert 0.05 < m1.jsd(a, b, GRID) < LOG2 - 0.05
    assert m1.jsd(a, b, GRID) == pytest.approx(m1.jsd(b, a, GRID), abs=1e-12)


@pytest.mark.parametrize("m1_, s1, m2, s2", [(0, 1, 1, 1), (1.5, 0.5, -1, 2), (0, 0.3, 0.2, 0.9)])
def test_kl_matches_the_closed_form_for_gaussians(m1_, s1, m2, s2):
    exact = math.log(s2 / s1) + (s1 ** 2 + (m1_ - m2) ** 2) / (2 * s2 ** 2) - 0.5
    assert m1.kl(m1.gaussian(GRID, m1_, s1), m1.gaussian(GRID, m2, s2), GRID) == pytest.approx(exact, abs=1e-6)


# ---- D* and the value ----------------------------------------------------------------------------------------
ANALYTIC_PG = {
    "near": m1.gaussian(GRID, 1.0, 0.7),
    "far": m1.gaussian(GRID, -3.0, 0.5),
    "wide": m1.gaussian(GRID, 1.5, 2.0),
    "mixture": m1.mixture(GRID, [-1, 2.5], [0.4, 0.6], [0.6, 0.4]),
    "same": P_DATA,
    "disjoint": uniform(-8, -6),
}


@pytest.mark.parametrize("name", list(ANALYTIC_PG))
def test_value_at_optimal_d_is_minus_log4_plus_2_jsd(name):
    p_g = ANALYTIC_PG[name]
    d_star = m1.optimal_d(P_DATA, p_g)
    v_star = m1.value(d_star, P_DATA, p_g, GRID)
    j = m1.jsd(P_DATA, p_g, GRID)
    assert abs(v_star - (-LOG4 + 2 * j)) < 1e-3  # measured <= 1e-5 (the grid's ends cut a little of "wide")
    assert m1.value_at_optimum_identity(j) == -LOG4 + 2 * j
    # D* maximises V: any other D does worse (constant 1/2 gives exactly -log 4)
    assert m1.value(np.full_like(GRID, 0.5), P_DATA, p_g, GRID) == pytest.approx(-LOG4, abs=1e-4)
    for other in (np.clip(d_star + 0.1, 0, 1), 0.8 * d_star + 0.1, np.full_like(GRID, 0.5)):
        assert m1.value(other, P_DATA, p_g, GRID) <= v_star + 1e-12


def test_optimal_d_is_half_where_p_g_equals_p_data_and_defined_where_both_vanish():
    assert np.allclose(m1.optimal_d(P_DATA, P_DATA)[P_DATA > 1e-300], 0.5)
    with np.errstate(all="raise"):  # no 0/0 warning
        d = m1.optimal_d(np.array([0.0, 1.0, 0.0, 2.0]), np.array([0.0, 0.0, 1.0, 2.0]))
    assert d.tolist() == [0.5, 1.0, 0.0, 0.5]
    assert m1.value(m1.optimal_d(P_DATA, P_DATA), P_DATA, P_DATA, GRID) == pytest.approx(-LOG4, abs=1e-9)


def test_kde_recovers_a_gaussian_and_keeps_off_grid_mass_out():
    grid = m1.make_grid(-5, 5, 401)
    x = np.random.default_rng(0).normal(0.5, 1.0, 20_000)
    p = m1.kde(x, grid)
    assert m1.integrate(p, grid) == pytest.approx(1.0, abs=1e-3)
    assert np.abs(p - m1.gaussian(grid, 0.5, 1.0)).max() < 0.02
    half_off = np.concatenate([x[:10_000], np.full(10_000, 9.0)])  # half the mass far right of the grid
    assert m1.integrate(m1.kde(half_off, grid), grid) == pytest.approx(0.5, abs=0.01)


def test_measure_keeps_the_identity_when_g_leaves_the_plot():
    grid = m1.make_grid(-5, 5, 401)
    p_data = m1.normalize(m1.gaussian(grid, 1.5, 0.5), grid)
    rng = np.random.default_rng(1)
    for gz in (rng.normal(0, 1, 4000), np.concatenate([rng.normal(1, 0.5, 3000), rng.normal(7, 0.5, 1000)]),
               rng.normal(9, 0.5, 4000)):
        off = (gz < grid[0]) | (gz > grid[-1])
        e = measure(grid, p_data, gz, rng.normal(size=len(grid)), rng.normal(size=int(off.sum())), gz[:5])
        assert abs(e.v_star - e.identity) < 1e-9
        assert e.v_d <= e.v_star + 1e-9 and 0 <= e.jsd <= LOG2 + 1e-12
    assert e.mass_out == 1.0 and e.jsd == pytest.approx(LOG2) and e.v_star == pytest.approx(0.0, abs=1e-12)


# ---- why the non-saturating loss exists: G's gradient as a function of D(G(z)) --------------------------------
D_VALUES = np.linspace(0.01, 0.99, 25)


def test_gradient_panel_functions_match_autograd():
    d = torch.tensor(D_VALUES, dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(torch.log(1 - d).sum(), d)
    (g_ns,) = torch.autograd.grad((-torch.log(d)).sum(), d)
    assert np.allclose(m1.saturating_grad_d(D_VALUES), g_sat.numpy(), atol=1e-12)
    assert np.allclose(m1.non_saturating_grad_d(D_VALUES), g_ns.numpy(), atol=1e-12)
    s = torch.logit(torch.tensor(D_VALUES, dtype=torch.float64)).requires_grad_(True)  # D's logit
    (gs_sat,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(s)).sum(), s)
    (gs_ns,) = torch.autograd.grad((-torch.log(torch.sigmoid(s))).sum(), s)
    assert np.allclose(m1.saturating_grad_logit(D_VALUES), gs_sat.numpy(), atol=1e-12)
    assert np.allclose(m1.non_saturating_grad_logit(D_VALUES), gs_ns.numpy(), atol=1e-12)
    assert np.allclose(m1.saturating_loss(D_VALUES), np.log(1 - D_VALUES))
    assert np.allclose(m1.non_saturating_loss(D_VALUES), -np.log(D_VALUES))


def test_gradient_panel_matches_the_losses_the_runner_trains_with():
    """ganlab.losses works on logits with a batch mean: B * dL/ds per sample is the panel's function."""
    f = torch.logit(torch.tensor(D_VALUES, dtype=torch.float64)).view(-1, 1).requires_grad_(True)
    for g_loss, panel in ((losses.minimax_g, m1.saturating_grad_logit),
                          (losses.non_saturating_g, m1.non_saturating_grad_logit)):
        (g,) = torch.autograd.grad(g_loss(f), f)
        assert np.allclose(len(D_VALUES) * g.view(-1).numpy(), panel(D_VALUES), atol=1e-12)
    # the lesson: where D rejects the fakes (D(G(z)) = 0.01) the saturating gradient is ~100x weaker
    assert abs(m1.non_saturating_grad_logit(0.01)) / abs(m1.saturating_grad_logit(0.01)) == pytest.approx(99)


# ---- the runner -------------------------------------------------------------------------------------------------
class Affine(torch.nn.Module):
    """G(z) = mu + sigma z: with z ~ N(0, 1), p_g = N(mu, sigma^2) exactly."""

    def __init__(self, mu, sigma):
        super().__init__()
        self.lin = torch.nn.Linear(1, 1)
        with torch.no_grad():
            self.lin.weight.fill_(sigma)
            self.lin.bias.fill_(mu)

    def forward(self, z, labels=None):
        return self.lin(z)


def test_trained_d_converges_to_the_formula_against_an_analytic_frozen_g():
    r = Theory1D(TheoryConfig(seed=0))
    r.G = Affine(0.0, 0.8)
    grid = r.grid
    p_g = m1.gaussian(grid, 0.0, 0.8)
    d_star = m1.optimal_d(r.p_data, p_g)
    before = r.snapshot()
    r.train_d_to_optimum(1000)
    s = r.snapshot()
    support = m1.support_mask(r.p_data, p_g)
    err = np.abs(s.d - d_star)[support].max()
    assert err <= 0.05, err
    assert np.abs(before.d - d_star)[support].max() > 0.3  # it really was D's training that closed the gap
    assert s.v_d == pytest.approx(s.v_star, abs=0.01) and s.v_d <= s.v_star + 1e-9
    assert r.G.lin.weight.item() == np.float32(0.8) and r.step_count == 0 and s.d_only_steps == 1000  # G frozen


def test_trained_d_converges_to_the_kde_optimum_for_the_mlp_generator():
    r = Theory1D(TheoryConfig(seed=1))
    g_before = [p.detach().clone() for p in r.G.parameters()]
    r.train_d_to_optimum(1000)
    s = r.snapshot()
    assert s.max_d_error <= 0.05, s.max_d_error
    assert all(torch.equal(a, b) for a, b in zip(g_before, r.G.parameters()))
    assert abs(s.v_star - s.identity) < 1e-9


def test_training_moves_p_g_towards_p_data_and_logs_the_identity():
    r = Theory1D(TheoryConfig(seed=0, log_every=25))
    jsd0 = r.snapshot().jsd
    r.step(300)
    s = r.snapshot()
    assert s.step == 300 and s.jsd < 0.5 * jsd0, (jsd0, s.jsd)
    h = s.history
    assert len(h["step"]) == 12 and h["step"][-1] == 300
    assert np.allclose(h["v_star"], h["identity"], atol=1e-5)
    assert np.all(h["v_d"] <= h["v_star"] + 1e-5)
    for name in ("grid", "p_data", "p_g", "d", "d_star", "z_line", "gz_line", "batch_dgz"):
        arr = getattr(s, name)
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float32 and np.isfinite(arr).all(), name
    assert len(s.batch_dgz) == 256 and ((s.batch_dgz > 0) & (s.batch_dgz < 1)).all()
    assert np.all(np.diff(s.z_line) > 0)  # mapping z's are sorted quantiles


def test_no_host_sync_inside_a_logging_interval(monkeypatch):
    r = Theory1D(TheoryConfig(log_every=10, batch_size=32))
    calls = []
    for name in ("cpu", "item", "tolist", "numpy"):
        orig = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _o=orig, _n=name, **k: (calls.append(_n),
                                                                                        _o(self, *a, **k))[1])
    r.step(9)
    assert calls == []
    r.step(1)  # the interval closes: one read of the buffer (+ the grid measurements)
    assert "cpu" in calls and r.history.last()["step"] == 10


def test_apply_changes_live_settings_and_refuses_fixed_ones():
    r = Theory1D(TheoryConfig(batch_size=32, log_every=5))
    r.step(5)
    r.apply(loss="minimax", g_lr=2e-3, d_lr=5e-4)
    assert r.loss.key == "minimax" and r.opt_g.param_groups[0]["lr"] == 2e-3
    assert r.opt_d.param_groups[0]["lr"] == 5e-4
    with pytest.raises(ConfigError, match="cannot change during a run"):
        r.apply(z_dim=3)
    with pytest.raises(ConfigError, match="not a minimax game"):
        r.apply(loss="wgan")
    r.apply(train_d_to_optimum=20)  # a command: queued, made by `work` in slices
    assert r.pending_work() and r.d_only_steps == 0
    while r.work(1.0):
        pass
    assert r.d_only_steps == 20 and r.opt_d.param_groups[0]["lr"] == 5e-4  # annealing restored the lr
    with pytest.raises(ConfigError, match="train_d_to_optimum"):
        r.apply(train_d_to_optimum=0)


def test_budget_divergence_park_and_release():
    r = Theory1D(TheoryConfig(batch_size=32, log_every=4, steps=10))
    r.step(100)
    assert r.step_count == 10 and r.history.last()["step"] == 10  # stops at the budget, flushes the tail
    r.park()
    s = r.snapshot()  # a parked run still draws
    assert s.step == 10 and r.opt_g is None and next(r.G.parameters()).device.type == "cpu"
    r.release()
    assert r.G is None
    bad = Theory1D(TheoryConfig(batch_size=32, log_every=4))
    with torch.no_grad():
        next(bad.G.parameters()).fill_(float("nan"))
    bad.step(8)
    assert bad.status == "diverged" and bad.diverged_at == 1 and bad.step_count == 4


def test_config_validation_and_parsing_give_clear_messages():
    assert TheoryConfig.from_preset("bimodal").means == (-2.0, 2.0)
    assert set(DATA_PRESETS) >= {"gaussian", "bimodal"}
    for bad, match in ((dict(means=(9.0,)), "inside the plotted range"), (dict(stds=(0.0,)), "stds"),
                       (dict(means=(0.0, 1.0), stds=(1.0, 1.0, 1.0)), "one std or one per mean"),
                       (dict(weights=(0.0,)), "weights"), (dict(loss="hinge"), "not a minimax game"),
                       (dict(d_lr=0.0), "d_lr")):
        with pytest.raises(ConfigError, match=match):
            TheoryConfig(**bad)
    with pytest.raises(ConfigError, match="unknown data density"):
        TheoryConfig.from_preset("nope")
    assert parse_floats("-2, 2 ;3", "means") == (-2.0, 2.0, 3.0)
    with pytest.raises(ConfigError, match="means: write numbers"):
        parse_floats("a, 2", "means")
    with pytest.raises(ConfigError, match="at least one"):
        parse_floats(" , ", "stds")


def test_runner_in_the_job_manager_steps_and_trains_d_on_command():
    mgr = JobManager(max_running=1, snapshot_every_s=0.05)
    try:
        job = mgr.submit("theory-test", lambda: [Theory1D(TheoryConfig(batch_size=64, log_every=5))], "theory")
        job.pause()
        deadline = time.monotonic() + 20
        while (job.status != "paused" or not job.snapshots()) and time.monotonic() < deadline:
            time.sleep(0.02)
        (s0,) = job.snapshots()
        job.step_once(10)
        job.apply(train_d_to_optimum=30)
        def done():  # the D command is worked off in slices, then the queued G steps
            (s,) = job.snapshots()
            return s.d_only_steps == 30 and s.step == s0.step + 10

        while not done() and time.monotonic() < deadline:
            time.sleep(0.02)
        (s1,) = job.snapshots()
        assert s1.step == s0.step + 10 and s1.d_only_steps == 30 and job.status == "paused"
        assert job.error is None
    finally:
        mgr.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("ganlab-job")]


def test_figures_are_built_from_plain_arrays():
    r = Theory1D(TheoryConfig(batch_size=64, log_every=5))
    r.step(10)
    s = r.snapshot()
    game = viz.game_figure(s)
    names = [t.name for t in game.data]
    assert names[:4] == ["p_data(x)", "p_g(x) (KDE of G(z))", "D(x), learned", "D*(x) = p_data / (p_data + p_g)"]
    assert np.array_equal(np.asarray(game.data[3].y), s.d_star)
    grad = viz.gradient_figure(s.batch_dgz, s.loss)
    assert len(grad.data) == 8  # 2 losses x (loss curve, gradient curve, batch on each)
    value = viz.value_figure(s.history)
    assert [t.name for t in value.data] == ["V(D, G), learned D", "V(D*, G)", "-log 4 + 2 JSD"]
    # a live tick updates the figures in place; the result must equal a figure drawn from scratch
    r.step(10)
    s2 = r.snapshot()
    pairs = ((viz.game_figure(s2, fig=game), viz.game_figure(s2)),
             (viz.gradient_figure(s2.batch_dgz, s2.loss, fig=grad), viz.gradient_figure(s2.batch_dgz, s2.loss)),
             (viz.value_figure(s2.history, fig=value), viz.value_figure(s2.history)))
    for reused, fresh in pairs:
        assert reused.layout.title.text == fresh.layout.title.text
        assert [s.x0 for s in reused.layout.shapes] == [s.x0 for s in fresh.layout.shapes]
        for a, b in zip(reused.data, fresh.data, strict=True):
            for axis in ("x", "y"):
                assert np.allclose(np.asarray(getattr(a, axis), float), np.asarray(getattr(b, axis), float),
                                   equal_nan=True), (a.name, axis)
    assert game.layout.title.text == f"step {s2.step}"


def test_headless_entry_point(capsys):
    from ganlab.cli.main import main

    assert main(["theory", "--steps", "20", "--d-optimum", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trained"]["step"] == 20 and out["d_optimum"]["d_only_steps"] == 20
    assert out["d_optimum"]["identity_error"] < 1e-9
    assert main(["theory", "--means", "1, x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # the CLI's one error format: one line, no traceback
    assert len(err) == 1 and err[0].startswith("error: means: write numbers")


def test_old_entry_point_is_an_alias_of_the_theory_subcommand():
    """`python -m ganlab.theory ARGS` prints what `python -m ganlab theory ARGS` prints, errors included."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}

    def start(*argv):  # the four commands run side by side (each spends most of its time importing torch)
        return subprocess.Popen([sys.executable, "-m", *argv], cwd=repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def result(p):
        out, err = p.communicate(timeout=120)
        return p.returncode, out, err

    cases = [(start("ganlab.theory", *args), start("ganlab", "theory", *args))
             for args in (["--steps", "5", "--json"], ["--means", "1, x"])]
    for old, new in cases:
        old, new = result(old), result(new)
        assert old == new
    rc, out, err = new
    assert (rc, out, err) == (2, "", "error: means: write numbers separated by commas, e.g. '-2, 2' (got '1, x')\n")


def test_d_only_work_in_slices_equals_the_whole_command_at_once():
    """"Train D to optimum" made in slices of any size is the same computation as all at once (same annealed
    learning rates, same noise), so slicing it for the class changes nothing a student sees."""
    a, b = (Theory1D(TheoryConfig(batch_size=32, log_every=5, seed=3)) for _ in range(2))
    a.step(5), b.step(5)
    a.train_d_to_optimum(40)
    b.queue_d_only(40)
    slices = 0
    while b.work(0.0):  # 0 s: one update per slice
        slices += 1
    assert slices == 39 and a.d_only_steps == b.d_only_steps == 40
    for pa, pb in zip(a.D.parameters(), b.D.parameters()):
        assert torch.equal(pa, pb)
    la, lb = a.history.last(), b.history.last()
    assert la.keys() == lb.keys()
    assert all(la[k] == lb[k] or (math.isnan(la[k]) and math.isnan(lb[k])) for k in la if k != "seconds")


def test_a_long_d_only_command_neither_holds_a_worker_nor_delays_a_classmate_or_its_own_stop():
    """5,000 D-only updates (the widget's maximum, ~7 s of one core) used to run inside one bookkeeping turn:
    the worker was held, another job on it waited, and the teacher's Stop on this run waited for the end."""
    mgr = JobManager(max_running=4, workers=1, snapshot_every_s=0.05)
    try:
        heavy = mgr.submit("theory-a", lambda: [Theory1D(TheoryConfig(batch_size=256, log_every=5))], "theory")
        other = mgr.submit("theory-b", lambda: [Theory1D(TheoryConfig(batch_size=64, log_every=5))], "theory")
        deadline = time.monotonic() + 20
        while not (heavy.snapshots() and other.snapshots()) and time.monotonic() < deadline:
            time.sleep(0.02)
        heavy.pause()
        heavy.apply(train_d_to_optimum=100_000)  # minutes of work if it were made in one turn
        time.sleep(0.5)
        (o0,) = other.snapshots()
        time.sleep(1.0)
        (o1,) = other.snapshots()
        assert o1.step > o0.step  # the classmate on the same (only) worker keeps training
        t0 = time.monotonic()
        heavy.stop()
        assert heavy.join(2.0), "the Stop waited for the D-only command"
        assert time.monotonic() - t0 < 1.0 and heavy.status == "stopped"
        (h,) = heavy.snapshots()
        assert 0 < h.d_only_steps < 100_000
    finally:
        mgr.shutdown()
