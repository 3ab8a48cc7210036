"""Theory page widgets: the 1-D game's setup -> a validated TheoryConfig.

Widget values live in st.session_state under keys starting with P (declared with state.defaults, never with
`value=`). While a run is active only ganlab.theory.config.LIVE_KEYS stay editable (the loss, learning rates
and D steps widgets are never locked); the page sends their changes to the running job (views.sync_live).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ganlab import losses
from ganlab.config import ConfigError
from ganlab.i18n import N_, _
from ganlab.theory import DATA_PRESETS, TheoryConfig, parse_floats
from ganlab.theory.config import LOSS_KEYS
from ganlab.ui import setup_form, state

P = "th_"
Z_DIST_LABELS = (N_("normal"), N_("uniform"))  # the noise picker's values, shown translated
CUSTOM = "custom"
LRS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)

DEFAULTS = {P + "data": "gaussian", P + "means": "-1, 2", P + "stds": "0.5, 0.5", P + "weights": "1, 1",
            P + "loss": "non_saturating", P + "g_lr": 1e-3, P + "d_lr": 1e-3, P + "d_steps": 1,
            P + "z_dist": "normal", P + "z_dim": 1, P + "seed": 0, P + "dopt_steps": 800}


@dataclass
class Setup:
    config: TheoryConfig | None
    errors: list[str] = field(default_factory=list)
    dopt_steps: int = 800

    @property
    def ok(self) -> bool:
        return self.config is not None


def _data_label(name: str) -> str:
    return f"{name}: {_(DATA_PRESETS[name][3])}" if name in DATA_PRESETS else _("custom mixture (type it)")


def summary() -> str:
    """The setup in one line, for the folded setup panel: what a running run cannot change."""
    ss = st.session_state
    return _("Setup: p_data {data} · noise z {z_dist} × {z_dim} · seed {seed}").format(
        data=ss[P + "data"], z_dist=ss[P + "z_dist"], z_dim=ss[P + "z_dim"], seed=ss[P + "seed"])


def setup_ui(locked: bool, job_id: int | None = None) -> Setup:
    """The widgets, in one panel (folded while the page shows run `job_id`, so the live view comes first);
    returns the validated config or the reasons it is not valid."""
    state.defaults(DEFAULTS)
    with setup_form.panel(P, _("Setup: data, noise, loss, learning rates"), job_id, summary):
        return _setup_ui(locked)


def _setup_ui(locked: bool) -> Setup:
    fixed = dict(disabled=locked)
    errors: list[str] = []
    c1, c2, c3 = st.columns([2, 1.3, 1.3])
    with c1:
        st.selectbox(_("Data density p_data"), (*DATA_PRESETS, CUSTOM), key=P + "data", format_func=_data_label,
                     help=_("A Gaussian mixture; 'custom' lets you type its means, stds and weights"), **fixed)
        if st.session_state[P + "data"] == CUSTOM:
            a, b, c = st.columns(3)
            a.text_input(_("means"), key=P + "means", help=_("comma-separated, inside (-5, 5)"), **fixed)
            b.text_input(_("stds"), key=P + "stds", help=_("one, or one per mean; 0.05..3"), **fixed)
            c.text_input(_("weights"), key=P + "weights", help=_("one, or one per mean; normalised"), **fixed)
        a, b, c = st.columns(3)
        a.selectbox(_("noise z"), Z_DIST_LABELS, key=P + "z_dist", help="z ~ N(0, I) or U[-1, 1]^k",
                    format_func=_, **fixed)
        b.number_input(_("z dims"), key=P + "z_dim", min_value=1, max_value=4, step=1, **fixed,
                       help=_("the mapping below draws z's first coordinate"))
        c.number_input(_("seed"), key=P + "seed", min_value=0, max_value=2**31 - 1, step=1, **fixed)
    with c2:
        st.radio(_("Generator loss"), LOSS_KEYS, key=P + "loss", format_func=lambda k: _(losses.LOSSES[k].label),
                 help=_("Both train D the same way; they differ in what G minimises. Can change while it runs."))
        st.number_input(_("D steps per G step"), key=P + "d_steps", min_value=1, max_value=10, step=1)
    with c3:
        st.select_slider(_("G learning rate"), LRS, key=P + "g_lr", format_func=lambda v: f"{v:g}")
        st.select_slider(_("D learning rate"), LRS, key=P + "d_lr", format_func=lambda v: f"{v:g}")
        st.number_input(_("D steps for 'train D to optimum'"), key=P + "dopt_steps", min_value=50, max_value=5000,
                        step=50)
    ss = st.session_state
    kw: dict[str, Any] = dict(loss=ss[P + "loss"], g_lr=float(ss[P + "g_lr"]), d_lr=float(ss[P + "d_lr"]),
                              d_steps=int(ss[P + "d_steps"]), z_dist=ss[P + "z_dist"], z_dim=int(ss[P + "z_dim"]),
                              seed=int(ss[P + "seed"]))
    config = None
    try:
        if ss[P + "data"] == CUSTOM:
            kw.update(means=parse_floats(ss[P + "means"], "means"), stds=parse_floats(ss[P + "stds"], "stds"),
                      weights=parse_floats(ss[P + "weights"], "weights"))
            config = TheoryConfig(**kw)
        else:
            config = TheoryConfig.from_preset(ss[P + "data"], **kw)
    except ConfigError as e:
        errors.append(str(e))
    return Setup(config, errors, int(ss[P + "dopt_steps"]))

