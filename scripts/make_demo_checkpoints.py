"""Train the bundled demo runs and save them to assets/ (so the latent page works before anyone trains).

    python scripts/make_demo_checkpoints.py                       # the three demos, their default budgets
    python scripts/make_demo_checkpoints.py mnist-cgan --threads 2

For each preset (default: mnist-dcgan, mnist-cgan, mnist-vae) it trains `ganlab.presets.get(name).config` with the
quality evaluator attached (the history holds the FID curve), and writes `assets/demo-<name>.pt` with
`ganlab.checkpoint.save(trainer, path, optimizers=False, average_only=True)`: G's weight average (what the
preset's grids show) as the generator, D's weights, config and history; no Adam moments and no second copy of
G (each would add ~3 MB; a demo is for sampling, and resuming it just restarts Adam and the average). The file
is then reloaded with `ganlab.checkpoint.load` as a check, and must stay under MAX_BYTES (5 MB).
Seeds are the presets' own, so a rerun on the same machine and torch version gives the same weights.
Run the presets one at a time on a shared machine: each takes minutes on a CPU.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ganlab import checkpoint, quality  # noqa: E402
from ganlab.engine.factory import make_trainer  # noqa: E402
from ganlab.presets import get  # noqa: E402

DEFAULT = ("mnist-dcgan", "mnist-cgan", "mnist-vae")
MAX_BYTES = 5 * 2**20


def make(name: str, out_dir: Path, steps: int | None = None, device: str = "cpu") -> dict:
    config = get(name).config
    config = config.replace(device=device, **({"steps": steps} if steps else {}))
    trainer = make_trainer(config)
    quality.attach(trainer)
    t0 = time.perf_counter()
    while trainer.step_count < config.steps and trainer.status == "ready":
        trainer.step(min(config.log_every, config.steps - trainer.step_count))
        print(f"\r{name}: step {trainer.step_count}/{config.steps}", end="", file=sys.stderr, flush=True)
    trainer.flush()
    print(file=sys.stderr)
    if trainer.status != "ready":
        raise SystemExit(f"{name} diverged at step {trainer.diverged_at}; not saving")
    path = out_dir / f"demo-{name}.pt"
    checkpoint.save(trainer, path, optimizers=False, average_only=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size / 2**20:.1f} MB, over the 5 MB limit for bundled demos")
    run = checkpoint.load(path)  # the same checks an upload gets
    G = run.make_generator()
    assert G(torch.zeros(2, config.z_dim), torch.arange(2) if config.conditional else None).shape[1:] \
        == trainer.data.sample_shape
    metrics = quality.summary_metrics(trainer) or {}
    return {"preset": name, "path": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
            "bytes": size, "steps": trainer.step_count, "seconds": round(time.perf_counter() - t0, 1),
            "fid": round(metrics.get("fid", float("nan")), 3),
            "classes_present": metrics.get("classes_present"),
            "class_hist": [round(v, 3) for v in metrics.get("class_hist", [])],
            "cond_accuracy": metrics.get("cond_accuracy"),
            "cond_per_class": [None if v is None else round(v, 3) for v in metrics.get("cond_per_class", [])]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("presets", nargs="*", default=list(DEFAULT), help="preset names (default: %(default)s)")
    p.add_argument("--out", type=Path, default=ROOT / "assets", help="folder for demo-<preset>.pt")
    p.add_argument("--steps", type=int, default=None, help="override the presets' step budget")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 on a shared machine)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    for name in a.presets:
        print(json.dumps(make(name, a.out, a.steps, a.device)), flush=True)


if __name__ == "__main__":
    main()
