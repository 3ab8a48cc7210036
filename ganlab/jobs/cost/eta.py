"""How long a run takes at its share of this server: the Image GAN page's "about N minutes to the first digits".

A run's speed: the pool shares the workers' time equally between the runs training (ganlab/jobs/pool.py), so
with R runs on W workers one run gets min(1, W / R) of a worker, and steps/s = that share / seconds per step
(the cost model's calibrated CPU seconds of one worker, model.estimate), times SHARED_EFFICIENCY when R > W
(slices' bookkeeping, the pages' reruns beside the training threads; STACKED_EFFICIENCY for a run the class
engine stacks in the training process, which loses less). Once the run trains, the rate its
counter actually moves at replaces the model (the page passes it in). Toy runs stacked by the class engine cost
less than this count says, so in a mixed class the estimate errs on the slow side.

How far a run must go: DIGITS_AT, per preset, the G steps after which the project's digit judge
(ganlab.quality) finds at least DIGIT_CLASSES digit classes in its samples from fixed noise, each on >= 5 % of
them: measured with `python -m benchmarks.digits_at --seed 0` (README, "Running a class"). A setup changed from
its preset (anything but the seed, budget, device or logging) has no such number: it gets the time for its
budget instead.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ganlab.config import TrainConfig
from ganlab.jobs.cost.model import Speed, estimate
from ganlab.jobs.placement import stackable

DIGIT_CLASSES = 8
# preset -> G steps until >= 8 digit classes (seed 0, 1,000 samples scored every 100 steps; 2026-12-07, CPU):
# mnist-mlp 1 class until step 200, 4 at 400, 10 at 1000; mnist-dcgan 4 at 100, 6 at 400, 8 at 500
DIGITS_AT: dict[str, int] = {
    "mnist-mlp": 1000,
    "mnist-dcgan": 500,
}
# fields that do not change what a run learns by a given step: a setup that differs from its preset only in
# these still gets the preset's DIGITS_AT
_IRRELEVANT = ("seed", "steps", "device", "log_every", "g_ema")
# Measured with 30 students on mnist-mlp on the 2-core machine (2026-12-07, the page's live counters): 351 G steps
# each in the first minute, where share / seconds per step (1/15 / 6.6 ms) predicts 606: 0.58 -- each run in the
# server's threads. Since mnist-mlp trains stacked in the training process (2026-12-08): 535 and 475, 0.8.
SHARED_EFFICIENCY = 0.6
STACKED_EFFICIENCY = 0.8  # a single run the class engine stacks (ganlab/jobs/placement.py stackable)
LIGHT_PRESET = "mnist-mlp"  # the lighter image preset a page offers when the chosen one is slow in a full class
SLOW_S = 180.0  # longer than this to the first digits: the page says so and offers the lighter preset and the demo


@dataclass(frozen=True)
class Eta:
    steps_per_s: float  # this run's expected (or measured) G steps per second
    runs: int  # runs training on this server, this one included
    measured: bool  # steps_per_s is the run's own rate, not the cost model's
    digits_step: int | None  # G steps to the first digits (None: not measured for this setup)
    to_digits_s: float | None  # seconds until then from `step` (None: unknown, or already past it)
    to_end_s: float  # seconds until the budget is spent from `step`

    @property
    def slow(self) -> bool:
        return self.to_digits_s is not None and self.to_digits_s > SLOW_S


def share(runs: int, workers: int) -> float:
    """The part of one worker's time each of `runs` training runs gets from `workers` worker threads."""
    return min(1.0, max(1, workers) / max(1, runs))


def useful_share(runs: int, workers: int, stacked: bool = False) -> float:
    """share(), less what sharing costs when the runs outnumber the workers (SHARED_EFFICIENCY; a run the class
    engine stacks with others loses less: STACKED_EFFICIENCY)."""
    lost = STACKED_EFFICIENCY if stacked else SHARED_EFFICIENCY
    return share(runs, workers) * (lost if runs > max(1, workers) else 1.0)


def digits_step(preset: str, config: TrainConfig) -> int | None:
    """DIGITS_AT[preset] when `config` is that preset's setup (up to _IRRELEVANT fields), else None."""
    from ganlab.presets import PRESETS

    if preset not in DIGITS_AT or preset not in PRESETS:
        return None
    base = PRESETS[preset].config
    same = dataclasses.replace(config, **{f: getattr(base, f) for f in _IRRELEVANT})
    return DIGITS_AT[preset] if same == base else None


def eta(configs: TrainConfig | list[TrainConfig], preset: str, runs: int, workers: int, step: int = 0,
        rate: float | None = None, speed: Speed | None = None) -> Eta:
    """The Eta of a job (run A, or runs A and B that advance together) at G step `step`, with `runs` runs
    training on `workers` workers (this job included). `rate`: the job's measured steps/s, if it has one."""
    configs = [configs] if isinstance(configs, TrainConfig) else list(configs)
    if rate is not None and rate > 0:
        per_s, measured = rate, True
    else:
        stacked = len(configs) == 1 and stackable(configs[0])
        per_s, measured = useful_share(runs, workers, stacked) / estimate(configs, speed).seconds_per_step, False
    at = digits_step(preset, configs[0])
    to_digits = (at - step) / per_s if at is not None and step < at else None
    budget = configs[0].steps
    return Eta(per_s, runs, measured, at, to_digits, max(0, budget - step) / per_s)


def runs_on(stats: dict, starting: bool) -> int:
    """Runs training on the server by the job manager's `stats()`, counting a job about to start."""
    return int(stats.get("running", 0)) + (1 if starting else 0)


def minutes(seconds: float) -> float:
    """Seconds as the nearest whole minutes for a message, at least 1."""
    return max(1.0, math.floor(seconds / 60.0 + 0.5))
