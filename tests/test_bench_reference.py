"""benchmarks/reference/: the in-repository yardstick of `ganlab bench` (one plain PyTorch loop per speed case).

- every speed case has a reference loop that builds exactly ganlab's networks for that case (parameter counts);
- each reference loop trains (finite losses, one pair per step) on the CPU;
- `python -m ganlab bench` runs on a fresh copy of the repository with no ../shared beside it.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bench, reference
from benchmarks.reference import loop

REPO = Path(__file__).resolve().parents[1]


def test_every_speed_case_has_a_reference_loop():
    assert set(reference.CASES) == set(bench.SPEED_CASES)


@pytest.mark.parametrize("name", list(bench.SPEED_CASES))
def test_reference_builds_ganlabs_networks(name):
    """(G, D) parameter counts of the reference networks equal those of ganlab's Trainer for the bench case."""
    case = bench.SPEED_CASES[name]
    t = bench._trainer(case, "cpu")
    try:
        ours = (sum(p.numel() for p in t.G.parameters()), sum(p.numel() for p in t.D.parameters()))
    finally:
        t.release()
    assert reference.param_counts(name) == ours
    assert reference.case(name).Z_DIM == case.config["z_dim"]
    assert reference.case(name).LR == case.config["g_lr"] == case.config["d_lr"]
    assert bench.params_match(case, "cpu")


@pytest.mark.parametrize("name", list(bench.SPEED_CASES))
def test_reference_loop_trains(name):
    out = loop.train(reference.case(name), steps=3, batch=8, warmup=1)
    assert out["case"] == name and out["steps"] == 3 and out["steps_per_sec"] > 0
    assert len(out["losses"]) == 4 and all(math.isfinite(v) for pair in out["losses"] for v in pair)


def test_reference_rejects_an_unknown_case():
    with pytest.raises(KeyError, match="no reference loop for 'nope'"):
        reference.case("nope")


def test_bench_runs_on_a_fresh_clone_without_shared(tmp_path):
    """A copy of the checkout with nothing beside it: the smallest toy bench runs and prints its row."""
    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "results.json")
    for part in ("ganlab", "benchmarks"):
        shutil.copytree(REPO / part, clone / part, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", clone)
    assert not (tmp_path / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "ganlab", "bench", "--cases", "toy", "--steps", "3", "--rounds", "1",
                           "--threads", "1", "--json"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["case"] == "toy" and row["params_match"] is True and row["textbook_steps_per_sec"] > 0
