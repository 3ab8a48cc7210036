"""The class limits on one student's run, checked by the server's admission (JobManager.submit) with the
estimates of ganlab/jobs/cost/model.py; a refusal names the fields to lower. The CLI, the training process and
Ray actors make managers without limits. README "Running a class".
"""
from __future__ import annotations

import math
import os
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ganlab.config import TrainConfig
from ganlab.i18n import N_, _
from ganlab.jobs.cost.model import Cost, calibrate, estimate

# The default class limit on one run's CPU seconds per G step (toy and 1-D runs). Reasoning: a full class is ~30
# runs on a 2-core server (2 workers), and shares are by time, so each run gets at least 2 / 30 = 0.067
# worker-seconds every second; a student's counter moves once a second only if one step fits in that share.
# The slices also carry each run's commands and snapshots (~20 % under a full class), which leaves 0.05 s per
# step. The toy presets cost 2-4 ms; an unrolled D of 5 steps on ring-collapse's networks about 25 ms.
STEP_LIMIT_S = 0.05
# Image runs (the Image GAN page): the tutorials' networks cost 0.06-0.3 s a step on such a CPU (mnist-wgan:
# five critic steps of a DCGAN per G step), so their limit is 0.5 s: a step holds a worker at most that long,
# so commands (applied between steps) still land within a second and classmates' turns wait at most that.
# Their own counters move with their time share (a class of 30 image runs: about every 5 s). Whichever is
# higher of this and the class limit applies, so a teacher who raises the class limit raises both.
IMAGE_STEP_LIMIT_S = 0.5
# Peak memory of one run (weights, optimiser state, activations of a step, its copy of the data): 1 GiB keeps
# 15 image runs within a 16 GB server; a DCGAN of width 256 at batch 4096 would need ~19 GB.
MEMORY_LIMIT_MB = 1024
STEP_LIMIT_ENV = "GANLAB_CLASS_STEP_LIMIT_S"  # seconds; 0 = no limit
IMAGE_STEP_LIMIT_ENV = "GANLAB_CLASS_IMAGE_STEP_LIMIT_S"
MEMORY_LIMIT_ENV = "GANLAB_CLASS_MEMORY_LIMIT_MB"


# ---- class limits -------------------------------------------------------------------------------------------
# field -> its widget's label (the words the student saw), for "lower ..." in a refusal
LABELS = {"g_width": N_("G width"), "g_depth": N_("G depth"), "d_width": N_("D width"), "d_depth": N_("D depth"),
          "g_widths": N_("MLP G layers"), "d_widths": N_("MLP D layers"), "batch_size": N_("Batch size"),
          "d_steps": N_("D steps per G step"), "unrolled_steps": N_("Unrolled D steps"), "z_dim": N_("z dimension"),
          "dcgan_width": N_("DCGAN width"), "r1_gamma": N_("R1 γ"), "kde_samples": N_("KDE samples"),
          "grid_n": N_("Grid points")}


def _lowered(config, name: str):
    """config with field `name` at its default when that is lower (None when it is not, or not a field)."""
    default = type(config)()
    if not hasattr(config, name):
        return None
    v, d = getattr(config, name), getattr(default, name)
    if name.endswith("_widths"):
        if not v:
            return None
    elif not (isinstance(v, (int, float)) and v > d):
        return None
    try:
        return config.replace(**{name: d})
    except ValueError:
        return None


def costly_fields(configs: Sequence, key: Callable[[Cost], float]) -> list[str]:
    """The fields whose lowering (to the default) cuts `key(cost)` the most: those that cut >= 15 %, else the
    best one, most effective first."""
    speed = calibrate()
    base = key(estimate(configs, speed))
    cuts = []
    for name in LABELS:
        lowered = [_lowered(c, name) for c in configs]
        if all(x is None for x in lowered):
            continue
        cheaper = [x if x is not None else c for x, c in zip(lowered, configs)]
        try:
            cuts.append((base - key(estimate(cheaper, speed)), name))
        except Exception:  # noqa: BLE001 - a lowered setup the model cannot price is not offered; the refusal stands
            continue
    cuts.sort(reverse=True)
    big = [n for cut, n in cuts if cut >= 0.15 * base]
    return big or [n for cut, n in cuts[:1] if cut > 0]


@dataclass
class Limits:
    """One class's limits on a run: seconds per G step (toy and 1-D runs; image runs: image_step_s) and peak
    memory. None: no limit (the default of a JobManager: the CLI, the training process, Ray actors)."""
    step_s: float | None = None
    image_step_s: float | None = None
    memory_mb: float | None = None

    @classmethod
    def from_env(cls) -> "Limits":
        """The server's defaults, or GANLAB_CLASS_STEP_LIMIT_S / _IMAGE_STEP_LIMIT_S / _MEMORY_LIMIT_MB (0 = none)."""
        def read(name: str, default: float) -> float | None:
            raw = os.environ.get(name, "").strip()
            try:
                v = float(raw) if raw else default
            except ValueError:
                v = default
            return v if v > 0 and math.isfinite(v) else None

        return cls(read(STEP_LIMIT_ENV, STEP_LIMIT_S), read(IMAGE_STEP_LIMIT_ENV, IMAGE_STEP_LIMIT_S),
                   read(MEMORY_LIMIT_ENV, MEMORY_LIMIT_MB))

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.step_s, self.image_step_s, self.memory_mb))

    def step_limit(self, cost: Cost) -> float | None:
        """Toy and 1-D runs: step_s. Image runs: the higher of the two, and none when either is off (so the
        teacher's "0 = no limit" lifts it for every run)."""
        if cost.image:
            return None if self.step_s is None or self.image_step_s is None else max(self.image_step_s, self.step_s)
        return self.step_s

    def refusal(self, factory: Any) -> str | None:
        """Why a job (its factory: a RunSpec, as every page passes; a run resumed from a checkpoint is checked by
        its config) is refused, in the student's language, or None. Other factories (tests, tools) pass."""
        from ganlab.jobs.spec import RunSpec

        if not self.active or not isinstance(factory, RunSpec):
            return None
        configs = factory.configs
        try:
            cost = estimate(configs)
        except Exception:  # a config the cost model does not know must not break Start: it is admitted
            traceback.print_exc()
            return None
        limit = self.step_limit(cost)
        if limit is not None and cost.seconds_per_step > limit:
            fields = costly_fields(configs, lambda c: c.seconds_per_step)
            return _("This run would take about {seconds} s per step on this server; the class limit is {limit} s, "
                     "so that every run in the class keeps moving. Lower: {fields}.").format(
                seconds=_fmt_s(cost.seconds_per_step), limit=_fmt_s(limit), fields=_names(fields, configs))
        if self.memory_mb is not None and cost.bytes > self.memory_mb * 2**20:
            fields = costly_fields(configs, lambda c: c.bytes)
            return _("This run would need about {mb:,.0f} MB of memory on this server; the class limit is "
                     "{limit:,.0f} MB per run. Lower: {fields}.").format(mb=cost.bytes / 2**20, limit=self.memory_mb,
                                                          fields=_names(fields, configs))
        return None


def _fmt_s(s: float) -> str:
    return f"{s:.2g}" if s < 10 else f"{s:,.0f}"


def _names(fields: list[str], configs: Sequence) -> str:
    names = [_(LABELS[f]) for f in fields]
    if len(configs) > 1:
        names.append(_("or train one run instead of A and B"))
    return ", ".join(names)


# ---- the heaviest run a student may start ------------------------------------------------------------------
def heaviest_admissible_toy(limit_s: float | None = None, base: TrainConfig | None = None) -> dict:
    """A 2-D toy config (as a dict) at or just under the class limit (default: STEP_LIMIT_S, or the env var):
    ring-collapse's setup with the widest G and D (depth 2, width a multiple of 16, so its networks cannot
    stack with ring-collapse's width 128) whose estimated step on this server still fits the limit and the
    memory limit. For the classroom benchmark's abuse mode: the worst a student can do within the rules."""
    from ganlab.presets import PRESETS

    limits = Limits.from_env()
    limit = limit_s if limit_s is not None else (limits.step_s or STEP_LIMIT_S)
    mem = (limits.memory_mb or MEMORY_LIMIT_MB) * 2**20
    base = base or PRESETS["ring-collapse"].config
    speed = calibrate()

    def at(width: int) -> TrainConfig:
        return base.replace(g_width=width, d_width=width)

    def fits(width: int) -> bool:
        cost = estimate(at(width), speed)
        return cost.seconds_per_step <= limit and cost.bytes <= mem

    lo, hi = 1, 2048 // 16  # widths 16 .. 2048
    if not fits(lo * 16):
        return at(16).to_dict()
    while lo < hi:  # the largest multiple of 16 that fits (the cost grows with the width)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid * 16) else (lo, mid - 1)
    width = lo * 16
    if width == base.g_width:  # the same shapes would stack with the base: one step narrower
        width -= 16
    return at(width).to_dict()
