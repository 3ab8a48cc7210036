"""Headless theory runs: `python -m ganlab theory [--data NAME | --means ... --stds ... --weights ...] ...`.

Trains the 1-D GAN for --steps G steps, optionally freezes G and trains D for --d-optimum steps, and prints
the paper's numbers: V(D, G), V(D*, G), JSD, -log 4 + 2 JSD, |V(D*, G) - (-log 4 + 2 JSD)|, max |D - D*|.
Bad arguments exit 2 with a one-line reason (the same ConfigError messages as the page).
`python -m ganlab.theory ...` is an alias of `python -m ganlab theory ...`.
"""
from __future__ import annotations

import argparse
import json

from ganlab.config import ConfigError
from ganlab.theory.config import DATA_PRESETS, LOSS_KEYS, TheoryConfig, parse_floats


def add_parser(sub) -> argparse.ArgumentParser:
    ap = sub.add_parser("theory", help="the 1-D game headless: V(D, G), JSD and D vs D*",
                        description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="gaussian", choices=sorted(DATA_PRESETS))
    ap.add_argument("--means", help="custom mixture, e.g. '-2, 2' (overrides --data)")
    ap.add_argument("--stds", default="0.5")
    ap.add_argument("--weights", default="1")
    ap.add_argument("--loss", default="non_saturating", choices=LOSS_KEYS)
    ap.add_argument("--steps", type=int, default=1000, help="G steps")
    ap.add_argument("--d-optimum", type=int, default=0, help="then freeze G and train D alone for this many steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--g-lr", type=float, default=1e-3)
    ap.add_argument("--d-lr", type=float, default=1e-3)
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.set_defaults(func=cmd_theory)
    return ap


def build_config(a: argparse.Namespace) -> TheoryConfig:
    """The TheoryConfig the options describe; ConfigError (one line, exit 2) on anything invalid."""
    kw = dict(loss=a.loss, seed=a.seed, g_lr=a.g_lr, d_lr=a.d_lr, steps=max(a.steps, 1))
    if a.means is not None:
        config = TheoryConfig(means=parse_floats(a.means, "means"), stds=parse_floats(a.stds, "stds"),
                              weights=parse_floats(a.weights, "weights"), **kw)
    else:
        config = TheoryConfig.from_preset(a.data, **kw)
    if a.steps < 0 or a.d_optimum < 0:
        raise ConfigError("--steps and --d-optimum must be >= 0")
    return config


def _numbers(s) -> dict:
    return {"step": s.step, "d_only_steps": s.d_only_steps, "status": s.status, "v_d": s.v_d, "v_star": s.v_star,
            "jsd": s.jsd, "identity": s.identity, "identity_error": abs(s.v_star - s.identity),
            "max_d_error": s.max_d_error, "mass_out": s.mass_out}


def cmd_theory(a: argparse.Namespace) -> int:
    config = build_config(a)
    import torch

    from ganlab.theory.trainer import Theory1D

    torch.set_num_threads(1)
    r = Theory1D(config)
    r.step(a.steps)
    r.flush()
    out = {"trained": _numbers(r.snapshot())}
    if a.d_optimum:
        r.train_d_to_optimum(a.d_optimum)
        out["d_optimum"] = _numbers(r.snapshot())
    if a.json:
        print(json.dumps(out))
    else:
        for phase, nums in out.items():
            print(phase + ": " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                            for k, v in nums.items()))
    return 0
