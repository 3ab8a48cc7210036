"""`python -m ganlab bench`: runs benchmarks/bench.py from the checkout (the cases and how to add one are there).

It needs the checkout (benchmarks/ is not part of the installed package); the yardstick every speed ratio is
measured against, the tutorials' loop, is in it (benchmarks/reference/), so any clone can run the benchmark.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganlab.cli.common import UsageError


def add_parser(sub) -> argparse.ArgumentParser:
    b = sub.add_parser("bench", help="ganlab vs the tutorials' reference loop, interleaved in one process")
    b.add_argument("--json", action="store_true", help="print a JSON list on stdout")
    b.add_argument("--cases", default=None, help="comma list (default: all available): toy,mnist-mlp,dcgan")
    b.add_argument("--steps", type=int, default=None, help="timed steps per round for every case")
    b.add_argument("--rounds", type=int, default=3, help="interleaved rounds per case; the median is reported")
    b.add_argument("--threads", default=None, help="comma list of torch thread counts (default: toy 1 and all)")
    b.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    b.add_argument("--out", metavar="FILE.json", help="also write the JSON list to FILE")
    b.set_defaults(func=cmd_bench)
    return b


def cmd_bench(args: argparse.Namespace) -> int:
    repo = Path(__file__).resolve().parents[2]
    if not (repo / "benchmarks" / "bench.py").is_file():
        raise UsageError(f"benchmarks/bench.py not found under {repo}: run bench from a ganlab checkout")
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from benchmarks import bench

    try:
        return bench.main(args)
    except bench.BenchError as e:
        raise UsageError(str(e)) from None
