"""Measure what the quality evaluator costs next to training (mnist DCGAN, one CPU thread).

    python scripts/measure_quality_cost.py [--intervals 8] [--every 4] [--n 1000] [--width 32]

Prints seconds per logging interval of training, milliseconds per scored evaluation, and the evaluator's
share of the total at `every` (scored once every `every` intervals). Timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ganlab import quality  # noqa: E402
from ganlab.config import TrainConfig  # noqa: E402
from ganlab.engine.trainer import Trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--intervals", type=int, default=4)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--conditional", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = TrainConfig(data="mnist", model="dcgan", dcgan_width=a.width, z_dim=100, batch_size=64, g_lr=2e-4,
                      d_lr=2e-4, log_every=50, device="cpu", conditional=a.conditional)
    t = Trainer(cfg)
    t.step(5)  # warm up
    quality.reference_fid(torch.zeros(2, 1, 28, 28) - 1)  # reference statistics: computed once per process
    t0 = time.perf_counter()
    t.step(a.intervals * cfg.log_every)
    train_s = (time.perf_counter() - t0) / a.intervals
    ev = quality.image_evaluator(every=1, n=a.n)
    costs = []
    for _ in range(3):
        t1 = time.perf_counter()
        row = ev(t)
        costs.append(time.perf_counter() - t1)
    t1 = time.perf_counter()
    t.sample(a.n, seed=1)
    sample_s = time.perf_counter() - t1
    eval_s = min(costs)
    share = eval_s / (eval_s + a.every * train_s)
    print(f"training: {train_s:.2f} s per interval of {cfg.log_every} steps (dcgan width {a.width}, batch 64)")
    print(f"evaluator: {eval_s * 1000:.0f} ms per scored interval (n={a.n}; of which G sampling "
          f"{sample_s * 1000:.0f} ms); all runs {[round(c * 1000) for c in costs]} ms; last row {row}")
    print(f"share of wall time when scoring every {a.every} intervals: {share:.1%}")
    # the default (adaptive) schedule: which intervals it scores, and its measured share of the wall time
    t2 = Trainer(cfg)
    quality.attach(t2, n=a.n)
    t0 = time.perf_counter()
    t2.step(a.intervals * 2 * cfg.log_every)
    fid = t2.history.arrays()["fid"]
    scored = [i + 1 for i, v in enumerate(fid) if v == v]
    wall = time.perf_counter() - t0
    print(f"adaptive schedule over {len(fid)} intervals: scored intervals {scored}, "
          f"~{len(scored) * eval_s / wall:.1%} of {wall:.0f} s wall")


if __name__ == "__main__":
    main()
