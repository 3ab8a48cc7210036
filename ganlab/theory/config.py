"""TheoryConfig: the frozen, validated description of a 1-D GAN run on the theory page.

The data density is a Gaussian mixture sum_k w_k N(mu_k, sigma_k^2) given by its parameters, so a user can
type their own; `DATA_PRESETS` holds the classroom ones. Only the losses whose D objective is the minimax one
(D* = p_data / (p_data + p_g) holds for them) are allowed.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from ganlab.config import ConfigError, check
from ganlab.i18n import N_, _

LOSS_KEYS = ("minimax", "non_saturating")  # both train D with the minimax objective, so D* is the formula
Z_DISTS = ("normal", "uniform")
ACTIVATIONS = ("leaky_relu", "relu", "tanh")
GRID_LIMIT = 50.0  # the plotted range lies within [-50, 50]: the grid, its KDE padding and the integrals stay sane
LIVE_KEYS = frozenset({"loss", "g_lr", "d_lr", "beta1", "beta2", "d_steps", "batch_size", "steps"})

# name -> (means, stds, weights, one-line description)
DATA_PRESETS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], str]] = {
    "gaussian": ((1.5,), (0.5,), (1.0,), N_("one Gaussian N(1.5, 0.5^2), as in the paper's figure")),
    "bimodal": ((-2.0, 2.0), (0.5, 0.5), (0.5, 0.5), N_("two equal Gaussians at -2 and 2: can G cover both?")),
    "trimodal": ((-3.0, 0.0, 3.0), (0.4, 0.4, 0.4), (1.0, 1.0, 1.0), N_("three narrow Gaussians")),
    "skewed": ((-1.0, 2.0), (0.7, 0.3), (0.7, 0.3), N_("a wide mode and a narrow one with less mass")),
}


@dataclass(frozen=True)
class TheoryConfig:
    # data density: a Gaussian mixture
    means: tuple[float, ...] = (1.5,)
    stds: tuple[float, ...] = (0.5,)
    weights: tuple[float, ...] = (1.0,)
    # models: G z (B, z_dim) -> x (B, 1); D x (B, 1) -> logit (B, 1)
    z_dim: int = 1
    z_dist: str = "normal"
    g_width: int = 32
    g_depth: int = 2
    d_width: int = 64
    d_depth: int = 2
    activation: str = "leaky_relu"
    # game and optimisation
    loss: str = "non_saturating"
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 256
    d_steps: int = 1
    steps: int = 20_000  # G updates in the run's budget
    seed: int = 0
    log_every: int = 25
    # where the picture and the integrals live
    grid_lo: float = -5.0
    grid_hi: float = 5.0
    grid_n: int = 401
    kde_samples: int = 10_000
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("means", "stds", "weights"):  # lists from JSON / widgets -> tuples of float
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        validate(self)

    def replace(self, **changes: Any) -> "TheoryConfig":
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ConfigError(f"unknown theory setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_preset(cls, name: str, **changes: Any) -> "TheoryConfig":
        if name not in DATA_PRESETS:
            raise ConfigError(f"unknown data density {name!r}; choose one of {', '.join(DATA_PRESETS)}")
        means, stds, weights, _ = DATA_PRESETS[name]
        return cls(means=means, stds=stds, weights=weights, **changes)


def validate(c: TheoryConfig) -> None:
    k = len(c.means)  # the mixture's checks: a student types these on the Theory page (in their language)
    if not 1 <= k <= 8:
        check(False, _("the data mixture needs 1 to 8 components (got {k})").format(k=k))
    if len(c.stds) not in (1, k):
        check(False, _("give one std or one per mean ({k}); got {n}").format(k=k, n=len(c.stds)))
    if len(c.weights) not in (1, k):
        check(False, _("give one weight or one per mean ({k}); got {n}").format(k=k, n=len(c.weights)))
    if not all(math.isfinite(m) and c.grid_lo < m < c.grid_hi for m in c.means):
        check(False, _("means must lie inside the plotted range ({lo:g}, {hi:g}); got {means}").format(
            lo=c.grid_lo, hi=c.grid_hi, means=list(c.means)))
    if not all(0.05 <= s <= 3.0 for s in c.stds):
        check(False, _("stds must be in [0.05, 3]; got {stds}").format(stds=list(c.stds)))
    if not (all(w >= 0 and math.isfinite(w) for w in c.weights) and sum(c.weights) > 0):
        check(False, _("weights must be >= 0 and not all 0; got {weights}").format(weights=list(c.weights)))
    check(c.loss in LOSS_KEYS, f"loss {c.loss!r} is not a minimax game; choose one of {', '.join(LOSS_KEYS)}")
    check(c.z_dist in Z_DISTS, f"z_dist must be one of {', '.join(Z_DISTS)}; got {c.z_dist!r}")
    check(c.activation in ACTIVATIONS, f"activation must be one of {', '.join(ACTIVATIONS)}")
    check(1 <= c.z_dim <= 8, f"z_dim must be in 1..8; got {c.z_dim}")
    for name in ("g_width", "d_width"):
        check(4 <= getattr(c, name) <= 512, f"{name} must be in 4..512; got {getattr(c, name)}")
    for name in ("g_depth", "d_depth"):
        check(1 <= getattr(c, name) <= 4, f"{name} must be in 1..4; got {getattr(c, name)}")
    for name in ("g_lr", "d_lr"):
        v = getattr(c, name)
        check(0 < v <= 1 and math.isfinite(v), f"{name} must be in (0, 1]; got {v}")
    check(0 <= c.beta1 < 1 and 0 <= c.beta2 < 1, f"Adam betas must be in [0, 1); got {c.beta1}, {c.beta2}")
    check(8 <= c.batch_size <= 8192, f"batch_size must be in 8..8192; got {c.batch_size}")
    check(1 <= c.d_steps <= 50, f"d_steps must be in 1..50; got {c.d_steps}")
    check(1 <= c.steps <= 1_000_000, f"steps must be in 1..1000000; got {c.steps}")
    check(1 <= c.log_every <= 10_000, f"log_every must be in 1..10000; got {c.log_every}")
    check(all(math.isfinite(v) and -GRID_LIMIT <= v <= GRID_LIMIT for v in (c.grid_lo, c.grid_hi))
          and c.grid_hi > c.grid_lo and 51 <= c.grid_n <= 4001,
          f"grid needs -{GRID_LIMIT:g} <= grid_lo < grid_hi <= {GRID_LIMIT:g} and 51..4001 points; got "
          f"[{c.grid_lo:g}, {c.grid_hi:g}] with {c.grid_n}")
    check(100 <= c.kde_samples <= 50_000, f"kde_samples must be in 100..50000; got {c.kde_samples}")
    check(c.device in ("auto", "cpu", "cuda"), f"device must be auto, cpu or cuda; got {c.device!r}")


def parse_floats(text: str, name: str) -> tuple[float, ...]:
    """'-2, 2' -> (-2.0, 2.0), with a message that names the field when the text is not numbers."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ConfigError(_("{name}: write numbers separated by commas, e.g. '-2, 2' (got {text!r})").format(
            name=name, text=text)) from None
    if not values:
        raise ConfigError(_("{name}: give at least one number").format(name=name))
    if not all(math.isfinite(v) for v in values):
        raise ConfigError(_("{name}: numbers must be finite (got {text!r})").format(name=name, text=text))
    return values
