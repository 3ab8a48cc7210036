"""How many G steps each image preset needs before its samples show digits: the data behind the Image GAN
page's "about N minutes to the first digits" (ganlab/jobs/cost/eta.py, DIGITS_AT).

    python -m benchmarks.digits_at [--presets mnist-mlp,mnist-dcgan] [--seed 0] [--every 100] [--threads 1]

Trains each preset (its own config, seed S) and every `every` G steps scores 1,000 samples from fixed noise
with the project's digit judge (ganlab.quality: the same samples the page's live scores use); prints one JSON
line per preset with the first step at which at least 4 and at least 8 digit classes each hold >= 5 % of the
samples (ganlab.quality.classes_present), stopping at 8 or at the preset's budget.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from ganlab import quality
from ganlab.engine.factory import make_trainer
from ganlab.presets import PRESETS


def first_digits(preset: str, seed: int, every: int, n: int = 1000) -> dict:
    config = PRESETS[preset].config.replace(seed=seed, device="cpu")
    trainer = make_trainer(config)
    trainer.evaluators.clear()  # scored here, on our own schedule
    found: dict[int, int | None] = {4: None, 8: None}
    trace = []
    t0 = time.perf_counter()
    try:
        while trainer.step_count < config.steps and found[8] is None:
            trainer.step(min(every, config.steps - trainer.step_count))
            x, labels = trainer.sample(n, seed=quality.EVAL_SEED)
            present = quality.scores(x, labels)["classes_present"]
            trace.append((trainer.step_count, present))
            for k in found:
                if found[k] is None and present >= k:
                    found[k] = trainer.step_count
    finally:
        trainer.release()
    return {"preset": preset, "seed": seed, "every": every, "classes_4_at": found[4], "classes_8_at": found[8],
            "budget": config.steps, "seconds": round(time.perf_counter() - t0, 1), "trace": trace}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.digits_at", description=__doc__)
    p.add_argument("--presets", default=",".join(n for n, pr in PRESETS.items() if not pr.config.is_toy))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    for name in a.presets.split(","):
        print(json.dumps(first_digits(name, a.seed, a.every)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
