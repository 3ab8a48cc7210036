"""Check the admission cost model (ganlab/jobs/cost/) against measured steps: per preset, the estimated CPU
seconds per G step beside the measured ones (a single-run Trainer on one torch thread, this thread's CPU time,
so other load on the machine does not count), and the estimated peak memory.

    python -m benchmarks.cost_check [PRESET ...]
"""
from __future__ import annotations

import sys
import time

import torch


def main(names: list[str]) -> None:
    torch.set_num_threads(1)  # as the server trains each run (GANLAB_TORCH_THREADS)
    from ganlab.engine.factory import make_trainer
    from ganlab.jobs import cost
    from ganlab.presets import PRESETS

    print(cost.calibrate())
    for name in names or list(PRESETS):
        config = PRESETS[name].config
        est = cost.estimate(config)
        trainer = make_trainer(config)
        steps = 20 if config.is_toy else 5
        trainer.step(2)  # warm-up (first kernels, allocator)
        t0 = time.thread_time()
        trainer.step(steps)
        got = (time.thread_time() - t0) / steps
        print(f"{name:14s} estimated {est.seconds_per_step * 1e3:8.2f} ms   measured {got * 1e3:8.2f} ms   "
              f"ratio {est.seconds_per_step / got:4.2f}   memory {est.bytes / 2**20:6.1f} MB", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
