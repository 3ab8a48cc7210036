"""`python -m ganlab train --preset NAME ...`: train one preset headless, print a summary or one JSON object.

    python -m ganlab train --preset ring-collapse --seed 3 --json --samples-out f.npy
    python -m ganlab train --preset ring-fixed --set loss=lsgan d_lr=2e-4 --steps 500 --out runs/lsgan
    python -m ganlab train --preset ring-collapse --backend ray --json    # the same run in a Ray actor

The JSON object (docs/architecture.md, "CLI"): preset, seed, steps, device, seconds, steps_per_sec, status
(done | diverged | stopped), final (d_loss, g_loss, d_real, d_fake), metrics, and diverged_at for a diverged run.
A VAE (`--preset mnist-vae`) has no D: its final d_loss, g_loss, d_real and d_fake are null, and final adds
recon and kl (-log p(x | z) and KL(q(z | x) || p(z)), nats per image; -ELBO = recon + kl).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.cli.common import Progress, UsageError, clean_json
from ganlab.config import ConfigError, TrainConfig

TOY_METRIC_SAMPLES = 2500  # the toy metrics (modes captured, reverse KL) are defined on K = 2500 samples
MAX_SAMPLES = 100_000


def add_parser(sub) -> argparse.ArgumentParser:
    t = sub.add_parser("train", help="train one preset (optionally changed with --set)")
    t.add_argument("--preset", required=True, help="preset name (see `python -m ganlab presets`)")
    t.add_argument("--seed", type=int, help="overrides the preset's seed")
    t.add_argument("--steps", type=int, help="G steps to train (overrides the preset's budget)")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"])
    t.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE", help="change any TrainConfig field")
    t.add_argument("--out", metavar="DIR", help="write DIR/checkpoint.pt and DIR/config.json")
    t.add_argument("--samples-out", metavar="FILE.npy", help="write K generated samples (float32)")
    t.add_argument("--n-samples", type=int, default=2500, metavar="K", help="samples to write (default 2500)")
    t.add_argument("--labels-out", metavar="FILE.npy", help="conditional models: class of each sample (int64)")
    t.add_argument("--json", action="store_true", help="print one JSON object on stdout at the end")
    t.add_argument("--history-out", metavar="FILE.csv", help="write the logged metric history as CSV")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--data-dir", metavar="DIR",
                   help="folder of the torchvision datasets (mnist-full, fashion-mnist, cifar10); default: "
                        "GANLAB_DATA, else ~/.ganlab/data (the local backend)")
    t.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (0 = torch's default; default: 1 for 2-D toy data, else torch's)")
    t.add_argument("--backend", choices=["local", "ray"], default=None,
                   help="train in this process (local) or in a Ray actor (ray: RAY_ADDRESS, else a local Ray; "
                        "pip install -r requirements-ray.txt); default: GANLAB_BACKEND, else local")
    t.set_defaults(func=cmd_train)
    return t


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set key=value ...` as {key: value} (values stay strings: TrainConfig.replace parses them)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value
    return out


def build_config(args: argparse.Namespace) -> tuple[str, TrainConfig]:
    from ganlab import presets

    try:
        preset = presets.get(args.preset)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    changes: dict[str, Any] = parse_sets(args.set or [])
    for name in ("seed", "steps", "device"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return preset.name, preset.config.replace(**changes)  # ConfigError on anything invalid


def check_outputs(args: argparse.Namespace, config: TrainConfig) -> None:
    """Refuse bad output options before spending minutes on training."""
    if args.threads is not None and args.threads < 0:
        raise UsageError(f"--threads must be 0 (torch's default) or more, got {args.threads}")
    if not 1 <= args.n_samples <= MAX_SAMPLES:
        raise UsageError(f"--n-samples must be between 1 and {MAX_SAMPLES}, got {args.n_samples}")
    if args.labels_out and not config.conditional:
        raise UsageError("--labels-out needs a conditional model (e.g. --preset mnist-cgan or --set conditional=true)")
    for opt in ("samples_out", "labels_out", "history_out"):
        path = getattr(args, opt)
        if path and not Path(path).resolve().parent.is_dir():
            raise UsageError(f"--{opt.replace('_', '-')}: folder {str(Path(path).parent)!r} does not exist")
    if args.out:
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--out: cannot create {args.out!r}: {e.strerror}") from None


def train_loop(trainer, total: int, progress: Progress) -> str:
    """Advance `trainer` to `total` G steps in log_every chunks; returns done | diverged | stopped."""
    chunk = trainer.config.log_every
    try:
        while trainer.step_count < total and trainer.status != "diverged":
            row = trainer.step(min(chunk, total - trainer.step_count))
            progress.update(trainer.step_count, row)
    except KeyboardInterrupt:
        return "stopped"
    finally:
        progress.close()
        if trainer.status != "diverged":
            trainer.flush()
    return "diverged" if trainer.status == "diverged" else "done"


def run_metrics(trainer, n: int) -> tuple[dict[str, Any], Any, Any]:
    """(metrics, samples (K, ...) float32 numpy, labels (K,) int64 numpy or None), K = n.

    Toy mixtures: mode_stats on 2500 samples (a diverged G's NaN samples count as low quality). Images: the
    quality summary, skipped for a diverged run (its samples are NaN).
    """
    if trainer.data.centers is not None:
        from ganlab.metrics import mode_stats

        x, _ = trainer.sample(max(n, TOY_METRIC_SAMPLES))
        x = x.float().cpu().numpy()
        metrics = mode_stats(x[:TOY_METRIC_SAMPLES], trainer.data.centers, trainer.data.std)
        return metrics, x[:n], None
    x, labels = trainer.sample(n)
    samples = x.float().cpu().numpy()
    labels = None if labels is None else labels.cpu().numpy().astype(np.int64)
    if not trainer.data.is_toy and trainer.status != "diverged":
        try:
            from ganlab.quality import summary_metrics
        except ImportError as e:
            print(f"note: image metrics unavailable ({e})", file=sys.stderr)
            return {}, samples, labels
        return summary_metrics(trainer, n) or {}, samples, labels
    return {}, samples, labels  # toy data without centres (spiral, moons, csv): no mode metrics


def save_outputs(args: argparse.Namespace, trainer, samples, labels) -> None:
    if args.samples_out:
        np.save(args.samples_out, samples.astype(np.float32))
    if args.labels_out and labels is not None:
        np.save(args.labels_out, labels.astype(np.int64))
    if args.history_out:  # the logged curves (losses, D(x), D(G(z)), coverage or FID) as CSV
        h = trainer.history.arrays()
        np.savetxt(args.history_out, np.stack(list(h.values()), 1), delimiter=",", header=",".join(h),
                   comments="", fmt="%.6g")
    if args.out:
        out = Path(args.out)
        (out / "config.json").write_text(trainer.config.to_json() + "\n")
        try:
            from ganlab.checkpoint import save
        except ImportError as e:
            print(f"warning: checkpoint not written ({e}); config.json only", file=sys.stderr)
            return
        save(trainer, out / "checkpoint.pt")


def final_row(last: dict[str, float], config: TrainConfig) -> dict[str, Any]:
    """The last logged losses: d_loss, g_loss, d_real, d_fake (null for a VAE), and a VAE's recon and kl."""
    keys = ("d_loss", "g_loss", "d_real", "d_fake") + (("recon", "kl") if config.is_vae else ())
    return {k: last.get(k) for k in keys}


def train_here(config: TrainConfig, quiet: bool, data_dir: str | None = None):
    """The run in this process: (trainer, status, training seconds)."""
    import torch

    from ganlab.engine.factory import make_trainer

    try:
        trainer = make_trainer(config, data_dir=data_dir)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    if trainer.data.x.dim() == 4:  # images: live quality columns (FID, classes present) in the history
        from ganlab import quality

        quality.attach(trainer)
    if trainer.data.note and not quiet:
        print(f"note: {trainer.data.note}", file=sys.stderr)
    progress = Progress(config.steps, enabled=not quiet)
    t0 = time.perf_counter()
    status = train_loop(trainer, config.steps, progress)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return trainer, status, time.perf_counter() - t0


class TrainingFailed(RuntimeError):
    """The run raised inside its Ray actor (the message is the job's error)."""


def train_on_ray(config: TrainConfig, threads: int, quiet: bool):
    """The same run as a job of the Ray backend (ganlab/jobs/ray_backend/): built from a RunSpec in a Ray actor
    on a whole CPU (RAY_ADDRESS, else a local Ray), followed through the job interface, then copied back from
    its final checkpoint. Returns (the local copy, status, seconds from the job's first report of training
    to its end, as seen here: within a poll interval of the actor's own)."""
    from ganlab.jobs.ray_backend.manager import RayJobManager
    from ganlab.jobs.spec import RunSpec
    from ganlab.jobs.status import Status

    # stacking off: the run has an actor of its own, trains alone, and its final checkpoint is the run copied back
    manager = RayJobManager(shared=False, run_cpus=1, threads=threads or None, spares=0, stacking=False)
    progress = Progress(config.steps, enabled=not quiet)
    try:
        job = manager.submit("cli", RunSpec((config,)), label="cli")
        submitted, started = time.perf_counter(), None
        try:
            while not job.join(0.2):
                if started is None and job.status == Status.RUNNING:
                    started = time.perf_counter()
                for (step, _), snap in zip(job.progress(), job.snapshots()):
                    progress.update(step, {k: float(v[-1]) for k, v in snap.history.items() if len(v)})
        except KeyboardInterrupt:
            job.stop()
            job.join(60)
        finally:
            progress.close()
        seconds = time.perf_counter() - (started or submitted)
        if job.status == Status.ERROR:
            raise TrainingFailed(job.error or "the run failed in its Ray actor")
        trainer = job.runners[0].trainer_copy(config.device) if job.runners else None
        if trainer is None:
            raise TrainingFailed("the run stopped before its first checkpoint")
    finally:
        manager.shutdown()
    status = str(job.status) if job.status in (Status.DONE, Status.DIVERGED) else "stopped"
    return trainer, status, seconds


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from ganlab.jobs import backend

    name, config = build_config(args)
    check_outputs(args, config)
    threads = args.threads
    if threads is None:  # 2-D toy nets gain little from a 2nd thread and slow down a lot when a core is busy
        threads = 1 if config.is_toy else 0
    if (args.backend or backend()) == "ray":
        try:
            trainer, status, seconds = train_on_ray(config, threads, args.quiet)
        except TrainingFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    else:
        if threads:
            torch.set_num_threads(threads)
        trainer, status, seconds = train_here(config, args.quiet, getattr(args, "data_dir", None))
    metrics, samples, labels = run_metrics(trainer, args.n_samples)
    save_outputs(args, trainer, samples, labels)
    last = trainer.history.last()
    result: dict[str, Any] = {
        "preset": name, "seed": config.seed, "steps": trainer.step_count, "device": trainer.device.type,
        "seconds": round(seconds, 3), "steps_per_sec": round(trainer.step_count / max(seconds, 1e-9), 2),
        "status": status, "final": final_row(last, config),
        "metrics": metrics,
    }
    if status == "diverged":
        result["diverged_at"] = trainer.diverged_at
    result = clean_json(result)
    if args.json:
        print(json.dumps(result))
    else:
        shown = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in result["metrics"].items()
                          if isinstance(v, (int, float)))
        print(f"{name}: {status} after {result['steps']} steps in {result['seconds']:.1f} s "
              f"({result['steps_per_sec']:.0f} steps/s on {result['device']})" + (f"; {shown}" if shown else ""))
    return 0
