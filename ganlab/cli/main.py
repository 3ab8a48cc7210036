"""`python -m ganlab ...`: every experiment the app runs, headless (DESIGN section 3).

    python -m ganlab presets
    python -m ganlab train --preset ring-collapse --seed 3 --json --samples-out f.npy
    python -m ganlab bench --json
    python -m ganlab latent run.pt interpolate --seeds 0 1 --out path.gif   (see ganlab/latent_cli.py)

Exit codes: 0 done (also for `diverged` / `stopped` runs: the JSON says which), 2 bad arguments or values
(one line on stderr, no traceback).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.config import ConfigError, TrainConfig

TOY_METRIC_SAMPLES = 2500  # DESIGN section 3: toy metrics are defined on K = 2500 samples
MAX_SAMPLES = 100_000


class UsageError(Exception):
    """A bad argument found after parsing; main() prints it as one line and exits 2."""


# ---- small helpers ----------------------------------------------------------------------------------------
def _clean(v: Any) -> Any:
    """JSON-safe: numpy scalars/arrays to Python, NaN/inf to null."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value
    return out


class Progress:
    """A tiny progress bar on stderr, redrawn once per logging interval (never inside the hot loop)."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self._last_decile = -1

    def update(self, done: int, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        frac = min(done / max(self.total, 1), 1.0)
        if not self.tty:  # logs and pipes: one line per 10 %
            decile = int(frac * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        bar = "#" * int(frac * 24) + "." * (24 - int(frac * 24))
        losses = " ".join(f"{k} {row[k]:.3f}" for k in ("d_loss", "g_loss") if k in row)
        line = f"[{bar}] {done}/{self.total} steps {rate:6.1f}/s {losses}"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ---- train --------------------------------------------------------------------------------------------------
def build_config(args: argparse.Namespace) -> tuple[str, TrainConfig]:
    from ganlab import presets

    try:
        preset = presets.get(args.preset)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    changes: dict[str, Any] = _parse_sets(args.set or [])
    for name in ("seed", "steps", "device"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return preset.name, preset.config.replace(**changes)  # ConfigError on anything invalid


def _check_outputs(args: argparse.Namespace, config: TrainConfig) -> None:
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


def _save_outputs(args: argparse.Namespace, trainer, samples, labels) -> None:
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


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from ganlab.engine.trainer import Trainer

    name, config = build_config(args)
    _check_outputs(args, config)
    threads = args.threads
    if threads is None:  # 2-D toy nets gain little from a 2nd thread and lose 5-10x when a core is busy
        threads = 1 if config.is_toy else 0
    if threads:
        torch.set_num_threads(threads)
    try:
        trainer = Trainer(config)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    if trainer.data.x.dim() == 4:  # images: live quality columns (FID, classes present) in the history
        from ganlab import quality

        quality.attach(trainer)
    if trainer.data.note and not args.quiet:
        print(f"note: {trainer.data.note}", file=sys.stderr)
    progress = Progress(config.steps, enabled=not args.quiet)
    t0 = time.perf_counter()
    status = train_loop(trainer, config.steps, progress)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    metrics, samples, labels = run_metrics(trainer, args.n_samples)
    _save_outputs(args, trainer, samples, labels)
    last = trainer.history.last()
    result: dict[str, Any] = {
        "preset": name, "seed": config.seed, "steps": trainer.step_count, "device": trainer.device.type,
        "seconds": round(seconds, 3), "steps_per_sec": round(trainer.step_count / max(seconds, 1e-9), 2),
        "status": status, "final": {k: last.get(k) for k in ("d_loss", "g_loss", "d_real", "d_fake")},
        "metrics": metrics,
    }
    if status == "diverged":
        result["diverged_at"] = trainer.diverged_at
    result = _clean(result)
    if args.json:
        print(json.dumps(result))
    else:
        shown = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in result["metrics"].items()
                          if isinstance(v, (int, float)))
        print(f"{name}: {status} after {result['steps']} steps in {result['seconds']:.1f} s "
              f"({result['steps_per_sec']:.0f} steps/s on {result['device']})" + (f"; {shown}" if shown else ""))
    return 0


# ---- presets, bench -----------------------------------------------------------------------------------------
def cmd_presets(args: argparse.Namespace) -> int:
    from ganlab.presets import PRESETS

    if args.markdown:  # the README's table
        print("| preset | data | model | loss / remedy | steps | lesson |\n|---|---|---|---|---|---|")
        for name, p in PRESETS.items():
            c = p.config
            extras = [f"unrolled {c.unrolled_steps}" * bool(c.unrolled_steps), f"R1 {c.r1_gamma:g}" * bool(c.r1_gamma),
                      f"pack {c.pack}" * (c.pack > 1), f"label {c.real_label:g}" * (c.real_label < 1),
                      "conditional" * c.conditional]
            remedy = " + ".join([c.loss] + [e for e in extras if e])
            print(f"| `{name}` | {c.data} | {c.model} | {remedy} | {c.steps} | {p.lesson} |")
        return 0
    width = max(len(n) for n in PRESETS)
    for name, p in PRESETS.items():
        print(f"{name:<{width}}  {p.lesson}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Runs benchmarks/bench.py from the checkout (it needs ../shared/bench/textbook_gan.py beside the repo)."""
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


# ---- argument parsing ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganlab", description="ganlab: train and inspect small GANs headless.")
    sub = p.add_subparsers(dest="command", required=True)

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
    t.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (0 = torch's default; default: 1 for 2-D toy data, else torch's)")
    t.set_defaults(func=cmd_train)

    pr = sub.add_parser("presets", help="list presets, one line each")
    pr.add_argument("--markdown", action="store_true", help="a Markdown table (the README's)")
    pr.set_defaults(func=cmd_presets)

    b = sub.add_parser("bench", help="ganlab vs the textbook loop, interleaved in one process")
    b.add_argument("--json", action="store_true", help="print a JSON list on stdout")
    b.add_argument("--cases", default=None, help="comma list (default: all available): toy,mnist-mlp,dcgan")
    b.add_argument("--steps", type=int, default=None, help="timed steps per round for every case")
    b.add_argument("--rounds", type=int, default=3, help="interleaved rounds per case; the median is reported")
    b.add_argument("--threads", default=None, help="comma list of torch thread counts (default: toy 1 and all)")
    b.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    b.add_argument("--out", metavar="FILE.json", help="also write the JSON list to FILE")
    b.set_defaults(func=cmd_bench)

    from ganlab.cli.latent import add_parser as add_latent  # `latent CHECKPOINT interpolate|sweep|grid|...`

    add_latent(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse exits 2 with its own one-line reason
    try:
        return args.func(args)
    except (UsageError, ConfigError) as e:
        print("error: " + " ".join(str(e).split()), file=sys.stderr)  # one line, no traceback
        return 2
    except KeyboardInterrupt:  # outside the training loop (which reports `stopped` itself)
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python -m ganlab presets | head`: the reader left; exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
