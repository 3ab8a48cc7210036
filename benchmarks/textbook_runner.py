"""Run ../shared/bench/textbook_gan.py (the tutorials' loop, the yardstick) in this process, unchanged.

We load the file by path and call its own `main()` with a patched argv, capturing the one JSON line it prints,
so the loop that is timed is exactly the file's code, under the same torch thread count as ganlab's loop.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
TEXTBOOK = REPO.parent / "shared" / "bench" / "textbook_gan.py"  # ../shared relative to the repo root


class BenchError(RuntimeError):
    """A benchmark cannot run (missing yardstick file, bad case name); the CLI prints it and exits 2."""


_module: ModuleType | None = None


def load() -> ModuleType:
    """The textbook module (its `build(model, zdim)`, `ring(n)` and `main()`), loaded once."""
    global _module
    if _module is None:
        if not TEXTBOOK.is_file():
            raise BenchError(f"the textbook loop {TEXTBOOK} is missing: the benchmark needs ../shared/bench/"
                             f"textbook_gan.py beside the repository (relative to {REPO})")
        spec = importlib.util.spec_from_file_location("textbook_gan", TEXTBOOK)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _module = mod
    return _module


def steps_per_sec(model: str, steps: int, batch: int, device: str, warmup: int = 20) -> float:
    """Time `textbook_gan.py MODEL --steps STEPS --batch BATCH --device DEVICE` (after `warmup` steps)."""
    mod = load()
    argv = ["textbook_gan.py", model, "--steps", str(steps), "--batch", str(batch), "--device", device,
            "--warmup", str(warmup)]
    out = io.StringIO()
    saved = sys.argv
    try:
        sys.argv = argv
        with contextlib.redirect_stdout(out):
            mod.main()
    finally:
        sys.argv = saved
    line = out.getvalue().strip().splitlines()[-1]
    return float(json.loads(line)["steps_per_sec"])


def param_counts(model: str, zdim: int) -> tuple[int, int]:
    """(G, D) parameter counts of the textbook networks, to check that a ganlab case builds the same shapes."""
    G, D = load().build(model, zdim)
    return sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())
