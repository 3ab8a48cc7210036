"""class30: 30 `ring-collapse` runs (seeds 0..29) trained by the class engine vs the same 30 runs trained one
after another by the single-run Trainer, in one process, at the same torch thread count.

The single runs go round-robin as the job manager drives them: each run advances one logging interval
(`log_every` = 50 steps) in turn. The engine advances all 30 in one stacked step per G step. Both train for
real: device-side loss logging, one host read per logging interval, mode-coverage metrics at every logging
step. Rounds alternate which side goes first (ABBA...) so that drift hits both; rates are medians over rounds,
`ratio` is the median of the per-round ratios engine / single (wall time). `cpu_time_ratio` is the same from
this process's CPU time (single / engine seconds): steadier on a shared machine, where other processes take
cores for a while (with two threads it includes OpenMP's spin-waits). Short rounds interleave finer.

Rows: {case: "class30", ratio, device, threads, engine_run_steps_per_s, single_run_steps_per_s,
per_run_steps_per_s (= engine rate / 30), cpu_time_ratio, steps, rounds, runs} and, with ops counting
(default on), ops_per_step_single (kernels of one G step of one run: CUDA kernel launches, or on a CPU leaf
compute ops) and ops_per_step_engine (one stacked G step of all 30 runs; on a CPU, in blocks of 8, and
ops_per_step_engine_one_block as one block, as on a GPU), measured with torch.profiler over a few steps between
two logging steps.

    python -m benchmarks.class30 --threads 1,2 --device auto --steps 200 --rounds 5 --json
`run(threads, device, steps, rounds)` returns the rows; `measure(opts)` is benchmarks/bench.py's extra-case hook.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

RUNS = 30
PRESET = "ring-collapse"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _configs(device: str):
    from ganlab.presets import get

    base = get(PRESET).config
    return [base.replace(seed=s, device=device, steps=1_000_000) for s in range(RUNS)]


def _build(device: str):
    from ganlab.engine.batched import ClassEngine
    from ganlab.engine.trainer import Trainer

    cfgs = _configs(device)
    engine = ClassEngine()
    for c in cfgs:
        engine.add(c)
    trainers = [Trainer(c) for c in cfgs]
    return engine, trainers


def _timed(fn, device: str) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of fn()."""
    _sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def _time_engine(engine, steps: int, device: str) -> tuple[float, float]:
    return _timed(lambda: engine.step(steps), device)


def _time_single(trainers, steps: int, device: str) -> tuple[float, float]:
    k = trainers[0].config.log_every

    def go():
        done = 0
        while done < steps:
            n = min(k, steps - done)
            for t in trainers:
                t.step(n)
            done += n

    return _timed(go, device)


# aten ops that only make views or read a scalar: no kernel of their own
_VIEWS = frozenset({"aten::as_strided", "aten::select", "aten::item", "aten::_local_scalar_dense", "aten::view",
                    "aten::unbind", "aten::expand", "aten::transpose", "aten::t", "aten::unsqueeze",
                    "aten::squeeze", "aten::resolve_conj", "aten::resolve_neg", "aten::slice", "aten::alias",
                    "aten::detach", "aten::detach_", "aten::reshape", "aten::_reshape_alias", "aten::empty",
                    "aten::empty_strided", "aten::empty_like", "aten::resize_", "aten::chunk", "aten::split",
                    "aten::lift_fresh", "aten::numpy_T", "aten::permute", "aten::flatten", "aten::_unsafe_view"})


def _kernels(events) -> int:
    """Leaf compute ops: aten ops that are not views and call no other compute op (~ one kernel each)."""
    def compute(e) -> bool:
        return e.name.startswith("aten::") and e.name not in _VIEWS

    def has_compute_child(e) -> bool:
        return any(compute(c) or has_compute_child(c) for c in e.cpu_children)

    return sum(1 for e in events if compute(e) and not has_compute_child(e))


def count_ops(engine, trainer, device: str, steps: int = 3) -> dict[str, float]:
    """Kernels per G step via torch.profiler: CUDA: kernel launches; CPU: leaf compute ops (aten ops that are
    not views and call no other op), i.e. about one kernel each. View ops and scalar reads are not counted."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device.startswith("cuda")
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])

    def count(fn) -> float:
        fn(1)  # warm
        _sync(device)
        with profile(activities=acts) as prof:
            fn(steps)
            _sync(device)
        evs = prof.events()
        if cuda:
            n = sum(1 for e in evs if e.name in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"))
        else:
            n = _kernels(evs)
        return n / steps

    out = {"ops_per_step_single": count(trainer.step), "ops_per_step_engine": count(engine.step)}
    if engine.block is not None:  # CPU blocks: also count one block of all 30, as a GPU runs them
        was, engine.block = engine.block, 0
        try:
            out["ops_per_step_engine_one_block"] = count(engine.step)
        finally:
            engine.block = was
    return out


def run(threads, device: str = "auto", steps: int = 200, rounds: int = 5, ops: bool = True) -> list[dict]:
    from ganlab.engine.trainer import resolve_device

    dev = str(resolve_device(device))
    rows = []
    before = torch.get_num_threads()
    try:
        for nt in ([threads] if isinstance(threads, int) else list(threads)):
            torch.set_num_threads(nt)
            _log(f"class30: building 30 runs twice on {dev}, {nt} thread(s)")
            engine, trainers = _build(dev)
            _time_engine(engine, 10, dev)  # warm-up: allocator, first Adam steps, lazy inits
            _time_single(trainers, 10, dev)
            eng_rates, single_rates, ratios, cpu_ratios = [], [], [], []
            for r in range(rounds):
                order = ("engine", "single") if r % 2 == 0 else ("single", "engine")
                t = {}
                for side in order:
                    t[side] = (_time_engine(engine, steps, dev) if side == "engine"
                               else _time_single(trainers, steps, dev))
                e, s = RUNS * steps / t["engine"][0], RUNS * steps / t["single"][0]
                eng_rates.append(e)
                single_rates.append(s)
                ratios.append(e / s)
                cpu_ratios.append(t["single"][1] / max(t["engine"][1], 1e-9))
                _log(f"  round {r + 1}/{rounds}: engine {e:.0f} run-steps/s, single {s:.0f}, ratio {e / s:.2f} "
                     f"(CPU-time ratio {cpu_ratios[-1]:.2f})")
            row = {"case": "class30", "ratio": statistics.median(ratios), "device": dev, "threads": nt,
                   "engine_run_steps_per_s": statistics.median(eng_rates),
                   "single_run_steps_per_s": statistics.median(single_rates),
                   "per_run_steps_per_s": statistics.median(eng_rates) / RUNS,
                   "cpu_time_ratio": statistics.median(cpu_ratios),
                   "steps": steps, "rounds": rounds, "runs": RUNS}
            if ops:
                row.update(count_ops(engine, trainers[0], dev))
            rows.append(row)
            del engine, trainers
            if dev.startswith("cuda"):
                torch.cuda.empty_cache()
    finally:
        torch.set_num_threads(before)
    return rows


def measure(opts: dict) -> list[dict]:
    """The hook of benchmarks/bench.py (EXTRA_MODULES): wiring this case in is adding "class30" there."""
    threads = opts.get("threads") or sorted({1, torch.get_num_threads()})
    return run(threads, opts.get("device") or "auto", int(opts.get("steps") or 100), int(opts.get("rounds") or 3))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated torch thread counts (default 1,2)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--steps", type=int, default=100, help="G steps per round per run (default 100)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-ops", action="store_true", help="skip the profiler's op counts")
    p.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    a = p.parse_args(argv)
    try:
        threads = [int(x) for x in a.threads.split(",") if x.strip()]
        if not threads or min(threads) < 1 or a.steps < 1 or a.rounds < 1:
            raise ValueError
    except ValueError:
        p.error("--threads takes positive whole numbers (e.g. 1,2); --steps and --rounds >= 1")
    if a.device == "cuda" and not torch.cuda.is_available():
        print("class30: --device cuda but no CUDA GPU is available", file=sys.stderr)
        return 2
    rows = run(threads, a.device, a.steps, a.rounds, ops=not a.no_ops)
    if a.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            extra = (f", ops/step single {r['ops_per_step_single']:.0f} vs engine (30 runs) "
                     f"{r['ops_per_step_engine']:.0f}") if "ops_per_step_engine" in r else ""
            print(f"class30 {r['device']} threads {r['threads']}: engine {r['engine_run_steps_per_s']:.0f} "
                  f"run-steps/s, single {r['single_run_steps_per_s']:.0f}, ratio {r['ratio']:.2f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
