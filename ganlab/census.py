"""The class as an experiment: every run grouped by what was changed, with mean ± standard error per group.

Pure functions over plain data (no Streamlit, no job manager): `run_of(...)` turns one run's latest snapshot
(its config and metric history) into a `CensusRun`; `groups(runs)` summarises them; `runs_csv` / `groups_csv`
export both. The Class page (ganlab/ui/class_view/census_view.py) calls them every fragment tick, so everything
here reads only the last logged row of each history (a few microseconds a run).

Toy mixtures (ring, grid) are grouped by data, loss and remedies (unrolled D, PacGAN, R1, ...; learning rates
that differ from the toy presets' count as a change too, and anything else changed as "other settings"). Their
metrics are the trainer's live ones (ganlab/engine/trainer.py, `toy_evaluator`): 2,500 fresh samples each logged
interval, a sample is high quality within 3 std of its nearest centre -- PacGAN's definitions, so the paper's
Table 1 (PAPER) sits beside the class's groups. Image runs on 28x28 digits are grouped by preset (the image
preset whose settings the run has, seed and budget aside); their feature FID and class shares are the live
scores of ganlab/quality.py (1,000 samples, scored every few intervals: the latest scored row is used).

A group's mean ± SE: mean of its runs' values, SE = s / sqrt(n) with s the sample standard deviation (n - 1);
a group of one run has no SE.
"""
from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from ganlab.config import TrainConfig
from ganlab.i18n import N_, _

# PacGAN, Table 1: Z. Lin, A. Khetan, G. Fanti, S. Oh, "PacGAN: The power of two samples in generative adversarial
# networks", NeurIPS 2018. 2,500 samples; high quality = within 3 std of the nearest mode; ring: 8 modes, grid: 25.
PAPER_CITATION = "Lin, Khetan, Fanti & Oh, PacGAN (NeurIPS 2018), Table 1"
PAPER_SAMPLES = 2500


@dataclass(frozen=True)
class PaperRow:
    model: str  # "GAN", "PacGAN2", "PacGAN4"
    data: str  # "ring" | "grid"
    modes: float  # modes captured, mean
    modes_pm: float  # the ± the paper prints
    n_modes: int
    high_quality: float  # fraction of high-quality samples
    reverse_kl: float


PAPER = (
    PaperRow("GAN", "ring", 6.3, 0.5, 8, 0.982, 0.45),
    PaperRow("PacGAN2", "ring", 7.9, 0.1, 8, 0.956, 0.07),
    PaperRow("PacGAN4", "ring", 7.8, 0.1, 8, 0.959, 0.07),
    PaperRow("GAN", "grid", 17.3, 0.8, 25, 0.948, 0.70),
    PaperRow("PacGAN2", "grid", 23.8, 0.7, 25, 0.913, 0.13),
    PaperRow("PacGAN4", "grid", 24.8, 0.2, 25, 0.936, 0.04),
)
MIXTURES = ("ring", "grid")  # the toy data with modes to count, in the order the census lists them


def paper_rows(data: str) -> list[PaperRow]:
    return [p for p in PAPER if p.data == data]


def paper_setup() -> str:
    """The paper's setup in one line, in this context's language."""
    return _("PacGAN Table 1 (Lin et al. 2018): {n:,} samples, a sample is high quality within 3 std of its "
             "nearest mode; ring: 8 modes, grid: 25 modes. Its networks and training differ from ganlab's "
             "presets.").format(n=PAPER_SAMPLES)


# ---- what was changed ------------------------------------------------------------------------------------------
LOSS_LABELS = {"minimax": N_("minimax"), "non_saturating": N_("non-saturating"), "lsgan": "LSGAN",
               "hinge": N_("hinge"), "wgan": N_("WGAN (clipping)"), "wgan_gp": "WGAN-GP"}
STANDARD_LOSSES = ("minimax", "non_saturating")  # the plain GAN: with nothing else changed, "no remedy"
DATA_LABELS = {"ring": N_("ring"), "grid": N_("grid")}
# Remedies in the order a label lists them: (config field, msgid with {v}); each counts when it differs from
# the toy presets' shared settings.
REMEDIES = (("unrolled_steps", N_("unrolled {v:g}")), ("pack", "PacGAN {v:g}"), ("r1_gamma", "R1 {v:g}"),
            ("spectral_norm", N_("spectral norm")), ("d_steps", N_("{v:g} D steps")),
            ("real_label", N_("real label {v:g}")), ("d_dropout", N_("D dropout {v:g}")),
            ("g_lr", N_("G lr {v:g}")), ("d_lr", N_("D lr {v:g}")))
# Settings that never define a group: the run's identity and length, and where it runs.
NOT_A_CHANGE = frozenset({"data", "loss", "seed", "steps", "device", "log_every"})
# A loss's or remedy's own parameter matters only when that loss or remedy is on.
ONLY_WHEN = {"gp_weight": lambda c: c["loss"] == "wgan_gp", "clip_value": lambda c: c["loss"] == "wgan",
             "unrolled_lr": lambda c: c["unrolled_steps"] > 0,
             "leaky_slope": lambda c: c["activation"] == "leaky_relu"}


@dataclass(frozen=True)
class GroupKey:
    kind: str  # "toy" | "image"
    data: str
    loss: str = ""
    remedies: tuple[tuple[str, Any], ...] = ()  # (field, value) of each remedy on
    other: bool = False  # some other setting differs from the presets'
    preset: str = ""  # image runs: the image preset the run's settings match ("" for none)
    model: str = ""  # image runs without a preset


def _toy_base() -> dict:
    from ganlab.presets import PRESETS

    return PRESETS["ring-collapse"].config.to_dict()


_BASE: dict | None = None


def toy_key(config: Mapping[str, Any]) -> GroupKey:
    """A toy run's group: data, loss, remedies that differ from the toy presets' settings, and whether anything
    else does (architecture, batch, optimiser, ...)."""
    global _BASE
    if _BASE is None:
        _BASE = _toy_base()
    base = _BASE
    remedies = tuple((f, config[f]) for f, _msg in REMEDIES if config[f] != base[f])
    named = {f for f, _msg in REMEDIES}
    other = any(config[f] != base[f] for f in base
                if f not in NOT_A_CHANGE and f not in named and ONLY_WHEN.get(f, lambda c: True)(config))
    return GroupKey("toy", config["data"], config["loss"], remedies, other)


_IMAGE_PRESETS: list[tuple[str, dict]] | None = None
IMAGE_IGNORED = frozenset({"seed", "steps", "device", "log_every"})


def image_key(config: Mapping[str, Any]) -> GroupKey:
    """An image run's group: the image preset whose settings it has (seed and budget aside), else its data,
    model and loss with "other settings"."""
    global _IMAGE_PRESETS
    if _IMAGE_PRESETS is None:
        from ganlab.presets import IMAGE_PRESETS

        _IMAGE_PRESETS = [(p.name, {k: v for k, v in p.config.to_dict().items() if k not in IMAGE_IGNORED})
                          for p in IMAGE_PRESETS]
    mine = {k: v for k, v in config.items() if k not in IMAGE_IGNORED}
    for name, settings in _IMAGE_PRESETS:
        if settings == mine:
            return GroupKey("image", config["data"], config["loss"], preset=name, model=config["model"])
    for name, settings in _IMAGE_PRESETS:  # another digit set, same preset otherwise
        if {k: v for k, v in settings.items() if k != "data"} == {k: v for k, v in mine.items() if k != "data"}:
            return GroupKey("image", config["data"], config["loss"], preset=f"{name} · {config['data']}",
                            model=config["model"])
    return GroupKey("image", config["data"], config["loss"], other=True, model=config["model"])


def label(key: GroupKey) -> str:
    """What a group changed, in this context's language: "ring · non-saturating · PacGAN 4", "ring · WGAN-GP",
    "ring · non-saturating · no remedy", "mnist-dcgan", "mnist · dcgan · hinge · other settings"."""
    if key.kind == "image":
        if key.preset:
            return key.preset
        parts = [key.data, key.model, _(LOSS_LABELS[key.loss]) if key.loss in LOSS_LABELS else key.loss]
    else:
        parts = [_(DATA_LABELS[key.data]) if key.data in DATA_LABELS else key.data,
                 _(LOSS_LABELS[key.loss]) if key.loss in LOSS_LABELS else key.loss]
        msgs = dict(REMEDIES)
        parts += [_(msgs[f]).format(v=float(v)) for f, v in key.remedies]
        if not key.remedies and not key.other and key.loss in STANDARD_LOSSES:
            parts.append(_("no remedy"))
    if key.other:
        parts.append(_("other settings"))
    return " · ".join(parts)


@functools.lru_cache(maxsize=1024)
def _key(config: TrainConfig) -> GroupKey:
    """A config's group, computed once per distinct config (TrainConfig is frozen and hashable)."""
    return toy_key(vars(config)) if config.data in MIXTURES else image_key(vars(config))


# ---- one run ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CensusRun:
    job_id: int
    run: str  # "A", "B" or ""
    student: str
    preset: str  # the preset the student's page had picked
    status: str
    step: int
    budget: int
    key: GroupKey
    modes: float | None = None  # toy: modes captured
    n_modes: int | None = None
    high_quality: float | None = None  # toy: fraction of high-quality samples
    reverse_kl: float | None = None
    fid: float | None = None  # image: feature FID (ganlab/quality.py, 1,000 samples)
    smallest_class: float | None = None  # image: the share of the rarest digit, at the same scored row
    smallest_digit: int | None = None

    @property
    def live(self) -> bool:
        return self.status in ACTIVE_STATUSES


ACTIVE_STATUSES = ("queued", "starting", "running", "paused")  # ganlab.jobs.status.ACTIVE, as plain text


def last_finite(values) -> tuple[int, float] | None:
    """(index, value) of the last finite entry of a 1-D array, or None."""
    if values is None:
        return None
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    idx = np.flatnonzero(np.isfinite(a))
    return (int(idx[-1]), float(a[idx[-1]])) if len(idx) else None


def run_of(job_id: int, run: str, student: str, preset: str, status: str, step: int, snapshot) -> CensusRun | None:
    """The census's record of one run from its latest snapshot (.config a TrainConfig, .history, .centers), or None
    when the run has nothing to count yet (no snapshot, no logged metric, data without modes or scores)."""
    config = getattr(snapshot, "config", None)
    history = getattr(snapshot, "history", None) or {}
    if not isinstance(config, TrainConfig):  # a 1-D Theory run, or a stand-in without a real config
        return None
    c = vars(config)  # the frozen dataclass's fields, read only (to_dict's deep copy costs ~1 ms a run)
    common = dict(job_id=job_id, run=run, student=student, preset=preset, status=str(status), step=int(step),
                  budget=int(c.get("steps", 0) or 0))
    centers = getattr(snapshot, "centers", None)
    if c["data"] in MIXTURES and centers is not None:
        m = last_finite(history.get("modes_captured"))
        if m is None:
            return None
        hq, rkl = last_finite(history.get("high_quality_frac")), last_finite(history.get("reverse_kl"))
        return CensusRun(**common, key=_key(config), modes=m[1], n_modes=len(centers),
                         high_quality=hq[1] if hq else None, reverse_kl=rkl[1] if rkl else None)
    if c["data"] not in MIXTURES and "fid" in history:
        f = last_finite(history.get("fid"))
        if f is None:
            return None
        i = f[0]
        shares = [float(history[f"class_{d}"][i]) for d in range(10) if f"class_{d}" in history]
        low = int(np.argmin(shares)) if shares and all(math.isfinite(s) for s in shares) else None
        return CensusRun(**common, key=_key(config), fid=f[1],
                         smallest_class=shares[low] if low is not None else None, smallest_digit=low)
    return None


# ---- groups ----------------------------------------------------------------------------------------------------
def mean_se(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """(mean, standard error s / sqrt(n), s with n - 1) of the values that are not None; SE None for n < 2."""
    v = [float(x) for x in values if x is not None]
    if not v:
        return None, None
    mean = sum(v) / len(v)
    if len(v) < 2:
        return mean, None
    s = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1))
    return mean, s / math.sqrt(len(v))


@dataclass(frozen=True)
class Group:
    key: GroupKey
    label: str
    runs: tuple[CensusRun, ...]
    modes: tuple[float | None, float | None] = (None, None)  # (mean, SE)
    n_modes: int | None = None
    high_quality: tuple[float | None, float | None] = (None, None)
    reverse_kl: tuple[float | None, float | None] = (None, None)
    fid: tuple[float | None, float | None] = (None, None)
    smallest_class: tuple[float | None, float | None] = (None, None)

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def n_live(self) -> int:
        return sum(r.live for r in self.runs)

    @property
    def presets(self) -> tuple[str, ...]:
        return tuple(sorted({r.preset for r in self.runs if r.preset}))


def _order(key: GroupKey) -> tuple:
    """Toy groups first, by data (ring, grid, ...), the plain GAN first, then fewer changes first."""
    data = MIXTURES.index(key.data) if key.data in MIXTURES else len(MIXTURES)
    return (key.kind != "toy", data, key.data, key.loss not in STANDARD_LOSSES, len(key.remedies) + key.other,
            repr(key))


def groups(runs: Iterable[CensusRun]) -> list[Group]:
    """One Group per GroupKey among `runs`, in _order, each with its runs in the order given."""
    by: dict[GroupKey, list[CensusRun]] = {}
    for r in runs:
        by.setdefault(r.key, []).append(r)
    out = []
    for key in sorted(by, key=_order):
        rs = tuple(by[key])
        n_modes = {r.n_modes for r in rs if r.n_modes is not None}
        out.append(Group(key, label(key), rs, mean_se(r.modes for r in rs),
                         n_modes.pop() if len(n_modes) == 1 else None, mean_se(r.high_quality for r in rs),
                         mean_se(r.reverse_kl for r in rs), mean_se(r.fid for r in rs),
                         mean_se(r.smallest_class for r in rs)))
    return out


# ---- export ----------------------------------------------------------------------------------------------------
RUN_COLUMNS = ("job", "run", "student", "preset", "group", "kind", "data", "loss", "status", "step", "budget",
               "modes_captured", "n_modes", "high_quality_frac", "reverse_kl", "fid", "smallest_class_frac",
               "smallest_digit")
GROUP_COLUMNS = ("group", "kind", "data", "runs", "training", "modes_mean", "modes_se", "n_modes",
                 "high_quality_mean", "high_quality_se", "reverse_kl_mean", "reverse_kl_se", "fid_mean", "fid_se",
                 "smallest_class_mean", "smallest_class_se", "presets")


def _cell(v) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula (= + - @ first) gets a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    text = str(v)
    return "'" + text if isinstance(v, str) and text[:1] in ("=", "+", "-", "@") else text


def _csv(header: tuple[str, ...], rows: Iterable[tuple]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def runs_csv(runs: Iterable[CensusRun]) -> str:
    """One line per run (its group's label in this context's language; fractions as fractions, not %)."""
    return _csv(RUN_COLUMNS, ((r.job_id, r.run, r.student, r.preset, label(r.key), r.key.kind, r.key.data,
                               r.key.loss, r.status, r.step, r.budget, r.modes, r.n_modes, r.high_quality,
                               r.reverse_kl, r.fid, r.smallest_class, r.smallest_digit) for r in runs))


def groups_csv(groups_: Iterable[Group]) -> str:
    """One line per group, then the paper's rows (group "PacGAN Table 1 · <model>", runs empty)."""
    rows = [(g.label, g.key.kind, g.key.data, g.n, g.n_live, *g.modes, g.n_modes, *g.high_quality, *g.reverse_kl,
             *g.fid, *g.smallest_class, " ".join(g.presets)) for g in groups_]
    rows += [(f"PacGAN Table 1 · {p.model}", "paper", p.data, None, None, p.modes, p.modes_pm, p.n_modes,
              p.high_quality, None, p.reverse_kl, None, None, None, None, None, "") for p in PAPER]
    return _csv(GROUP_COLUMNS, rows)
