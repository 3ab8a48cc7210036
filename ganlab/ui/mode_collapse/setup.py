"""Mode collapse lab setup: widgets -> a validated TrainConfig for run A and (optionally) run B.

A and B share data, seed, networks and optimiser (the "shared" widgets); they differ only in the loss and
the remedies (RUN_FIELDS). Settings no widget shows (unrolled_lr, betas, log_every, ...) come from the
setup's base config: the chosen preset, or the config a share link restored. Widget values live in
st.session_state under `mc_*` keys, so presets and links set them before the widgets are drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import streamlit as st

from ganlab import config as cfg
from ganlab.config import ConfigError, TrainConfig
from ganlab.data.toy import parse_csv_points
from ganlab.i18n import N_, _
from ganlab.presets import PRESETS
from ganlab.ui import links, setup_form, state

P = "mc_"  # session-state prefix of this page
CUSTOM = links.CUSTOM  # the preset picker's "no preset" entry
DEFAULT_PRESET = "ring-collapse"
SHARED_FIELDS = ("data", "seed", "steps", "batch_size", "z_dim", "g_width", "g_depth", "d_width", "d_depth",
                 "activation", "optimizer", "g_ema")
# What A and B may differ in: the loss, the learning rates / D:G ratio, and the remedies.
RUN_FIELDS = ("loss", "g_lr", "d_lr", "d_steps", "unrolled_steps", "pack", "gp_weight", "r1_gamma")
DATA_LABELS = {"ring": N_("Ring: 8 Gaussians"), "grid": N_("Grid: 25 Gaussians"), "spiral": N_("Spiral"),
               "moons": N_("Two moons"), "csv": N_("Your points (CSV upload)")}  # shown with _()
TOY_PRESETS = tuple(name for name, p in PRESETS.items() if p.config.is_toy)
LINK_KEYS = frozenset(cfg.FIELD_TYPES) | {"preset", "compare"} | {f"b_{f}" for f in RUN_FIELDS}


@dataclass
class Setup:
    a: TrainConfig | None
    b: TrainConfig | None  # None: no second run
    compare: bool
    preset: str
    points: np.ndarray | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.a is not None and not self.errors and (self.b is not None or not self.compare)

    @property
    def configs(self) -> list[TrainConfig]:
        return [c for c in (self.a, self.b) if c is not None]


# ---- pure helpers (no widgets) ----------------------------------------------------------------------------
def twin(name: str) -> str | None:
    """'ring-collapse' <-> 'ring-fixed' (the preset pair that teaches the same lesson), if it exists."""
    for a, b in (("-collapse", "-fixed"), ("-fixed", "-collapse")):
        if name.endswith(a) and name[: -len(a)] + b in PRESETS:
            return name[: -len(a)] + b
    return None


def default_b(a: TrainConfig, preset: str) -> TrainConfig:
    """Run B: the preset's twin (its loss, rates and remedies; A's shared settings), else A with another loss."""
    t = twin(preset) if preset in PRESETS else None
    if t is not None:
        tc = PRESETS[t].config
        return a.replace(**{f: getattr(tc, f) for f in RUN_FIELDS})
    return a.replace(loss="wgan_gp" if a.loss != "wgan_gp" else "non_saturating")


def preset_pair(name: str) -> tuple[TrainConfig, TrainConfig]:
    """(A, B) for a preset: B is its twin; both train for the longer of the two budgets. (A link that gives B
    itself, or turns B off, keeps the preset's own budget: `restore`.)"""
    a = PRESETS[name].config
    t = twin(name)
    if t is not None:
        a = a.replace(steps=max(a.steps, PRESETS[t].config.steps))
    return a, default_b(a, name)


def share_params(s: Setup) -> dict[str, str]:
    """URL query params for this setup: A's non-default fields, `preset`, and B's differing run fields."""
    q = links.setup_params(s.preset, s.a)
    if s.b is None:
        q["compare"] = "0"
    else:
        q["b_loss"] = s.b.loss  # always present: marks B as given by the link
        q.update({f"b_{f}": str(getattr(s.b, f)) for f in RUN_FIELDS
                  if f != "loss" and getattr(s.b, f) != getattr(s.a, f)})
    return q


def restore(params: Mapping[str, Any]) -> tuple[TrainConfig, TrainConfig, str, bool, list[str]]:
    """(A, B, preset, compare, warnings) from URL params; anything invalid keeps the defaults, with a warning."""
    params, preset, fields_given, warnings = links.read(params, LINK_KEYS, TOY_PRESETS, DEFAULT_PRESET,
                                                       _("a Mode collapse lab"))
    compare = params.get("compare", "1").strip().lower() not in ("0", "false", "no", "off")
    try:
        b_given = {f: params[f"b_{f}"] for f in RUN_FIELDS if f"b_{f}" in params}
        a, b = preset_pair(preset) if preset != CUSTOM else (TrainConfig(), None)
        if fields_given:
            a = cfg.from_query(params)
        elif preset != CUSTOM and (b_given or not compare):  # no twin beside it: the preset's own budget
            a = PRESETS[preset].config
        if not a.is_toy:
            raise ConfigError(_("data {data!r} is image data; this page trains on 2-D toy data ({toy})").format(
                data=a.data, toy=", ".join(cfg.TOY_DATA)))
        if b_given:
            b = cfg.from_dict({**a.to_dict(), **b_given})
        elif fields_given or b is None:
            b = default_b(a, preset)
    except ConfigError as e:
        warnings.append(_("the link's setup could not be used ({error}); the defaults are kept").format(error=e))
        preset = preset if preset != CUSTOM else DEFAULT_PRESET
        a, b = preset_pair(preset)
    return a, b, preset, compare, warnings


# ---- session state ----------------------------------------------------------------------------------------
def load(a: TrainConfig, b: TrainConfig, preset: str, compare: bool) -> None:
    """Write a setup into the widgets' session-state values (before the widgets are drawn)."""
    st.session_state[P + "base"] = a
    values = {P + f: getattr(a, f) for f in SHARED_FIELDS}
    values.update({f"{P}a_{f}": getattr(a, f) for f in RUN_FIELDS})
    values.update({f"{P}b_{f}": getattr(b, f) for f in RUN_FIELDS})
    values.update({P + "preset": preset, P + "compare": compare})
    state.put(values)


def _load_link(params: Mapping[str, Any]) -> list[str]:
    a, b, preset, compare, warnings = restore(params)
    load(a, b, preset, compare)
    return warnings


FORM = setup_form.SetupForm(P, TOY_PRESETS, _load_link, lambda name: load(*preset_pair(name), name, True))


def summary() -> str:
    """The setup in one line, for the folded setup panel: what a running run cannot change."""
    ss = st.session_state
    runs = _(" · runs A and B") if ss[P + "compare"] else ""
    data = ss[P + "data"]
    return _("Setup: {preset} · {data} · G {g_width}×{g_depth}, D {d_width}×{d_depth}, z {z_dim} · {optimizer} · "
             "seed {seed}").format(preset=ss[P + "preset"], data=_(DATA_LABELS[data]) if data in DATA_LABELS else data,
                                   g_width=ss[P + "g_width"], g_depth=ss[P + "g_depth"], d_width=ss[P + "d_width"],
                                   d_depth=ss[P + "d_depth"], z_dim=ss[P + "z_dim"], optimizer=ss[P + "optimizer"],
                                   seed=ss[P + "seed"]) + runs


def build(points: np.ndarray | None, csv_error: str | None) -> Setup:
    """The configs the current widget values describe (validated; errors are messages, not exceptions)."""
    ss = st.session_state
    compare, preset = bool(ss[P + "compare"]), ss[P + "preset"]
    s = Setup(None, None, compare, preset, points)
    shared = {f: ss[P + f] for f in SHARED_FIELDS}
    for run in ("a", "b") if compare else ("a",):
        try:
            config = ss[P + "base"].replace(**shared, **{f: ss[f"{P}{run}_{f}"] for f in RUN_FIELDS})
            setattr(s, run, config)
        except ConfigError as e:
            s.errors.append(_("Run {name}: {error}").format(name=run.upper(), error=e))
    if shared["data"] == "csv":
        if csv_error:
            s.errors.append(_("CSV upload: {error}").format(error=csv_error))
        elif points is None:
            s.errors.append(_("Upload a CSV file with two columns (x, y) to train on your own points."))
    return s


def parse_upload(uploaded) -> tuple[np.ndarray | None, str | None]:
    """(points, error) for an uploaded CSV, parsed once per file (cached in session state by file id)."""
    if uploaded is None:
        return None, None
    cache = st.session_state.get(P + "csv_cache")
    if cache is not None and cache[0] == uploaded.file_id:
        return cache[1], cache[2]
    try:
        pts, err = parse_csv_points(uploaded.getvalue()), None
    except ValueError as e:
        pts, err = None, str(e)
    st.session_state[P + "csv_cache"] = (uploaded.file_id, pts, err)
    return pts, err


OPTIONS = {"data": cfg.TOY_DATA, "activation": cfg.ACTIVATIONS, "optimizer": cfg.OPTIMIZERS}
