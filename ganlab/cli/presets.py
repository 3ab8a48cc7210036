"""`python -m ganlab presets [--markdown]`: every named scenario, one line each (or the README's table)."""
from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    pr = sub.add_parser("presets", help="list presets, one line each")
    pr.add_argument("--markdown", action="store_true", help="a Markdown table (the README's)")
    pr.set_defaults(func=cmd_presets)
    return pr


def cmd_presets(args: argparse.Namespace) -> int:
    from ganlab.presets import PRESETS

    if args.markdown:  # the README's table
        print("| preset | data | model | loss / remedy | steps | lesson |\n|---|---|---|---|---|---|")
        for name, p in PRESETS.items():
            c = p.config
            extras = [f"unrolled {c.unrolled_steps}" * bool(c.unrolled_steps), f"R1 {c.r1_gamma:g}" * bool(c.r1_gamma),
                      f"pack {c.pack}" * (c.pack > 1), f"label {c.real_label:g}" * (c.real_label < 1),
                      "conditional" * c.conditional]
            remedy = " + ".join(["ELBO" if c.is_vae else c.loss] + [e for e in extras if e])
            print(f"| `{name}` | {c.data} | {c.model} | {remedy} | {c.steps} | {p.lesson} |")
        return 0
    width = max(len(n) for n in PRESETS)
    for name, p in PRESETS.items():
        print(f"{name:<{width}}  {p.lesson}")
    return 0
