"""`python -m ganlab ...`: every experiment the app runs, headless (docs/architecture.md, "CLI").

    python -m ganlab presets
    python -m ganlab train --preset ring-collapse --seed 3 --json --samples-out f.npy
    python -m ganlab bench --json
    python -m ganlab latent run.pt interpolate --seeds 0 1 --out path.gif
    python -m ganlab theory --loss minimax --steps 2000 --d-optimum 500 --json
    python -m ganlab lessons --steps
    python -m ganlab runs --csv

One module per subcommand (ganlab/cli/<name>.py with `add_parser(sub)` and its command function); this one only
assembles the parser and owns the exit codes. Exit codes: 0 done (also for `diverged` / `stopped` runs: the JSON
says which), 2 bad arguments or values (`error: <one line>` on stderr, no traceback), 130 interrupted.
The subcommand modules import ganlab.cli.common, never this module, so the package has no import cycle.
"""
from __future__ import annotations

import argparse
import os
import sys

from ganlab.cli import bench, latent, lessons, presets, runs, theory, train
from ganlab.cli.common import USER_ERRORS, error_line

SUBCOMMANDS = (train, presets, bench, latent, theory, lessons, runs)  # the order `--help` lists them in


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganlab", description="ganlab: train and inspect small GANs headless.")
    sub = p.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse exits 2 with its own one-line reason
    try:
        return args.func(args)
    except USER_ERRORS as e:
        print(error_line(e), file=sys.stderr)  # one line, no traceback
        return 2
    except KeyboardInterrupt:  # outside the training loop (which reports `stopped` itself)
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python -m ganlab presets | head`: the reader left; exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
