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
from ganlab.theory import DATA_PRESETS, TheoryConfig, link
from ganlab.theory.config import LOSS_KEYS
from ganlab.ui import lang, links, setup_form, state

P = "th_"
Z_DIST_LABELS = (N_("normal"), N_("uniform"))  # the noise picker's values, shown translated
CUSTOM = link.CUSTOM
LRS = link.LRS
DEFAULTS = {P + k: v for k, v in link.DEFAULTS.items()}  # the widgets' values under the page's prefix


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


def values() -> dict[str, Any]:
    """The page's settings as the share link names them (ganlab/theory/link.py), from the widgets' values."""
    return {k: st.session_state.get(P + k, v) for k, v in link.DEFAULTS.items()}


def init_link() -> list[str]:
    """First visit in this session: the URL's setup (or the defaults) into the widgets' values; every run returns
    that link's warnings, for the page to show."""
    ss = st.session_state
    if not ss.get(P + "ready"):
        restored, warnings = link.restore(st.query_params.to_dict())
        state.put({P + k: v for k, v in restored.items()})
        ss[P + "ready"], ss[P + "link_warnings"] = True, warnings
    return ss.get(P + "link_warnings", [])


def share_params() -> dict[str, str]:
    """URL query params for the setup the widgets show, with the page's language."""
    return {**link.share_params(values()), **lang.link_params()}


def sync_url() -> None:
    """The address bar is always a link to this setup."""
    params = share_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def share_box() -> None:
    with st.expander(_("Share this setup")):
        st.markdown(_("This link opens the Theory page with the same density, losses, learning rates, seed and "
                      "step budget (the address bar shows it too):"))
        st.code(links.share_url(share_params()), language=None)


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
        lo, hi, _every = link.WHOLE["steps"]
        st.number_input(_("G steps (the run's budget)"), key=P + "steps", min_value=lo, max_value=hi, step=1000,
                        help=_("The run stops after this many G updates. Can change while it runs."))
    with c3:
        st.select_slider(_("G learning rate"), LRS, key=P + "g_lr", format_func=lambda v: f"{v:g}")
        st.select_slider(_("D learning rate"), LRS, key=P + "d_lr", format_func=lambda v: f"{v:g}")
        lo, hi, every = link.WHOLE["dopt_steps"]
        st.number_input(_("D steps for 'train D to optimum'"), key=P + "dopt_steps", min_value=lo, max_value=hi,
                        step=every)
    config = None
    try:
        config = link.config(values())
    except ConfigError as e:
        errors.append(str(e))
    ss = st.session_state
    return Setup(config, errors, int(ss[P + "dopt_steps"]))

