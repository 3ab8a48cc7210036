"""Image GAN page setup: widgets' session-state values <-> a validated image TrainConfig, presets, share link.

Widget values live in st.session_state under `ig_*` keys (no widget gets `value=`), so a preset or a share link
sets them before the widgets are drawn (ganlab/ui/setup_form.py). Settings no
widget shows (depths, activation, log_every, ...) come from the setup's base config: the chosen preset, or
the config a share link restored.

Side by side (like the Mode collapse lab's A/B): with "compare" on, run B is a whole preset (`b_preset`, by
default the chosen preset's twin) trained on run A's data with run A's seed, so both grids start from the same
fixed noise (a run's 64 grid vectors come from its seed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import streamlit as st

from ganlab import config as cfg
from ganlab.config import ConfigError, TrainConfig
from ganlab.i18n import N_, _
from ganlab.presets import PRESETS
from ganlab.ui import links, setup_form, state

P = "ig_"  # session-state prefix of this page
CUSTOM = links.CUSTOM  # the preset picker's "no preset" entry
DEFAULT_PRESET = "mnist-dcgan"
PRESET_NAMES = tuple(name for name, p in PRESETS.items() if not p.config.is_toy)  # mnist-mlp, ...
FIELDS = ("data", "model", "conditional", "loss", "g_lr", "d_lr", "beta1", "beta2", "batch_size", "d_steps",
          "real_label", "gp_weight", "dcgan_width", "g_width", "d_width", "g_widths", "d_widths", "z_dim", "steps",
          "seed", "g_ema")
TEXT_FIELDS = ("g_widths", "d_widths")  # text inputs; the other FIELDS are numbers, boxes and pickers
MODEL_LABELS = {"mlp": N_("MLP GAN"), "dcgan": "DCGAN", "vae": "VAE"}  # shown with _()
DATA_LABELS = {
    "mnist": N_("MNIST (5,000 embedded digits, offline)"),
    "digits": N_("scikit-learn digits (8x8, offline)"),
    "mnist-full": N_("MNIST, full 60,000 (files needed)"),
    "fashion-mnist": N_("Fashion-MNIST (files needed)"),
    "cifar10": N_("CIFAR-10 (files needed, 32x32 colour)"),
}
LINK_KEYS = frozenset(cfg.FIELD_TYPES) | {"preset", "compare", "b_preset"}
RUN_NAMES = ("A", "B")


@dataclass
class Setup:
    config: TrainConfig | None
    preset: str
    errors: list[str] = field(default_factory=list)
    b: TrainConfig | None = None  # run B (side by side), or None
    b_preset: str = ""

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.errors

    @property
    def configs(self) -> list[TrainConfig]:
        """[A] or [A, B]: the job's runners, in order."""
        return [c for c in (self.config, self.b) if c is not None]


# ---- pure helpers (no widgets) ----------------------------------------------------------------------------
def describe(c: TrainConfig) -> str:
    """'conditional DCGAN on mnist, Non-saturating' -- for job labels and captions ('VAE on mnist, ELBO')."""
    model = _(MODEL_LABELS[c.model]) if c.model in MODEL_LABELS else c.model
    loss = "ELBO" if c.is_vae else setup_form.loss_label(c.loss)
    if c.conditional:
        return _("conditional {model} on {data}, {loss}").format(model=model, data=c.data, loss=loss)
    return _("{model} on {data}, {loss}").format(model=model, data=c.data, loss=loss)


def twin_of(preset: str) -> str:
    """Run B's preset when A is `preset`: its twin, else mnist-dcgan (or mnist-mlp beside a DCGAN)."""
    twin = PRESETS[preset].twin if preset in PRESETS else ""
    if twin in PRESET_NAMES:
        return twin
    return "mnist-mlp" if preset == DEFAULT_PRESET else DEFAULT_PRESET


def run_b(a: TrainConfig, b_preset: str) -> TrainConfig:
    """Run B: the preset `b_preset` on A's data with A's seed (same seed and z_dim: the same 64 fixed noise
    vectors; the VAE's z is smaller than the GANs', so its vectors differ)."""
    return PRESETS[b_preset].config.replace(data=a.data, seed=a.seed)


def share_params(s: Setup) -> dict[str, str]:
    """URL query params for this setup: the preset's name and the config's non-default fields; with a run B,
    `compare=1` and `b_preset`."""
    q = links.setup_params(s.preset, s.config)
    if s.b is not None:
        q.update(compare="1", b_preset=s.b_preset)
    return q


def restore_b(params: Mapping[str, Any], preset: str) -> tuple[bool, str, list[str]]:
    """(compare, b_preset, warnings) from URL params: `compare=1` turns run B on; `b_preset` names it."""
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}
    compare = str(params.get("compare", "0")).strip().lower() in ("1", "true", "yes", "on")
    b_preset = params.get("b_preset") or twin_of(preset)
    if b_preset not in PRESET_NAMES:
        return compare, twin_of(preset), [_("run B's preset {preset!r} is not an Image GAN preset; {twin} is "
                                            "used").format(preset=b_preset, twin=twin_of(preset))]
    return compare, b_preset, []


def restore(params: Mapping[str, Any]) -> tuple[TrainConfig, str, list[str]]:
    """(config, preset, warnings) from URL params; anything invalid keeps the default preset, with a warning."""
    params, preset, fields_given, warnings = links.read(params, LINK_KEYS, PRESET_NAMES, DEFAULT_PRESET,
                                                       _("an Image GAN"))
    try:
        c = cfg.from_query(params) if fields_given else PRESETS[preset if preset != CUSTOM else DEFAULT_PRESET].config
        if c.is_toy:
            raise ConfigError(_("data {data!r} is 2-D toy data; this page trains on images ({images})").format(
                data=c.data, images=", ".join(cfg.IMAGE_DATA)))
    except ConfigError as e:
        warnings.append(_("the link's setup could not be used ({error}); the defaults are kept").format(error=e))
        preset = preset if preset != CUSTOM else DEFAULT_PRESET
        c = PRESETS[preset].config
    return c, preset, warnings


# ---- session state ----------------------------------------------------------------------------------------
def load(c: TrainConfig, preset: str, b_preset: str | None = None) -> None:
    """Write a config into the widgets' session-state values (before the widgets are drawn); a preset also
    sets run B's preset to its twin (or `b_preset`)."""
    st.session_state[P + "base"] = c
    values = {**{P + f: getattr(c, f) for f in FIELDS}, P + "preset": preset}
    if b_preset or preset in PRESETS:
        values[P + "b_preset"] = b_preset or twin_of(preset)
    state.put(values)


def _load_link(params: Mapping[str, Any]) -> list[str]:
    c, preset, warnings = restore(params)
    compare, b_preset, b_warnings = restore_b(params, preset)
    load(c, preset, b_preset)
    state.put({P + "compare": compare})
    return warnings + b_warnings


FORM = setup_form.SetupForm(P, PRESET_NAMES, _load_link, lambda name: load(PRESETS[name].config, name))


def summary() -> str:
    """The setup in one line, for the folded setup panel: what a running run cannot change."""
    ss = st.session_state
    name = _(MODEL_LABELS[ss[P + "model"]]) if ss[P + "model"] in MODEL_LABELS else ss[P + "model"]
    model = _("conditional {model}").format(model=name) if ss[P + "conditional"] and ss[P + "model"] != "vae" else name
    b = (_(" · run B: {preset}").format(preset=ss.get(P + "b_preset") or twin_of(ss[P + "preset"]))
         if ss.get(P + "compare") else "")
    return _("Setup: {preset} · {model} on {data} · z {z_dim} · batch {batch} · seed {seed}").format(
        preset=ss[P + "preset"], model=model, data=ss[P + "data"], z_dim=ss[P + "z_dim"], batch=ss[P + "batch_size"],
        seed=ss[P + "seed"]) + b


def build() -> Setup:
    """The config the current widget values describe (validated; errors are messages, not exceptions)."""
    ss = st.session_state
    s = Setup(None, ss[P + "preset"])
    try:
        c = ss[P + "base"].replace(**{f: ss[P + f] for f in FIELDS})
        if c.is_toy:
            raise ConfigError(_("pick image data (the 2-D toy data lives on the Mode collapse lab)"))
        s.config = c
    except ConfigError as e:
        s.errors.append(str(e))
    if s.config is not None and ss.get(P + "compare"):
        s.b_preset = ss.get(P + "b_preset") or twin_of(s.preset)
        try:
            s.b = run_b(s.config, s.b_preset)
        except ConfigError as e:
            s.errors.append(_("Run B ({preset}): {error}").format(preset=s.b_preset, error=e))
    return s

