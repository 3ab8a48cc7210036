"""The Class page's census (issue 22, item 1): runs grouped by what was changed, mean ± standard error against
hand-computed numbers, labels that name the change, PacGAN's Table 1 as data, the chart's spec (a point per run,
the paper's rows), the CSV exports, the cost of a 30-run census, and an AppTest of the Class page showing it.

Runs are plain snapshots (a real TrainConfig, a metric history, the ring's centres) or fake runners (no torch).
"""
import csv
import io
import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import FakeRunner

from ganlab import census, jobs
from ganlab.jobs import classroom
from ganlab.presets import PRESETS
from ganlab.ui import teacher
from ganlab.viz.census import census_spec

PAGE = "pages/class_view.py"
RING = np.array([[2 * np.cos(a), 2 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)], np.float32)
GRID = np.array([[x, y] for x in range(-2, 3) for y in range(-2, 3)], np.float32) * 2
NAN = float("nan")
UNROLLED = PRESETS["ring-collapse"].config.replace(unrolled_steps=5)  # Lesson 2's unrolled step


def toy_snap(preset: str, modes: float, hq: float, rkl: float, rows: int = 3, **changes):
    """A toy snapshot of `preset` (with `changes`) whose last logged row has these metrics (earlier rows other
    values, the one before last NaN: only the last finite value counts)."""
    config = (UNROLLED if preset == "ring-unrolled" else PRESETS[preset].config).replace(**changes)
    hist = {"modes_captured": np.array([0.0] * (rows - 2) + [NAN, modes]),
            "high_quality_frac": np.array([0.0] * (rows - 2) + [NAN, hq]),
            "reverse_kl": np.array([9.0] * (rows - 2) + [NAN, rkl])}
    return SimpleNamespace(config=config, history=hist, centers=RING if config.data == "ring" else GRID)


def run(job_id, snap, student="s", status="done", step=2000, name="", preset=""):
    return census.run_of(job_id, name, student, preset, status, step, snap)


def test_mean_and_standard_error_by_hand():
    mean, se = census.mean_se([1, 2, 6])  # mean 3; s^2 = (4 + 1 + 9) / 2 = 7; SE = sqrt(7 / 3)
    assert mean == 3 and se == pytest.approx(math.sqrt(7 / 3))
    assert census.mean_se([5.0]) == (5.0, None)  # one run: no SE
    assert census.mean_se([None, 4.0, None, 2.0]) == (3.0, pytest.approx(1.0))  # s = sqrt(2), SE = 1
    assert census.mean_se([]) == (None, None)


def test_runs_are_grouped_by_data_loss_and_remedy_with_mean_and_se():
    runs = [run(1, toy_snap("ring-collapse", 1, 0.50, 2.0)), run(2, toy_snap("ring-collapse", 2, 0.60, 1.5, seed=3)),
            run(3, toy_snap("ring-collapse", 6, 0.70, 0.4, steps=500)),
            run(4, toy_snap("ring-unrolled", 8, 0.70, 0.01)),
            run(5, toy_snap("ring-unrolled", 8, 0.74, 0.03, seed=1), status="running"),
            run(6, toy_snap("grid-fixed", 24, 0.42, 0.40)),
            run(7, toy_snap("ring-collapse", 7, 0.90, 0.1, loss="wgan_gp"))]
    groups = census.groups(runs)
    assert [g.label for g in groups] == ["ring · non-saturating · no remedy", "ring · non-saturating · unrolled 5",
                                         "ring · WGAN-GP", "grid · non-saturating · R1 1 · D lr 0.001"]
    plain, unrolled, wgan, grid = groups
    assert [r.job_id for r in plain.runs] == [1, 2, 3]  # seed and budget are not changes
    assert plain.n == 3 and plain.n_modes == 8
    assert plain.modes == (3.0, pytest.approx(math.sqrt(7 / 3)))  # modes 1, 2, 6
    assert plain.high_quality == (pytest.approx(0.6), pytest.approx(0.1 / math.sqrt(3)))  # s = 0.1
    assert plain.reverse_kl[0] == pytest.approx((2.0 + 1.5 + 0.4) / 3)
    assert unrolled.modes == (8.0, 0.0) and unrolled.n_live == 1 and plain.n_live == 0
    assert unrolled.high_quality == (pytest.approx(0.72), pytest.approx(0.02))  # s = 0.02 * sqrt(2), n = 2
    assert wgan.modes == (7.0, None) and grid.n_modes == 25  # a group of one: no SE


def test_a_groups_label_names_what_was_changed():
    def key(preset, **changes):
        c = PRESETS[preset].config.replace(**changes).to_dict()
        return census.label(census.toy_key(c) if PRESETS[preset].config.is_toy else census.image_key(c))

    assert key("ring-collapse") == "ring · non-saturating · no remedy"
    assert key("ring-collapse", pack=4) == "ring · non-saturating · PacGAN 4"
    assert key("ring-collapse", loss="wgan_gp") == "ring · WGAN-GP"
    assert key("ring-collapse", loss="minimax", spectral_norm=True) == "ring · minimax · spectral norm"
    assert key("grid-collapse", g_width=64) == "grid · non-saturating · other settings"
    assert key("ring-collapse", loss="wgan", clip_value=0.05) == "ring · WGAN (clipping) · other settings"
    assert key("ring-collapse", gp_weight=5.0) == "ring · non-saturating · no remedy"  # GP weight of an unused loss
    assert key("mnist-dcgan", seed=2, steps=100) == "mnist-dcgan"  # image runs: by preset
    assert key("mnist-dcgan", g_lr=1e-4) == "mnist · dcgan · hinge · other settings"


def test_the_papers_rows_are_pacgans_table_1():
    table = {(p.data, p.model): (p.modes, p.modes_pm, p.n_modes, p.high_quality, p.reverse_kl) for p in census.PAPER}
    assert table == {
        ("ring", "GAN"): (6.3, 0.5, 8, 0.982, 0.45), ("ring", "PacGAN2"): (7.9, 0.1, 8, 0.956, 0.07),
        ("ring", "PacGAN4"): (7.8, 0.1, 8, 0.959, 0.07), ("grid", "GAN"): (17.3, 0.8, 25, 0.948, 0.70),
        ("grid", "PacGAN2"): (23.8, 0.7, 25, 0.913, 0.13), ("grid", "PacGAN4"): (24.8, 0.2, 25, 0.936, 0.04)}
    setup = census.paper_setup()
    assert "2,500 samples" in setup and "3 std" in setup and "8 modes" in setup and "25 modes" in setup


def image_snap(preset: str, fids, class_rows, **changes):
    """An image snapshot whose history has FID scored on some rows only (NaN elsewhere, as ganlab.quality logs)."""
    config = (UNROLLED if preset == "ring-unrolled" else PRESETS[preset].config).replace(**changes)
    hist = {"fid": np.array(fids, float)}
    for d in range(10):
        hist[f"class_{d}"] = np.array([row[d] if row is not None else NAN for row in class_rows], float)
    return SimpleNamespace(config=config, history=hist, centers=None)


def test_image_runs_give_fid_and_the_smallest_class_at_the_latest_score():
    even = [0.1] * 10
    last = [0.12, 0.05, 0.11, 0.1, 0.1, 0.1, 0.1, 0.1, 0.11, 0.11]  # digit 1 is the rarest: 5 %
    a = run(1, image_snap("mnist-dcgan", [300, NAN, 120, NAN], [even, None, last, None]))
    b = run(2, image_snap("mnist-dcgan", [200, 100, NAN], [even, even, None], seed=1))
    assert (a.fid, a.smallest_class, a.smallest_digit) == (120, 0.05, 1)
    assert (b.fid, b.smallest_class) == (100, 0.1)
    assert run(3, image_snap("mnist-dcgan", [NAN], [None])) is None  # not scored yet: nothing to count
    (g,) = census.groups([a, b])
    assert g.label == "mnist-dcgan" and g.fid == (110.0, 10.0)  # s = 10 sqrt(2), n = 2
    assert g.smallest_class[0] == pytest.approx(0.075)


def test_runs_without_modes_or_scores_are_left_out():
    spiral = SimpleNamespace(config=PRESETS["ring-collapse"].config.replace(data="spiral"),
                             history={"modes_captured": np.array([])}, centers=None)
    assert run(1, spiral) is None
    assert run(2, toy_snap("ring-collapse", NAN, NAN, NAN, rows=2)) is None  # no finite metric logged yet
    assert run(3, SimpleNamespace(step=5, config=SimpleNamespace(steps=10), diverged_at=None)) is None


def test_real_snapshots_of_a_toy_and_an_image_trainer():
    """The census reads what the trainers really log: the toy evaluator's columns, the image judge's scored rows."""
    import torch

    from ganlab import quality, snapshot
    from ganlab.config import TrainConfig
    from ganlab.data import Dataset
    from ganlab.engine.trainer import Trainer

    toy = Trainer(TrainConfig(data="ring", z_dim=2, g_width=32, d_width=32, batch_size=64, log_every=10, steps=30))
    toy.step(30)
    r = run(1, snapshot.take(toy), status="running", step=30)
    h = toy.history.arrays()
    assert (r.modes, r.n_modes, r.high_quality, r.reverse_kl) == (
        h["modes_captured"][-1], 8, pytest.approx(h["high_quality_frac"][-1]), pytest.approx(h["reverse_kl"][-1]))
    assert r.key == census.GroupKey("toy", "ring", "non_saturating", (("d_lr", 1e-3),), True)  # defaults: D lr 1e-3

    x, y = (torch.from_numpy(a[:256]) for a in quality.embedded_digits())
    t = Trainer(TrainConfig(data="mnist", model="mlp", z_dim=8, g_width=32, d_width=32, batch_size=32, log_every=2,
                            device="cpu"), dataset=Dataset("mnist", x, y, n_classes=10))
    assert quality.attach(t, every=2, n=200)
    t.step(8)  # 4 intervals, scored at the 1st and 3rd: the last row is not scored
    h = t.history.arrays()
    r = run(2, snapshot.take(t))
    shares = [h[f"class_{d}"][2] for d in range(10)]
    assert np.isnan(h["fid"][3]) and r.fid == pytest.approx(h["fid"][2])
    assert r.smallest_class == pytest.approx(min(shares)) and r.smallest_digit == int(np.argmin(shares))
    assert census.label(r.key) == "mnist · mlp · non-saturating · other settings"


def _three_groups():
    return [run(1, toy_snap("ring-collapse", 1, 0.5, 2.0), "Ada"), run(2, toy_snap("ring-collapse", 3, 0.6, 1.0), "Bo"),
            run(3, toy_snap("ring-unrolled", 8, 0.7, 0.01), "Cy", "running", 700, "A"),
            run(4, toy_snap("grid-fixed", 25, 0.4, 0.3), "Di")]


def test_the_chart_has_a_point_per_run_the_group_means_and_the_papers_rows():
    runs = _three_groups()
    spec = census_spec(census.groups(runs))
    ring = [t for t in spec["data"] if t["yaxis"] == "y"]
    grid = [t for t in spec["data"] if t["yaxis"] == "y2"]
    points, means, paper = ring
    assert sorted(points["x"]) == [1, 3, 8] and sorted(points["text"]) == ["Ada", "Bo", "Cy A"]  # a point per run
    assert means["x"] == [2.0, 8.0] and means["error_x"]["array"] == [1.0, 0.0]  # modes 1, 3: SE 1; one run: 0
    assert paper["x"] == [6.3, 7.9, 7.8] and paper["error_x"]["array"] == [0.5, 0.1, 0.1]
    assert grid[0]["x"] == [25] and grid[2]["x"] == [17.3, 23.8, 24.8]
    ticks = spec["layout"]["yaxis"]["ticktext"]
    assert ticks == ["ring · non-saturating · no remedy", "ring · non-saturating · unrolled 5", "paper: GAN",
                     "paper: PacGAN2", "paper: PacGAN4"]
    assert "of 8" in spec["layout"]["xaxis"]["title"]["text"] and "of 25" in spec["layout"]["xaxis2"]["title"]["text"]
    assert census_spec([])["data"] == []


def test_the_csv_exports_have_a_row_per_run_and_per_group_then_the_paper():
    runs = _three_groups()
    rows = list(csv.DictReader(io.StringIO(census.runs_csv(runs))))
    assert [(r["job"], r["run"], r["student"], r["modes_captured"], r["status"], r["step"]) for r in rows] == [
        ("1", "", "Ada", "1", "done", "2000"), ("2", "", "Bo", "3", "done", "2000"),
        ("3", "A", "Cy", "8", "running", "700"), ("4", "", "Di", "25", "done", "2000")]
    assert [r["group"] for r in rows][2:] == ["ring · non-saturating · unrolled 5",
                                             "grid · non-saturating · R1 1 · D lr 0.001"]
    assert rows[0]["high_quality_frac"] == "0.5" and rows[0]["n_modes"] == "8" and rows[0]["fid"] == ""
    groups = list(csv.DictReader(io.StringIO(census.groups_csv(census.groups(runs)))))
    assert [(g["group"], g["runs"], g["modes_mean"], g["modes_se"]) for g in groups[:3]] == [
        ("ring · non-saturating · no remedy", "2", "2", "1"), ("ring · non-saturating · unrolled 5", "1", "8", ""),
        ("grid · non-saturating · R1 1 · D lr 0.001", "1", "25", "")]
    assert groups[3]["group"] == "PacGAN Table 1 · GAN" and groups[3]["modes_mean"] == "6.3" and len(groups) == 9


def test_names_are_text_in_the_chart_and_in_the_csv():
    """A student's name is shown as typed: never as HTML in the chart's hover, never as a formula in a spreadsheet."""
    runs = [run(1, toy_snap("ring-collapse", 1, 0.5, 2.0), "<b>x</b>"), run(2, toy_snap("ring-collapse", 2, 0.5, 2.0),
                                                                       "=HYPERLINK(1)")]
    points = census_spec(census.groups(runs))["data"][0]
    assert points["text"] == ["&lt;b&gt;x&lt;/b&gt;", "=HYPERLINK(1)"]
    rows = list(csv.DictReader(io.StringIO(census.runs_csv(runs))))
    assert [r["student"] for r in rows] == ["<b>x</b>", "'=HYPERLINK(1)"]


def test_a_census_of_30_runs_costs_a_few_milliseconds():
    """What the Class page's fragment does every tick, for 30 runs with full (1,000-row) histories."""
    presets = ["ring-collapse", "ring-fixed", "grid-collapse", "grid-fixed"]
    snaps = [toy_snap(presets[k % 4], k % 8, 0.5, 0.3, rows=1000, seed=k) for k in range(30)]
    census.groups([run(k, s) for k, s in enumerate(snaps)])  # the preset tables are built once
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        groups = census.groups([run(k, s) for k, s in enumerate(snaps)])
        census_spec(groups)
        best = min(best, time.perf_counter() - t0)
    assert sum(g.n for g in groups) == 30
    assert best < 0.05, f"{best * 1e3:.1f} ms"  # measured 0.9 ms (median) on the 2-core dev box


# ---- the Class page ------------------------------------------------------------------------------------------
class DoneToyRunner(FakeRunner):
    """A fake runner of `preset` that finishes after a few steps with these metrics in its snapshot."""

    def __init__(self, preset, modes, hq=0.7, rkl=0.1, seed=0):
        super().__init__(budget=20)
        self.preset, self.metrics, self.seed = preset, (modes, hq, rkl), seed

    def snapshot(self):
        s = toy_snap(self.preset, *self.metrics, seed=self.seed)
        return SimpleNamespace(**vars(s), step=self.step_count, diverged_at=None, status="ready", seconds=0.1,
                               fake=None, extent=None, grid_jpeg=None)


@pytest.fixture(autouse=True)
def fresh_class(monkeypatch):
    monkeypatch.delenv(teacher.ENV, raising=False)
    classroom._CLASSROOM = None
    yield
    classroom._CLASSROOM = None


def test_the_class_page_shows_the_census_of_finished_toy_runs(app_test, wait_until):
    m = jobs.manager()
    classroom.classroom().set_nickname("ada", "Ada")
    started = [m.submit("ada", lambda: [DoneToyRunner("ring-collapse", 1)], "r", page="mode_collapse",
                        meta={"preset": "ring-collapse"}),
               m.submit("bob", lambda: [DoneToyRunner("ring-collapse", 3, seed=1),
                                        DoneToyRunner("ring-unrolled", 8, seed=1)], "pair", page="mode_collapse",
                        meta={"preset": "ring-collapse"})]
    wait_until(lambda: all(j.status == "done" for j in started), 15, what="the runs to finish")
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "Census: the class as an experiment" for h in at.subheader)
    census_table = next(t.value for t in at.table if "Modes captured" in t.value.columns)
    rows = census_table.to_dict("records")
    assert [(r["Group"], r["Runs"], r["Modes captured"]) for r in rows] == [
        ("ring · non-saturating · no remedy", "2", "2.0 ± 1.0 / 8"),
        ("ring · non-saturating · unrolled 5", "1", "8.0 / 8"),
        ("paper: GAN (ring)", "–", "6.3 ± 0.5 / 8"), ("paper: PacGAN2 (ring)", "–", "7.9 ± 0.1 / 8"),
        ("paper: PacGAN4 (ring)", "–", "7.8 ± 0.1 / 8")]
    assert rows[0]["Presets"] == "ring-collapse"
    assert any("2,500 samples" in c.value for c in at.caption)
    import json

    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "census" in c.proto.id)
    assert sorted(spec["data"][0]["x"]) == [1, 3, 8]
    downloads = [e for e in at.get("download_button") if e.key.startswith("class_census")]  # (the run store's too)
    assert len(downloads) == 2


def test_the_census_is_translated(app_test, wait_until):
    m = jobs.manager()
    job = m.submit("ada", lambda: [DoneToyRunner("ring-collapse", 1, seed=2)], "r", page="mode_collapse")
    wait_until(lambda: job.status == "done", 15, what="the run to finish")
    at = app_test(PAGE, query={"lang": "zh"}).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "全班统计：把全班当作一次实验" for h in at.subheader)
    table = next(t.value for t in at.table if "覆盖的模式数" in t.value.columns)
    assert table.to_dict("records")[0]["分组"] == "环形 · 非饱和 · 无对策"


class GrowingRunner(DoneToyRunner):
    """A long run whose modes captured are what the test sets in `MODES` (its G "learns" when the test says)."""

    MODES = {"now": 1}

    def __init__(self):
        super().__init__("ring-unrolled", 1)
        self.budget = 1_000_000

    def snapshot(self):
        self.metrics = (self.MODES["now"], 0.7, 0.1)
        return super().snapshot()


def test_the_census_follows_a_run_as_it_trains(app_test, wait_until):
    GrowingRunner.MODES["now"] = 1
    job = jobs.manager().submit("ada", lambda: [GrowingRunner()], "r", page="mode_collapse")
    wait_until(lambda: job.snapshots(), 10, what="a first snapshot")
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]

    def census_row():
        return next(t.value for t in at.table if "Modes captured" in t.value.columns).to_dict("records")[0]

    assert census_row()["Runs"] == "1 (1 training)" and census_row()["Modes captured"] == "1.0 / 8"
    GrowingRunner.MODES["now"] = 8
    wait_until(lambda: job.snapshots()[0].history["modes_captured"][-1] == 8, 10, what="a snapshot with 8 modes")
    at.run()  # what the fragment's 2 s tick does in a browser
    assert census_row()["Modes captured"] == "8.0 / 8"


class DoneImageRunner(FakeRunner):
    """A fake mnist-dcgan runner that finishes with one scored row: FID `fid`, digit 1 the rarest at 5 %."""

    def __init__(self, fid, seed=0):
        super().__init__(budget=20)
        self.fid, self.seed = fid, seed

    def snapshot(self):
        shares = [0.12, 0.05, 0.11, 0.1, 0.1, 0.1, 0.1, 0.1, 0.11, 0.11]
        s = image_snap("mnist-dcgan", [self.fid], [shares], seed=self.seed)
        return SimpleNamespace(**vars(s), step=self.step_count, diverged_at=None, status="ready", seconds=0.1,
                               fake=None, extent=None, grid_jpeg=None)


def test_the_class_page_shows_image_runs_by_preset(app_test, wait_until):
    job = jobs.manager().submit("ada", lambda: [DoneImageRunner(90), DoneImageRunner(110, seed=1)], "pair",
                                page="image_gan", meta={"preset": "mnist-dcgan"})
    wait_until(lambda: job.status == "done", 15, what="the runs to finish")
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(t.value for t in at.table if "Feature FID" in t.value.columns).to_dict("records")
    assert table == [{"Group": "mnist-dcgan", "Runs": "2", "Feature FID": "100 ± 10", "Smallest class": "5.0 ± 0.0 %",
                      "Presets": "mnist-dcgan"}]
    assert not any("Modes captured" in t.value.columns for t in at.table)  # no toy run: no toy table
    assert any("rarest digit" in c.value for c in at.caption) and not any("2,500 fresh" in c.value for c in at.caption)
