"""One-off check: does our reference loop time like the tutorials' loop it was written after?

    python -m benchmarks.reference.yardstick_check --textbook PATH/textbook_gan.py [--rounds 5] [--threads 2]

The project's first yardstick was a file outside the repository (textbook_gan.py, beside the checkout on the
development machine). This runs it (loaded by path, its own `main()`) and our reference loop interleaved, in
one process with the same torch thread count, and prints one JSON line per case with the median of the paired
ratios ours / theirs (1.0 = the same speed): of their wall-clock steps/s, and of the process CPU seconds each call
takes (warm-up included, the same for both), which a machine busy with other work disturbs less. Not a test: the
file is not part of the repository.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from benchmarks import bench, reference

THEIR_NAME = {"toy": "toy", "mnist-mlp": "mlp", "dcgan": "dcgan"}  # their CLI's model argument


def _theirs(path: Path):
    spec = importlib.util.spec_from_file_location("textbook_gan", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def steps_per_sec(name: str, steps: int, batch: int, warmup: int) -> float:
        out, saved = io.StringIO(), sys.argv
        sys.argv = ["textbook_gan.py", THEIR_NAME[name], "--steps", str(steps), "--batch", str(batch),
                    "--warmup", str(warmup)]
        try:
            with contextlib.redirect_stdout(out):
                mod.main()
        finally:
            sys.argv = saved
        return float(json.loads(out.getvalue().strip().splitlines()[-1])["steps_per_sec"])

    return steps_per_sec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reference.yardstick_check", description=__doc__)
    p.add_argument("--textbook", type=Path, required=True, help="path of textbook_gan.py")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--cases", default=",".join(reference.CASES))
    a = p.parse_args(argv)
    if not a.textbook.is_file():
        p.error(f"{a.textbook} is not a file")
    theirs = _theirs(a.textbook)
    torch.set_num_threads(a.threads)
    for name in a.cases.split(","):
        case = bench.SPEED_CASES[name]
        ours_r, theirs_r, ours_cpu, theirs_cpu = [], [], [], []
        for r in range(a.rounds):
            for who in ("ours", "theirs") if r % 2 == 0 else ("theirs", "ours"):
                cpu = time.process_time()
                if who == "ours":
                    ours_r.append(reference.steps_per_sec(name, case.steps, case.batch, warmup=case.warmup))
                    ours_cpu.append(time.process_time() - cpu)
                else:
                    theirs_r.append(theirs(name, case.steps, case.batch, case.warmup))
                    theirs_cpu.append(time.process_time() - cpu)
        ratios = [o / t for o, t in zip(ours_r, theirs_r)]
        cpu_ratios = [t / o for o, t in zip(ours_cpu, theirs_cpu)]  # CPU seconds: theirs / ours = speed ours / theirs
        print(json.dumps({"case": name, "threads": a.threads, "rounds": a.rounds,
                          "ours_steps_per_sec": round(statistics.median(ours_r), 1),
                          "theirs_steps_per_sec": round(statistics.median(theirs_r), 1),
                          "ratio": round(statistics.median(ratios), 3),
                          "round_ratios": [round(v, 3) for v in ratios],
                          "cpu_ratio": round(statistics.median(cpu_ratios), 3),
                          "cpu_round_ratios": [round(v, 3) for v in cpu_ratios]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
