"""Image GAN page widgets. Values live in st.session_state (see setup.load); no widget gets `value=`.

Every widget is always drawn (disabled where it does not apply, e.g. DCGAN width for an MLP), so its value
survives a change of model. While a run is active (`locked`) only the settings a live run can take (loss,
learning rates, betas, D:G ratio, label smoothing, GP weight, budget) stay editable; the page sends them to
the running job (controls.sync_live). The shared rules are in ganlab/ui/setup_form.py.
"""
from __future__ import annotations

import streamlit as st

from ganlab import config as cfg
from ganlab.data.images import TORCHVISION
from ganlab.losses import LOSSES
from ganlab.ui import setup_form
from ganlab.ui.image_gan import setup as ims
from ganlab.ui.image_gan.setup import P

_num = ims.FORM.number


def preset_ui(locked: bool) -> None:
    c1, c2 = st.columns([1, 3])
    with c1:
        name = ims.FORM.preset_select(locked, help="A tutorial's GAN: it sets every widget below")
    with c2:
        setup_form.lesson(name, "Custom setup: pick a preset to load one of the tutorials' GANs.")


def data_model_ui(locked: bool) -> None:
    ss = st.session_state
    c1, c2, c3 = st.columns(3)
    with c1:
        st.selectbox("Data", cfg.IMAGE_DATA, key=P + "data", format_func=ims.DATA_LABELS.get, disabled=locked)
        if ss[P + "data"] in TORCHVISION:
            st.text_input("Data directory (torchvision files)", key=P + "data_dir", disabled=locked,
                          placeholder="$GANLAB_DATA or ~/.ganlab/data",
                          help="Where the dataset's files are; without them the embedded MNIST is used")
        a, b = st.columns(2)
        _num(a, "Seed", "seed", locked, min_value=0, step=1)
        _num(b, "G steps (budget)", "steps", locked, min_value=1, max_value=1_000_000, step=100)
    with c2:
        st.radio("Model", cfg.MODELS, key=P + "model", disabled=locked, horizontal=True,
                 format_func={"mlp": "MLP (tutorial)", "dcgan": "DCGAN"}.get)
        st.checkbox("Conditional (G and D are told the digit)", key=P + "conditional", disabled=locked)
        a, b = st.columns(2)
        _num(a, "z dimension", "z_dim", locked, min_value=1, max_value=512, step=1)
        dcgan = ss[P + "model"] == "dcgan"
        _num(b, "DCGAN width", "dcgan_width", locked, off=not dcgan, min_value=4, max_value=256, step=8,
             help="Base channel count (the DCGAN paper: 64)")
        _num(a, "MLP G width", "g_width", locked, off=dcgan, min_value=4, max_value=2048, step=16)
        _num(b, "MLP D width", "d_width", locked, off=dcgan, min_value=4, max_value=2048, step=16)
    with c3:
        a, b = st.columns(2)
        _num(a, "G learning rate", "g_lr", locked, min_value=1e-7, max_value=1.0, step=1e-4, format="%.1e")
        _num(b, "D learning rate", "d_lr", locked, min_value=1e-7, max_value=1.0, step=1e-4, format="%.1e")
        _num(a, "Adam β1", "beta1", locked, min_value=0.0, max_value=0.999, step=0.05, format="%.3f")
        _num(b, "Adam β2", "beta2", locked, min_value=0.0, max_value=0.9999, step=0.001, format="%.4f")
        _num(a, "Batch size", "batch_size", locked, min_value=2, max_value=4096, step=16)
        _num(b, "D steps per G step", "d_steps", locked, min_value=1, max_value=20, step=1)
        _num(a, "Average G's weights (EMA decay)", "g_ema", locked, min_value=0.0, max_value=0.9999, step=0.05,
             format="%.4g", help="Grids and scores come from a running average of G's weights: θ̄ ← d·θ̄ + "
                                 "(1−d)·θ after each G step (0.9 ≈ the last 10 steps). Training is unchanged; "
                                 "the average removes Adam's step-to-step jitter. 0 = show G itself")


def loss_ui(locked: bool) -> None:
    ss = st.session_state
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        st.selectbox("Loss", tuple(LOSSES), key=P + "loss", format_func=setup_form.loss_label,
                     help="Switchable while the run trains: the weights are kept")
    loss = LOSSES.get(ss[P + "loss"])
    _num(c2, "Real label (0.9 = one-sided smoothing)", "real_label", locked, min_value=0.5, max_value=1.0,
         step=0.05, format="%.2f",
         help="D's target for real images (minimax, non-saturating, LSGAN); the tutorials use 0.9 so D "
              "never becomes fully sure")
    _num(c3, "GP weight λ", "gp_weight", locked, min_value=0.0, max_value=1000.0, step=1.0,
         off=loss is not None and not loss.gradient_penalty, help="WGAN-GP's gradient penalty")
    if loss is not None:
        st.latex(loss.formula)


def setup_ui(locked: bool) -> ims.Setup:
    """All of the page's setup widgets; returns the validated setup (errors as messages)."""
    preset_ui(locked)
    with st.expander("Setup: data, networks, optimiser, loss", expanded=True):
        data_model_ui(locked)
        loss_ui(locked)
    return ims.build()
