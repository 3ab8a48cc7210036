"""Image GAN page setup: widgets' session-state values <-> a validated image TrainConfig, presets, share link.

Widget values live in st.session_state under `ig_*` keys (no widget gets `value=`), so a preset or a share link
sets them before the widgets are drawn (ganlab/ui/setup_form.py). Settings no
widget shows (depths, activation, log_every, ...) come from the setup's base config: the chosen preset, or
the config a share link restored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import streamlit as st

from ganlab import config as cfg
from ganlab.config import ConfigError, TrainConfig
from ganlab.presets import PRESETS
from ganlab.ui import links, setup_form, state

P = "ig_"  # session-state prefix of this page
CUSTOM = links.CUSTOM  # the preset picker's "no preset" entry
DEFAULT_PRESET = "mnist-dcgan"
PRESET_NAMES = tuple(name for name, p in PRESETS.items() if not p.config.is_toy)  # mnist-mlp, ...
FIELDS = ("data", "model", "conditional", "loss", "g_lr", "d_lr", "beta1", "beta2", "batch_size", "d_steps",
          "real_label", "gp_weight", "dcgan_width", "g_width", "d_width", "z_dim", "steps", "seed", "g_ema")
DATA_LABELS = {
    "mnist": "MNIST (5,000 embedded digits, offline)",
    "digits": "scikit-learn digits (8x8, offline)",
    "mnist-full": "MNIST, full 60,000 (files needed)",
    "fashion-mnist": "Fashion-MNIST (files needed)",
    "cifar10": "CIFAR-10 (files needed, 32x32 colour)",
}
LINK_KEYS = frozenset(cfg.FIELD_TYPES) | {"preset"}


@dataclass
class Setup:
    config: TrainConfig | None
    preset: str
    data_dir: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.errors


# ---- pure helpers (no widgets) ----------------------------------------------------------------------------
def describe(c: TrainConfig) -> str:
    """'conditional DCGAN on mnist, Non-saturating' -- for job labels and captions."""
    model = {"mlp": "MLP GAN", "dcgan": "DCGAN"}.get(c.model, c.model)
    return f"{'conditional ' if c.conditional else ''}{model} on {c.data}, {setup_form.loss_label(c.loss)}"


def share_params(s: Setup) -> dict[str, str]:
    """URL query params for this setup: the preset's name and the config's non-default fields."""
    return links.setup_params(s.preset, s.config)


def restore(params: Mapping[str, Any]) -> tuple[TrainConfig, str, list[str]]:
    """(config, preset, warnings) from URL params; anything invalid keeps the default preset, with a warning."""
    params, preset, fields_given, warnings = links.read(params, LINK_KEYS, PRESET_NAMES, DEFAULT_PRESET,
                                                       "an Image GAN")
    try:
        c = cfg.from_query(params) if fields_given else PRESETS[preset if preset != CUSTOM else DEFAULT_PRESET].config
        if c.is_toy:
            raise ConfigError(f"data {c.data!r} is 2-D toy data; this page trains on images "
                              f"({', '.join(cfg.IMAGE_DATA)})")
    except ConfigError as e:
        warnings.append(f"the link's setup could not be used ({e}); the defaults are kept")
        preset = preset if preset != CUSTOM else DEFAULT_PRESET
        c = PRESETS[preset].config
    return c, preset, warnings


# ---- session state ----------------------------------------------------------------------------------------
def load(c: TrainConfig, preset: str) -> None:
    """Write a config into the widgets' session-state values (before the widgets are drawn)."""
    st.session_state[P + "base"] = c
    state.put({**{P + f: getattr(c, f) for f in FIELDS}, P + "preset": preset})


def _load_link(params: Mapping[str, Any]) -> list[str]:
    c, preset, warnings = restore(params)
    load(c, preset)
    state.defaults({P + "data_dir": ""})
    return warnings


FORM = setup_form.SetupForm(P, PRESET_NAMES, _load_link, lambda name: load(PRESETS[name].config, name))


def build() -> Setup:
    """The config the current widget values describe (validated; errors are messages, not exceptions)."""
    ss = st.session_state
    data_dir = (ss.get(P + "data_dir") or "").strip() or None
    s = Setup(None, ss[P + "preset"], data_dir)
    try:
        c = ss[P + "base"].replace(**{f: ss[P + f] for f in FIELDS})
        if c.is_toy:
            raise ConfigError("pick image data (the 2-D toy data lives on the Mode collapse lab)")
        s.config = c
    except ConfigError as e:
        s.errors.append(str(e))
    return s

