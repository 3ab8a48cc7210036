"""`python -m benchmarks.reference CASE [--steps N] [--batch B] [--warmup W] [--device D]`: one JSON line."""
from __future__ import annotations

import argparse
import json

from benchmarks.reference import CASES, case, loop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reference", description=__doc__)
    p.add_argument("case", choices=list(CASES))
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    out = loop.train(case(a.case), steps=a.steps, batch=a.batch, device=a.device, warmup=a.warmup)
    out.pop("losses")
    out["steps_per_sec"] = round(out["steps_per_sec"], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
