"""ganlab's training speed against the tutorials' loop, in one process run.

The yardstick ("textbook" in the rows' keys) is benchmarks/reference/: a plain PyTorch loop per case, written the
way the tutorials write it, in the repository, so `bench` runs on any clone. For each case and torch thread
count we alternate `rounds` times between ganlab's `Trainer.step` and the reference loop (ABAB..., swapping
who goes first each round so drift hits both) and report the medians:
    {case, threads, ganlab_steps_per_sec, textbook_steps_per_sec, ratio = ganlab / textbook, device, ...}
Each case builds exactly the textbook's networks, batch, loss and optimiser (checked by parameter counts).
Both loops warm up the same number of untimed steps (20; DCGAN 5 on a CPU, where its steps are slow). ganlab is timed
as it trains for real: device-side loss logging, one host read per `log_every` = 50 steps; its live
mode-coverage evaluator is switched off, since the textbook loop computes no metrics. Image data is random
but correctly shaped, as in the reference loop.

Every case is one entry of CASES: name -> function(opts) -> list of result rows. `opts` is a dict with
steps (int or None), rounds (int), threads (list of ints or None), device ("cpu" or "cuda") and log (a function
taking one line of progress text). A row is a JSON-safe dict with at least `case`, and where it compares
speeds `ratio`, `device` and `threads`.

How to add a case (say `classroom`, measured in benchmarks/classroom.py):
  1. write `def measure(opts: dict) -> list[dict]` there; report progress through `opts["log"]` (stderr) and
     never print on stdout: `bench --json` prints exactly one JSON document there, the list of all rows;
  2. add `"classroom": from_module("classroom")` to CASES below (the module is imported only when the case
     runs, so a heavy import costs nothing to the other cases);
  3. if it should run without `--cases` only when something is installed, add a check to RUNS_BY_DEFAULT.
The torch thread count is restored after each case, so a case may set its own.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from benchmarks import reference
from benchmarks.live_app import CHROMIUM

__all__ = ["BenchError", "CASES", "RUNS_BY_DEFAULT", "SPEED_CASES", "from_module", "main", "run"]

Row = dict[str, Any]


class BenchError(RuntimeError):
    """A benchmark cannot run (bad case name or option, no GPU); the CLI prints it and exits 2."""

Measure = Callable[[dict[str, Any]], list[Row]]


@dataclass(frozen=True)
class Case:
    name: str  # also the name of its reference loop (benchmarks/reference/)
    batch: int
    steps: int  # default timed steps per round on a CPU
    config: dict[str, Any]  # TrainConfig fields that reproduce the textbook setup
    images: bool = False
    warmup: int = 20  # untimed steps first (the reference loop's default)
    gpu_steps: int = 1000  # default timed steps per round on a GPU

    def train_config(self, device: str):
        from ganlab.config import TrainConfig

        return TrainConfig(batch_size=self.batch, device=device, seed=0, log_every=50, steps=1_000_000,
                           **self.config)


_ADAM = dict(optimizer="adam", beta1=0.5, beta2=0.999, d_steps=1, loss="non_saturating", real_label=1.0)
# textbook `toy`: ring of 8, z = 2, G and D 2x128 ReLU MLPs, BCE (= non-saturating), Adam 1e-3 (0.5, 0.999)
_TOY = dict(data="ring", model="mlp", z_dim=2, g_width=128, g_depth=2, d_width=128, d_depth=2, activation="relu",
            g_lr=1e-3, d_lr=1e-3, **_ADAM)
# textbook `mlp`: 784-128-128 LeakyReLU(0.01), tanh output, z = 100, batch 100, Adam 1e-3
_MLP = dict(data="mnist", model="mlp", z_dim=100, g_width=128, g_depth=2, d_width=128, d_depth=2,
            activation="leaky_relu", leaky_slope=0.01, g_lr=1e-3, d_lr=1e-3, **_ADAM)
# textbook `dcgan` 28x28: G 256 -> 128 channels, D 64 -> 128 = ganlab dcgan_width 64; batch 64, Adam 2e-4
_DCGAN = dict(data="mnist", model="dcgan", z_dim=100, dcgan_width=64, g_lr=2e-4, d_lr=2e-4, **_ADAM)
SPEED_CASES: dict[str, Case] = {c.name: c for c in (
    Case("toy", batch=256, steps=1000, gpu_steps=3000, config=_TOY),
    Case("mnist-mlp", batch=100, steps=300, gpu_steps=2000, config=_MLP, images=True),
    Case("dcgan", batch=64, steps=20, warmup=5, gpu_steps=500, config=_DCGAN, images=True),
)}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _random_images(device: str):
    """(5000, 1, 28, 28) uniform in [-1, 1] with 10 labels: speed does not depend on the pixels."""
    from ganlab.data import Dataset

    g = torch.Generator().manual_seed(0)
    x = torch.rand(5000, 1, 28, 28, generator=g) * 2 - 1
    y = torch.randint(0, 10, (5000,), generator=g)
    return Dataset("mnist", x.to(device), y.to(device), n_classes=10)


def _trainer(case: Case, device: str):
    from ganlab.engine.trainer import Trainer

    t = Trainer(case.train_config(device), dataset=_random_images(device) if case.images else None)
    t.evaluators.clear()  # the textbook loop computes no metrics
    return t


def _warmup(case: Case, device: str) -> int:
    return 20 if device.startswith("cuda") else case.warmup


def ganlab_steps_per_sec(case: Case, steps: int, device: str) -> float:
    trainer = _trainer(case, device)
    trainer.step(_warmup(case, device))
    _sync(device)
    t0 = time.perf_counter()
    trainer.step(steps)
    _sync(device)
    dt = time.perf_counter() - t0
    if trainer.status != "ready":
        raise BenchError(f"case {case.name}: the ganlab run diverged during the benchmark")
    return steps / dt


def params_match(case: Case, device: str) -> bool:
    t = _trainer(case, device)
    ours = (sum(p.numel() for p in t.G.parameters()), sum(p.numel() for p in t.D.parameters()))
    return ours == reference.param_counts(case.name)


def missing_piece(case: Case) -> str | None:
    """Why a case cannot run yet (a teammate's module not there), or None."""
    try:
        _trainer(case, "cpu").release()
    except ImportError as e:
        return f"{e}"
    return None


def run_case(case: Case, threads: int, steps: int, rounds: int, device: str, log=print) -> dict[str, Any]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        for r in range(rounds):
            order = ("ganlab", "textbook") if r % 2 == 0 else ("textbook", "ganlab")
            for who in order:
                if who == "ganlab":
                    ours.append(ganlab_steps_per_sec(case, steps, device))
                else:
                    theirs.append(reference.steps_per_sec(case.name, steps, case.batch, device,
                                                          _warmup(case, device)))
            log(f"{case.name} threads={threads} round {r + 1}/{rounds}: ganlab {ours[-1]:.1f}/s, "
                f"textbook {theirs[-1]:.1f}/s")
    finally:
        torch.set_num_threads(before)
    g, t = statistics.median(ours), statistics.median(theirs)
    return {"case": case.name, "threads": threads, "ganlab_steps_per_sec": round(g, 1),
            "textbook_steps_per_sec": round(t, 1), "ratio": round(g / t, 3), "device": _device_name(device),
            "batch": case.batch, "steps": steps, "rounds": rounds, "params_match": params_match(case, device),
            "ganlab_rounds": [round(v, 1) for v in ours], "textbook_rounds": [round(v, 1) for v in theirs],
            "round_ratios": [round(a / b, 3) for a, b in zip(ours, theirs)]}  # paired: same load, same round


def _device_name(device: str) -> str:
    return torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"


def speed_case(case: Case, opts: dict[str, Any]) -> list[Row]:
    """One row per torch thread count (default: toy 1 and all, others all) of `case` against the textbook."""
    why = missing_piece(case)
    if why:
        opts["log"](f"skipping case {case.name}: {why}")
        return []
    all_threads = torch.get_num_threads()
    device = opts["device"]
    steps = opts["steps"] or (case.gpu_steps if device.startswith("cuda") else case.steps)
    counts = opts["threads"] or sorted({1, all_threads} if case.name == "toy" else {all_threads})
    return [run_case(case, n, steps, opts["rounds"], device, opts["log"]) for n in counts]


def from_module(name: str) -> Measure:
    """The case whose code is `measure(opts) -> list[dict]` in benchmarks/<name>.py, imported when it runs."""
    def measure(opts: dict[str, Any]) -> list[Row]:
        return importlib.import_module(f"benchmarks.{name}").measure(opts)

    measure.__name__ = f"measure_{name}"
    return measure


# name -> function(opts) -> rows; `bench` runs them in this order (see the module docstring to add one)
CASES: dict[str, Measure] = {
    **{name: functools.partial(speed_case, case) for name, case in SPEED_CASES.items()},
    "ui_overhead": from_module("ui_overhead"),  # training with the page open vs headless (needs Chromium)
    # 10 simulated students on a real `streamlit run app.py`: ratio = a class member's median steps in 20 s /
    # a lone student's steps in 20 s (1.0 = no slowdown per student)
    "classroom": from_module("classroom"),
    # 30 ring-collapse runs stepped by the class engine vs the same 30 stepped one by one by the Trainer
    "class30": from_module("class30"),
}
# Cases that run without --cases only when their check passes (every other case always runs by default).
RUNS_BY_DEFAULT: dict[str, Callable[[], bool]] = {"ui_overhead": lambda: os.path.exists(CHROMIUM)}


def run(cases: list[str] | None = None, steps: int | None = None, rounds: int = 3, threads: list[int] | None = None,
        device: str = "auto", log: Callable[[str], None] = print) -> list[Row]:
    if cases is None:
        cases = [name for name in CASES if RUNS_BY_DEFAULT.get(name, lambda: True)()]
    bad = [c for c in cases if c not in CASES]
    if bad:
        raise BenchError(f"unknown bench case(s) {', '.join(bad)}; choose from {', '.join(CASES)}")
    if rounds < 1 or (steps is not None and steps < 1):
        raise BenchError("--rounds and --steps must be at least 1")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise BenchError("--device cuda was asked for but no CUDA GPU is available")
    opts = dict(steps=steps, rounds=rounds, threads=threads, device=device, log=log)
    results: list[Row] = []
    for name in cases:
        before = torch.get_num_threads()
        try:
            results += CASES[name](dict(opts))
        finally:
            torch.set_num_threads(before)
    return results


def _table(results: list[dict[str, Any]]) -> str:
    rows = ["case        threads  ganlab/s  reference/s  ratio  device"]
    for r in results:
        if "ganlab_steps_per_sec" in r:  # a speed case; any other row (ui_overhead, ...) is shown as its JSON
            rows.append(f"{r['case']:<11} {r['threads']:>7} {r['ganlab_steps_per_sec']:>9.1f} "
                        f"{r['textbook_steps_per_sec']:>12.1f} {r['ratio']:>6.2f}  {r['device']}")
        else:
            rows.append(json.dumps(r))
    return "\n".join(rows)


def main(args) -> int:
    """Entry from `python -m ganlab bench` (args: json, cases, steps, rounds, threads, device, out)."""
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else None
    try:
        threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    except ValueError:
        raise BenchError(f"--threads expects a comma list of whole numbers, got {args.threads!r}") from None
    if threads and min(threads) < 1:
        raise BenchError("--threads values must be at least 1")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with contextlib.redirect_stdout(sys.stderr):  # whatever a case prints is a log: stdout holds the one result
        results = run(cases, args.steps, args.rounds, threads, args.device, log)
    text = json.dumps(results, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text if args.json else _table(results))
    return 0
