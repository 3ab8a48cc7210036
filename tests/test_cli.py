"""The CLI contract (docs/architecture.md, "CLI"): `python -m ganlab train|presets|bench|latent|theory`.

Most tests call `cli.main([...])` in-process (fast); a few run `python -m ganlab` in a subprocess to check
the real entry point, exit codes and what goes to stdout vs stderr. The latent and theory subcommands have
their own tests (tests/test_latent_cli.py, tests/test_theory.py); here: the shared parser and error format.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ganlab import losses
from ganlab.cli import main as cli
from ganlab.cli.common import Progress
from ganlab.config import from_json
from ganlab.presets import PRESETS

REPO = Path(__file__).resolve().parents[1]
FAST = ["--steps", "20", "--set", "log_every=10", "--quiet", "--threads", "1"]  # 1 thread: steady on a shared CPU


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """`--threads` sets torch's process-wide thread count; give the next test the count it had."""
    import torch

    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _strict_json(text: str):
    """json.loads that refuses NaN / Infinity (which json.dumps would happily write)."""
    def bad(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=bad)


def _train(capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["train", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _run(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "ganlab", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


# ---- bad input: exit 2, one line, no traceback ------------------------------------------------------------
def test_unknown_preset_exits_2_with_one_line_subprocess():
    p = _run("train", "--preset", "no-such-preset", "--json")
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown preset 'no-such-preset'" in lines[0] and "ring-collapse" in lines[0]


@pytest.mark.parametrize("args, words", [
    (["--set", "nosuchkey=1"], "unknown setting(s): nosuchkey"),
    (["--set", "z_dim=abc"], "z_dim: expected a whole number"),
    (["--set", "batch_size=1"], "batch_size must be between"),
    (["--set", "loss"], "--set expects key=value"),
    (["--steps", "0"], "steps must be between"),
    (["--n-samples", "0"], "--n-samples must be between"),
    (["--labels-out", "labels.npy"], "--labels-out needs a conditional model"),
    (["--samples-out", "/no/such/dir/s.npy"], "does not exist"),
    (["--threads", "-1"], "--threads must be 0"),
])
def test_bad_values_exit_2_with_one_line(capsys, args, words):
    rc, out, err = _train(capsys, "--preset", "ring-collapse", "--json", *args)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--preset", "ring-collapse", "--steps", "many"])
    assert e.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


# ---- presets -----------------------------------------------------------------------------------------------
def test_presets_one_line_each(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(PRESETS)
    for line, (name, preset) in zip(lines, PRESETS.items()):
        assert line.split()[0] == name and preset.lesson in line
    assert {"ring-collapse", "ring-fixed", "grid-collapse", "grid-fixed"} <= {ln.split()[0] for ln in lines}


# ---- train -------------------------------------------------------------------------------------------------
def test_train_toy_json_and_samples(capsys, tmp_path):
    f = tmp_path / "s.npy"
    rc, out, err = _train(capsys, "--preset", "ring-collapse", "--seed", "3", "--json", "--samples-out", str(f),
                          "--n-samples", "300", *FAST)
    assert rc == 0 and err == ""  # --quiet: nothing on stderr
    r = _strict_json(out)
    assert set(r) >= {"preset", "seed", "steps", "device", "seconds", "steps_per_sec", "status", "final", "metrics"}
    assert (r["preset"], r["seed"], r["steps"], r["status"], r["device"]) == ("ring-collapse", 3, 20, "done", "cpu")
    assert r["seconds"] > 0 and r["steps_per_sec"] > 0
    assert set(r["final"]) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in r["final"].values()) and 0 < r["final"]["d_real"] < 1
    m = r["metrics"]
    assert set(m) == {"modes_captured", "n_modes", "high_quality_frac", "reverse_kl"} and m["n_modes"] == 8
    assert 0 <= m["modes_captured"] <= 8 and 0 <= m["high_quality_frac"] <= 1 and m["reverse_kl"] >= 0
    x = np.load(f)
    assert x.shape == (300, 2) and x.dtype == np.float32 and np.isfinite(x).all()


def test_train_is_reproducible_and_seed_matters(capsys):
    finals = []
    for seed in ("1", "1", "2"):
        rc, out, _ = _train(capsys, "--preset", "ring-collapse", "--seed", seed, "--json", *FAST)
        assert rc == 0
        finals.append(_strict_json(out)["final"])
    assert finals[0] == finals[1]
    assert finals[0] != finals[2]


def test_set_changes_the_config_and_out_writes_config_and_checkpoint(capsys, tmp_path):
    rc, out, _ = _train(capsys, "--preset", "grid-collapse", "--set", "loss=lsgan", "d_lr=2e-4", "--json",
                        "--out", str(tmp_path / "run"), *FAST)
    assert rc == 0
    r = _strict_json(out)
    assert r["metrics"]["n_modes"] == 25
    cfg = from_json((tmp_path / "run" / "config.json").read_text())
    assert (cfg.loss, cfg.d_lr, cfg.data, cfg.steps, cfg.log_every) == ("lsgan", 2e-4, "grid", 20, 10)
    from ganlab import checkpoint

    run = checkpoint.load(tmp_path / "run" / "checkpoint.pt")
    assert run.config == cfg


def test_image_samples_and_conditional_labels(capsys, tmp_path):
    xs, ys = tmp_path / "x.npy", tmp_path / "y.npy"
    rc, out, _ = _train(capsys, "--preset", "ring-collapse", "--set", "data=digits", "conditional=true",
                        "batch_size=64", "--json", "--samples-out", str(xs), "--labels-out", str(ys),
                        "--n-samples", "25", *FAST)
    assert rc == 0 and _strict_json(out)["status"] == "done"
    x, y = np.load(xs), np.load(ys)
    assert x.shape == (25, 1, 8, 8) and x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    assert y.dtype == np.int64 and y.tolist() == [i % 10 for i in range(25)]


@pytest.mark.parametrize("preset, extra", [("mnist-mlp", []), ("mnist-cgan", ["batch_size=16"])])
def test_image_presets_report_quality_metrics(capsys, tmp_path, preset, extra):
    xs = tmp_path / "x.npy"
    rc, out, _ = _train(capsys, "--preset", preset, "--steps", "2", "--set", "log_every=1", *extra, "--json",
                        "--quiet", "--threads", "1", "--n-samples", "100", "--samples-out", str(xs))
    assert rc == 0
    r = _strict_json(out)
    m = r["metrics"]
    assert r["status"] == "done" and m["fid"] > 0 and len(m["class_hist"]) == 10
    assert sum(m["class_hist"]) == pytest.approx(1.0, abs=1e-6)
    assert ("cond_accuracy" in m) == (preset == "mnist-cgan")
    x = np.load(xs)
    assert x.shape == (100, 1, 28, 28) and x.dtype == np.float32 and -1 <= x.min() and x.max() <= 1


def test_diverged_run_reports_status_and_step(capsys, monkeypatch):
    nan_loss = dataclasses.replace(losses.get("non_saturating"), g_loss=lambda f: f.mean() * float("nan"))
    monkeypatch.setattr(losses, "get", lambda key: nan_loss)
    rc, out, _ = _train(capsys, "--preset", "ring-collapse", "--json", *FAST)
    assert rc == 0
    r = _strict_json(out)  # NaN must come out as null, not as invalid JSON
    assert r["status"] == "diverged" and r["diverged_at"] == 1 and r["steps"] < 20


def test_ctrl_c_stops_and_still_prints(capsys, monkeypatch):
    from ganlab.engine.trainer import Trainer

    real_step, calls = Trainer.step, []

    def step(self, n=1):
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_step(self, n)

    monkeypatch.setattr(Trainer, "step", step)
    rc, out, _ = _train(capsys, "--preset", "ring-collapse", "--json", *FAST)
    r = _strict_json(out)
    assert rc == 0 and r["status"] == "stopped" and r["steps"] == 10 and r["metrics"]["n_modes"] == 8


def test_subprocess_json_is_the_only_stdout_and_progress_goes_to_stderr():
    p = _run("train", "--preset", "ring-fixed", "--steps", "6", "--set", "log_every=3", "--json", "--threads", "1")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1
    r = _strict_json(lines[0])
    assert r["preset"] == "ring-fixed" and r["steps"] == 6 and r["status"] == "done"
    assert "6/6 steps" in p.stderr


def test_progress_bar_without_tty_prints_at_most_one_line_per_tenth():
    s = io.StringIO()
    bar = Progress(1000, enabled=True, stream=s)
    for done in range(10, 1001, 10):
        bar.update(done, {"d_loss": 1.0, "g_loss": 0.5})
    bar.close()
    lines = s.getvalue().splitlines()
    assert 10 <= len(lines) <= 11 and lines[-1].startswith("[" + "#" * 24 + "] 1000/1000 steps")


# ---- bench -------------------------------------------------------------------------------------------------
def test_bench_rejects_unknown_case(capsys):
    assert cli.main(["bench", "--cases", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown bench case(s) nope" in err[0]


def test_bench_toy_quick(capsys, tmp_path):
    out_file = tmp_path / "results.json"
    rc = cli.main(["bench", "--cases", "toy", "--steps", "5", "--rounds", "2", "--threads", "1", "--json",
                   "--out", str(out_file)])
    out = capsys.readouterr().out
    assert rc == 0
    res = _strict_json(out)
    assert res == _strict_json(out_file.read_text())
    assert len(res) == 1
    r = res[0]
    assert {"case", "ganlab_steps_per_sec", "textbook_steps_per_sec", "ratio", "device"} <= set(r)
    assert r["case"] == "toy" and r["threads"] == 1 and r["params_match"] is True
    assert len(r["ganlab_rounds"]) == len(r["textbook_rounds"]) == 2
    assert r["ratio"] == pytest.approx(r["ganlab_steps_per_sec"] / r["textbook_steps_per_sec"], rel=0.01)


class _Printer:
    """A bench case that misbehaves: prints on stdout and changes torch's thread count."""

    def __init__(self):
        self.calls = []

    def __call__(self, opts):
        import torch

        self.calls.append(opts)
        print("a stray line on stdout", flush=True)
        opts["log"]("a log line")
        torch.set_num_threads(3)
        return [{"case": "printer", "ratio": 1.0, "device": "cpu", "threads": 3}]


@pytest.fixture
def bench_module():
    """benchmarks.bench, whose CASES a test may extend (monkeypatch undoes it)."""
    from benchmarks import bench

    return bench


def test_bench_json_is_one_document_even_when_a_case_prints(capsys, monkeypatch, bench_module):
    import torch

    printer = _Printer()
    monkeypatch.setitem(bench_module.CASES, "printer", printer)
    before = torch.get_num_threads()
    assert cli.main(["bench", "--cases", "printer", "--rounds", "2", "--steps", "7", "--json"]) == 0
    out, err = capsys.readouterr()
    assert _strict_json(out) == [{"case": "printer", "ratio": 1.0, "device": "cpu", "threads": 3}]
    assert "a stray line on stdout" in err and "a log line" in err
    assert torch.get_num_threads() == before  # restored after the case
    (opts,) = printer.calls
    assert (opts["steps"], opts["rounds"], opts["threads"], opts["device"]) == (7, 2, None, "cpu")


def test_bench_ui_overhead_case_prints_one_json_document(capsys, monkeypatch, bench_module):
    """The ui_overhead case through `bench --json`, with the browser, server and timed windows stubbed."""
    import contextlib
    from types import SimpleNamespace

    pytest.importorskip("playwright.sync_api")
    from benchmarks import ui_overhead

    @contextlib.contextmanager
    def fake_app(pin):
        yield SimpleNamespace(proc=SimpleNamespace(pid=0)), object(), None

    monkeypatch.setattr(ui_overhead, "open_app", fake_app)
    monkeypatch.setattr(ui_overhead, "headless", lambda seconds, cpus=None: (100.0, 400.0))
    monkeypatch.setattr(ui_overhead, "page_rate",
                        lambda browser, server, seconds: {"rate": 90.0, "steps_per_cpu_s": 360.0, "ui_cpu_share": 0.1})
    assert cli.main(["bench", "--cases", "ui_overhead", "--rounds", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    (row,) = _strict_json(out)  # the whole of stdout is one JSON list
    assert row["case"] == "ui_overhead" and row["device"] == "cpu" and row["seconds"] == 15.0
    assert row["page_vs_headless"] == pytest.approx(0.9) and row["page_vs_headless_server_side"] == pytest.approx(0.81)
    assert "round 1" in err


def test_bench_cases_run_by_default_unless_their_check_fails(monkeypatch, bench_module):
    ran = []

    def case(name):
        return lambda opts: ran.append(name) or []

    monkeypatch.setattr(bench_module, "CASES", {"a": case("a"), "b": case("b")})
    monkeypatch.setattr(bench_module, "RUNS_BY_DEFAULT", {"b": lambda: False})
    bench_module.run(device="cpu", log=lambda msg: None)
    assert ran == ["a"]


# ---- one parser, one error format --------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "presets", "bench", "latent", "theory"])
def test_every_subcommand_has_help(capsys, command):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m ganlab {command}")


@pytest.mark.parametrize("argv, words", [
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["bench", "--cases", "nope"], "unknown bench case(s) nope"),
    (["latent", "run.pt", "grid", "--out", "grid.txt"], "--out must end in one of"),
    (["latent", "no-such-file.pt", "grid", "--out", "grid.png"], "no-such-file.pt"),
    (["theory", "--means", "1, x"], "means: write numbers"),
    (["theory", "--steps", "-1"], "--steps and --d-optimum must be >= 0"),
])
def test_every_subcommand_reports_bad_input_in_one_format(capsys, argv, words):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
