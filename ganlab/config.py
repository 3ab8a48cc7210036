"""TrainConfig: one frozen, validated object that describes a run.

Widgets, URL query strings, JSON files, checkpoints and the CLI all build a TrainConfig through the same
`validate()`, so a bad value gets the same clear message wherever it was typed.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from typing import Any

from ganlab.i18n import _


class ConfigError(ValueError):
    """A config value is out of range or unknown; the message names the field and what is allowed."""


TOY_DATA = ("ring", "grid", "spiral", "moons", "csv")
IMAGE_DATA = ("mnist", "digits", "mnist-full", "fashion-mnist", "cifar10")
MODELS = ("mlp", "dcgan", "vae")  # vae: a DCGAN-shaped VAE (decoder = G, encoder = D's mirror)
ACTIVATIONS = ("relu", "leaky_relu", "tanh")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    # data and model
    data: str = "ring"
    model: str = "mlp"
    conditional: bool = False
    z_dim: int = 2
    g_width: int = 128
    g_depth: int = 2
    d_width: int = 128
    d_depth: int = 2
    # MLP hidden layers one by one, e.g. "128,256,512,1024"; when set they replace width x depth
    g_widths: str = ""
    d_widths: str = ""
    activation: str = "relu"
    leaky_slope: float = 0.2  # LeakyReLU negative slope (the tutorials' MLP GAN: 0.01)
    g_batchnorm: bool = False
    d_dropout: float = 0.0
    spectral_norm: bool = False
    dcgan_width: int = 32  # DCGAN base channel count (DCGAN paper: 64; 32 trains on a laptop CPU)
    # loss and remedies
    loss: str = "non_saturating"
    real_label: float = 1.0  # one-sided label smoothing: 0.9 in the tutorials
    gp_weight: float = 10.0  # lambda of WGAN-GP
    clip_value: float = 0.01  # WGAN weight clipping
    r1_gamma: float = 0.0
    unrolled_steps: int = 0  # Metz et al. 2017: G looks k SGD steps ahead of D
    unrolled_lr: float = 1e-2
    pack: int = 1  # PacGAN: D judges `pack` samples at once
    g_ema: float = 0.0  # decay of a running average of G's weights that samples/scores use; 0 = off
    # optimisation
    optimizer: str = "adam"
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 256
    d_steps: int = 1  # D updates per G update
    steps: int = 2000  # G updates in the budget
    seed: int = 0
    device: str = "auto"
    log_every: int = 50

    def __post_init__(self) -> None:
        validate(self)

    @property
    def is_toy(self) -> bool:
        return self.data in TOY_DATA

    @property
    def is_vae(self) -> bool:
        return self.model == "vae"

    def hidden_widths(self, net: str) -> tuple[int, ...]:
        """The MLP's hidden layer widths of G (net 'g') or D ('d'): `g_widths` / `d_widths` when set, else
        `g_width` repeated `g_depth` times (likewise for D)."""
        spec = getattr(self, f"{net}_widths")
        if spec:
            return parse_widths(spec)
        return (getattr(self, f"{net}_width"),) * getattr(self, f"{net}_depth")

    def replace(self, **changes: Any) -> "TrainConfig":
        return from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_query(self) -> dict[str, str]:
        """Only the fields that differ from the defaults, as strings (for st.query_params / URLs)."""
        default = TrainConfig()
        return {f.name: _fmt(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}


@dataclass(frozen=True)
class Preset:
    """A named classroom scenario: a complete TrainConfig and the one- or two-sentence lesson it teaches."""

    name: str
    config: TrainConfig
    lesson: str  # an English msgid (ganlab.i18n): read it with text()
    twin: str = ""  # the preset a side-by-side run B starts as (the Image GAN page's comparison), if any

    def text(self) -> str:
        """The lesson in this context's language."""
        return _(self.lesson)


FIELD_TYPES = {f.name: f.type for f in fields(TrainConfig)}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _coerce(name: str, value: Any) -> Any:
    """Parse a string (URL, CLI --set) or pass through a typed value, with a clear error."""
    kind = FIELD_TYPES[name]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True
        if s in ("0", "false", "no", "off"):
            return False
        raise ConfigError(_("{name}: expected true or false, got {value!r}").format(name=name, value=value))
    if kind in ("int", "float"):
        return _number(name, value, whole=kind == "int")
    if not isinstance(value, str):
        raise ConfigError(_("{name}: expected text, got {value!r}").format(name=name, value=value))
    return value.strip()


def _number(name: str, value: Any, whole: bool) -> int | float:
    """A finite number (whole: an int) from a number or its text; bools are refused (True is not 1 here)."""
    what = _("a whole number") if whole else _("a number")
    if isinstance(value, bool):
        raise ConfigError(_("{name}: expected {what}, got {value!r}").format(name=name, what=what, value=value))
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ConfigError(_("{name}: expected {what}, got {value!r}").format(name=name, what=what,
                                                                             value=value)) from None
    if not math.isfinite(f) or (whole and f != int(f)):
        raise ConfigError(_("{name}: expected {what}, got {value!r}").format(
            name=name, what=what if whole else _("a finite number"), value=value))
    return int(f) if whole else f


def from_dict(d: dict[str, Any]) -> TrainConfig:
    unknown = sorted(set(d) - set(FIELD_TYPES))
    if unknown:
        raise ConfigError(_("unknown setting(s): {names}; known: {known}").format(names=", ".join(unknown),
                                                                                 known=", ".join(FIELD_TYPES)))
    return TrainConfig(**{k: _coerce(k, v) for k, v in d.items()})


def from_json(text: str) -> TrainConfig:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(_("not valid JSON: {msg} (line {line})").format(msg=e.msg, line=e.lineno)) from None
    if not isinstance(d, dict):
        raise ConfigError(_("a config must be a JSON object"))
    return from_dict(d)


def from_query(params: dict[str, str], base: TrainConfig | None = None) -> TrainConfig:
    """Config from URL query params; params that are not config fields (e.g. `preset`) are ignored."""
    base = base or TrainConfig()
    known = {k: v for k, v in params.items() if k in FIELD_TYPES}
    return from_dict({**base.to_dict(), **known})


MAX_LAYERS = 8


def parse_widths(spec: str) -> tuple[int, ...]:
    """'128,256, 512' -> (128, 256, 512); ConfigError unless 1..MAX_LAYERS whole numbers in 4..2048."""
    parts = [p.strip() for p in spec.replace(";", ",").split(",")]
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(_("layer widths are whole numbers separated by commas, e.g. 128,256; got {spec!r}")
                          .format(spec=spec)) from None
    check(1 <= len(widths) <= MAX_LAYERS, _("1 to {max} hidden layers, got {n} in {spec!r}").format(
        max=MAX_LAYERS, n=len(widths), spec=spec))
    check(all(4 <= w <= 2048 for w in widths),
          _("each layer width must be between 4 and 2048; got {spec!r}").format(spec=spec))
    return widths


def check(ok: bool, message: str) -> None:
    """Raise ConfigError(message) unless ok: the one validation primitive (TrainConfig and TheoryConfig)."""
    if not ok:
        raise ConfigError(message)


def _in_range(c: TrainConfig, name: str, lo: float, hi: float) -> None:
    v = getattr(c, name)
    if not lo <= v <= hi:
        raise ConfigError(_("{name} must be between {lo:g} and {hi:g}, got {value:g}").format(name=name, lo=lo, hi=hi,
                                                                                             value=v))


def _one_of(c: TrainConfig, name: str, allowed: tuple[str, ...]) -> None:
    v = getattr(c, name)
    if v not in allowed:
        raise ConfigError(_("{name} must be one of {allowed}; got {value!r}").format(
            name=name, allowed=", ".join(allowed), value=v))


def validate(c: TrainConfig) -> None:
    from ganlab.losses import LOSSES  # late import: losses imports nothing from here

    for f in fields(c):
        v = getattr(c, f.name)
        want = {"int": int, "float": (int, float), "bool": bool, "str": str}[f.type]
        check(isinstance(v, want) and not (f.type in ("int", "float") and isinstance(v, bool)),
               f"{f.name}: expected {f.type}, got {v!r}")  # a programming error, not a user's
    _one_of(c, "data", TOY_DATA + IMAGE_DATA)
    _one_of(c, "model", MODELS)
    _one_of(c, "activation", ACTIVATIONS)
    _one_of(c, "optimizer", OPTIMIZERS)
    _one_of(c, "device", DEVICES)
    if c.loss not in LOSSES:
        raise ConfigError(_("{name} must be one of {allowed}; got {value!r}").format(name="loss",
                                                                                    allowed=", ".join(LOSSES),
                                                                                    value=c.loss))
    _in_range(c, "z_dim", 1, 512)
    for name in ("g_width", "d_width"):
        _in_range(c, name, 4, 2048)
    for name in ("g_depth", "d_depth"):
        _in_range(c, name, 1, 8)
    for net in ("g", "d"):
        if getattr(c, f"{net}_widths"):
            try:
                parse_widths(getattr(c, f"{net}_widths"))
            except ConfigError as e:
                raise ConfigError(f"{net}_widths: {e}") from None  # the field's name, then the message
    _in_range(c, "dcgan_width", 4, 256)
    _in_range(c, "d_dropout", 0.0, 0.9)
    _in_range(c, "leaky_slope", 0.0, 1.0)
    _in_range(c, "real_label", 0.5, 1.0)
    _in_range(c, "gp_weight", 0.0, 1000.0)
    _in_range(c, "clip_value", 1e-4, 10.0)
    _in_range(c, "r1_gamma", 0.0, 1000.0)
    _in_range(c, "unrolled_steps", 0, 20)
    _in_range(c, "unrolled_lr", 1e-6, 1.0)
    _in_range(c, "pack", 1, 16)
    check(c.g_ema == 0 or 0.5 <= c.g_ema <= 0.9999,
          _("g_ema is the decay of G's weight average: 0 (off) or between 0.5 and 0.9999; got {value}")
          .format(value=c.g_ema))
    for name in ("g_lr", "d_lr"):
        _in_range(c, name, 1e-7, 1.0)
    _in_range(c, "beta1", 0.0, 0.999)
    _in_range(c, "beta2", 0.0, 0.9999)
    _in_range(c, "batch_size", 2, 4096)
    _in_range(c, "d_steps", 1, 20)
    _in_range(c, "steps", 1, 1_000_000)
    _in_range(c, "seed", 0, 2**31 - 1)
    _in_range(c, "log_every", 1, 10_000)
    if c.batch_size % c.pack:
        check(False, _("batch_size ({batch}) must be a multiple of pack ({pack})").format(batch=c.batch_size,
                                                                                         pack=c.pack))
    if c.data in TOY_DATA:
        if c.model != "mlp":
            check(False, _("the 2-D data {data!r} works with model 'mlp' only").format(data=c.data))
        check(not c.conditional, _("conditional models need labelled image data (mnist, digits, ...)"))
    if c.model in ("dcgan", "vae") and c.data == "digits":
        check(False, _("{model} needs 28x28 or 32x32 images; use model 'mlp' for the 8x8 digits").format(
            model=c.model))
    if c.model == "vae":  # trained by maximising the ELBO: none of the GAN's D-side settings apply
        check(not c.conditional, _("the vae is unconditional; untick conditional"))
        check(c.pack == 1 and c.d_steps == 1 and not c.unrolled_steps and not c.r1_gamma,
              _("the vae has no discriminator: pack, d_steps, unrolled_steps and r1_gamma stay at 1, 1, 0, 0"))
    if c.unrolled_steps:
        check(c.d_steps == 1, _("unrolled_steps and d_steps > 1 do not combine: pick one"))
