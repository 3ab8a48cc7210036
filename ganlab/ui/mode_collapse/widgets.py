"""Mode collapse lab widgets. Values live in st.session_state (see setup.load); no widget gets `value=`.

While a run is active (`locked`), only the settings a live run can take (losses, learning rates, D steps,
remedies other than packing, the step budget) stay editable; they are sent to the running job by the page
(controls.sync_live). The shared rules are in ganlab/ui/setup_form.py.
"""
from __future__ import annotations

import streamlit as st

from ganlab.i18n import _
from ganlab.losses import LOSSES
from ganlab.presets import PRESETS
from ganlab.ui import setup_form
from ganlab.ui.mode_collapse import setup as ts
from ganlab.ui.mode_collapse.setup import P

_num = ts.FORM.number


def preset_ui(locked: bool) -> None:
    name, c2, chosen = setup_form.preset_row(
        ts.FORM, locked, P + "compare", _("A classroom scenario: it sets every widget below"),
        _("B trains on the same data with the same seed and networks, with its own loss/remedies"),
        _("Custom setup: pick a preset to load a classroom scenario."))
    with c2:
        if chosen:
            t = ts.twin(name)
            if t and st.session_state[P + "compare"]:
                st.caption(_("Run B starts as **{preset}**: {lesson}").format(preset=t, lesson=PRESETS[t].text()))


def shared_ui(locked: bool):
    """Data, networks and optimiser shared by A and B. Returns the uploaded CSV file (or None)."""
    uploaded = None
    with st.container():  # inside the setup panel (setup_ui)
        c1, c2, c3 = st.columns(3)
        with c1:
            st.selectbox(_("Data"), ts.OPTIONS["data"], key=P + "data", format_func=lambda k: _(ts.DATA_LABELS[k]),
                         disabled=locked)
            if st.session_state[P + "data"] == "csv":
                uploaded = st.file_uploader(_("CSV with two columns x, y (a header row is fine)"), type=["csv", "txt"],
                                            key=P + "csv", disabled=locked)
            a, b = st.columns(2)
            _num(a, _("Seed"), "seed", locked, min_value=0, step=1)
            _num(b, _("Batch size"), "batch_size", locked, min_value=2, max_value=4096, step=32)
            _num(st, _("G steps (budget)"), "steps", locked, min_value=1, max_value=1_000_000, step=500)
        with c2:
            _num(st, _("z dimension"), "z_dim", locked, min_value=1, max_value=512, step=1,
                 help=_("Size of G's noise input; a large z with a slow D collapses readily"))
            a, b = st.columns(2)
            _num(a, _("G width"), "g_width", locked, min_value=4, max_value=2048, step=16)
            _num(b, _("G depth"), "g_depth", locked, min_value=1, max_value=8, step=1)
            _num(a, _("D width"), "d_width", locked, min_value=4, max_value=2048, step=16)
            _num(b, _("D depth"), "d_depth", locked, min_value=1, max_value=8, step=1)
            st.selectbox(_("Activation"), ts.OPTIONS["activation"], key=P + "activation", disabled=locked)
        with c3:
            st.selectbox(_("Optimiser"), ts.OPTIONS["optimizer"], key=P + "optimizer", disabled=locked)
            _num(st, _("Average G's weights (EMA decay)"), "g_ema", locked, min_value=0.0, max_value=0.9999,
                 step=0.05, format="%.4g",
                 help=_("The points are drawn from a running average of G's weights: θ̄ ← d·θ̄ + (1−d)·θ after "
                        "each G step (0.9 ≈ the last 10 steps). Training is unchanged; the average removes Adam's "
                        "step-to-step jitter. 0 = show G itself"))
            st.caption(_("Learning rates, the D:G step ratio, the loss and the remedies are set per run below "
                         "and can change while the runs train."))
    return uploaded


def run_ui(run: str, locked: bool) -> None:
    """Loss and remedies of run `run` ('a' or 'b')."""
    k = f"{P}{run}_"
    st.markdown(_("**Run {name}**").format(name=run.upper()))
    st.selectbox(_("Loss"), tuple(LOSSES), key=k + "loss", format_func=setup_form.loss_label,
                 help=_("Switchable while the run trains: the weights are kept"))
    c1, c2, c3 = st.columns(3)
    _num(c1, _("G learning rate"), "g_lr", locked, key=k + "g_lr", min_value=0.0, max_value=1.0, step=1e-4,
         format="%.1e")
    _num(c2, _("D learning rate"), "d_lr", locked, key=k + "d_lr", min_value=0.0, max_value=1.0, step=1e-4,
         format="%.1e")
    _num(c3, _("D steps per G step"), "d_steps", locked, key=k + "d_steps", min_value=1, max_value=20, step=1,
         help=_("The D:G ratio: D updates per G update"))
    c1, c2, c3, c4 = st.columns(4)
    _num(c1, _("Unrolled D steps"), "unrolled_steps", locked, key=k + "unrolled_steps", min_value=0, max_value=20,
         step=1, help=_("Metz et al. 2017: G looks k steps of D ahead"))
    _num(c2, _("Pack"), "pack", locked, key=k + "pack", min_value=1, max_value=16, step=1,
         help=_("PacGAN: D judges this many samples at once (needs a new run)"))
    _num(c3, _("GP weight λ"), "gp_weight", locked, key=k + "gp_weight", min_value=0.0, max_value=1000.0, step=1.0,
         help=_("WGAN-GP's gradient penalty (used by the WGAN-GP loss)"))
    _num(c4, _("R1 γ"), "r1_gamma", locked, key=k + "r1_gamma", min_value=0.0, max_value=1000.0, step=0.1,
         help=_("R1 penalty on D's gradient at real data (Mescheder et al. 2018)"))


def setup_ui(locked: bool, job_id: int | None = None) -> ts.Setup:
    """All the lab's setup widgets, in one panel (folded while the page shows run `job_id`, so the live view
    comes first); returns the validated setup (errors as messages)."""
    with setup_form.panel(P, _("Setup: data, networks, optimiser"), job_id, ts.summary):
        preset_ui(locked)
        uploaded = shared_ui(locked)
        runs = ("a", "b") if st.session_state[P + "compare"] else ("a",)
        for col, run in zip(st.columns(2), runs):
            with col:
                run_ui(run, locked)
    points, csv_error = ts.parse_upload(uploaded) if st.session_state[P + "data"] == "csv" else (None, None)
    return ts.build(points, csv_error)
