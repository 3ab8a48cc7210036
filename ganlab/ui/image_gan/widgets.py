"""Image GAN page widgets. Values live in st.session_state (see setup.load); no widget gets `value=`.

Every widget is always drawn (disabled where it does not apply, e.g. DCGAN width for an MLP), so its value
survives a change of model. While a run is active (`locked`) only the settings a live run can take (loss,
learning rates, betas, D:G ratio, label smoothing, GP weight, budget) stay editable; the page sends them to
the running job (controls.sync_live). The shared rules are in ganlab/ui/setup_form.py.
"""
from __future__ import annotations

import streamlit as st

from ganlab import config as cfg
from ganlab.i18n import _
from ganlab.losses import LOSSES
from ganlab.presets import PRESETS
from ganlab.ui import setup_form
from ganlab.ui.image_gan import setup as ims
from ganlab.ui.image_gan.setup import P

_num = ims.FORM.number


def preset_ui(locked: bool) -> None:
    name, c2, _chosen = setup_form.preset_row(
        ims.FORM, locked, P + "compare", _("A tutorial's GAN: it sets every widget below"),
        _("B trains side by side as a whole preset, with the same data and seed (so the same fixed noise where both "
          "draw z of the same size)"),
        _("Custom setup: pick a preset to load one of the tutorials' GANs."))
    with c2:
        if st.session_state.get(P + "compare"):
            if st.session_state.get(P + "b_preset") not in ims.PRESET_NAMES:
                st.session_state[P + "b_preset"] = ims.twin_of(name)
            b = st.selectbox(_("Run B: preset"), ims.PRESET_NAMES, key=P + "b_preset", disabled=locked,
                             help=_("Run B trains this preset on run A's data with run A's seed"))
            st.caption(_("Run B is **{preset}**: {lesson}").format(preset=b, lesson=PRESETS[b].text()))


def layers_ui(c: cfg.TrainConfig) -> None:
    """The networks this setup builds, layer by layer, with Keras-style weight counts."""
    from ganlab.checkpoint import sample_shape
    from ganlab.models import summary

    nets = summary.networks(c, sample_shape(c), 10 if c.conditional else 0)
    names = {"G": _("decoder (G's network)"), "D": _("encoder (D's mirror)")} if c.is_vae else {"G": "G", "D": "D"}
    cols = st.columns(2)
    for col, (net, layers) in zip(cols, nets.items()):
        rows = [f"| {layer.kind} | {layer.detail} | {layer.params + layer.stats:,} |" for layer in layers]
        total = sum(layer.params + layer.stats for layer in layers)
        col.markdown(_("**{net}**: {total:,} weights (Keras's count: BatchNorm's running mean and variance "
                       "included)").format(net=names[net], total=total)
                     + "\n\n| {} | {} | {} |\n|---|---|---|\n".format(_("layer"), _("shape"), _("weights"))
                     + "\n".join(rows))


def data_model_ui(locked: bool) -> None:
    ss = st.session_state
    c1, c2, c3 = st.columns(3)
    with c1:
        st.selectbox(_("Data"), cfg.IMAGE_DATA, key=P + "data", format_func=lambda k: _(ims.DATA_LABELS[k]),
                     disabled=locked,
                     help=_("The sets marked \"files needed\" are read from the server's data folder, which "
                            "whoever runs the server sets (GANLAB_DATA); without their files the embedded "
                            "MNIST is used"))
        a, b = st.columns(2)
        _num(a, _("Seed"), "seed", locked, min_value=0, step=1)
        _num(b, _("G steps (budget)"), "steps", locked, min_value=1, max_value=1_000_000, step=100)
    with c2:
        st.radio(_("Model"), cfg.MODELS, key=P + "model", disabled=locked, horizontal=True,
                 format_func={"mlp": _("MLP (tutorial)"), "dcgan": "DCGAN", "vae": _("VAE (not a GAN)")}.get,
                 help=_("VAE: the DCGAN's G as decoder, D's mirror as encoder, trained on the ELBO"))
        vae = ss[P + "model"] == "vae"
        st.checkbox(_("Conditional (G and D are told the digit)"), key=P + "conditional", disabled=locked or vae)
        a, b = st.columns(2)
        _num(a, _("z dimension"), "z_dim", locked, min_value=1, max_value=512, step=1)
        mlp = ss[P + "model"] == "mlp"
        _num(b, _("DCGAN width"), "dcgan_width", locked, off=mlp, min_value=4, max_value=256, step=8,
             help=_("Base channel count (the DCGAN paper: 64); the VAE's decoder and encoder use it too"))
        _num(a, _("MLP G width"), "g_width", locked, off=not mlp or bool(ss[P + "g_widths"].strip()), min_value=4,
             max_value=2048, step=16)
        _num(b, _("MLP D width"), "d_width", locked, off=not mlp or bool(ss[P + "d_widths"].strip()), min_value=4,
             max_value=2048, step=16)
        a.text_input(_("MLP G layers"), key=P + "g_widths", disabled=locked or not mlp, placeholder=_("width x depth"),
                     help=_("One width per hidden layer, e.g. 128,256,512,1024 (the Keras tutorial); empty: the "
                            "G width above, repeated"))
        b.text_input(_("MLP D layers"), key=P + "d_widths", disabled=locked or not mlp, placeholder=_("width x depth"),
                     help=_("One width per hidden layer, e.g. 1024,512,256; empty: the D width above, repeated"))
    with c3:
        a, b = st.columns(2)
        _num(a, _("G learning rate"), "g_lr", locked, min_value=1e-7, max_value=1.0, step=1e-4, format="%.1e")
        _num(b, _("D learning rate"), "d_lr", locked, min_value=1e-7, max_value=1.0, step=1e-4, format="%.1e")
        _num(a, _("Adam β1"), "beta1", locked, min_value=0.0, max_value=0.999, step=0.05, format="%.3f")
        _num(b, _("Adam β2"), "beta2", locked, min_value=0.0, max_value=0.9999, step=0.001, format="%.4f")
        _num(a, _("Batch size"), "batch_size", locked, min_value=2, max_value=4096, step=16)
        _num(b, _("D steps per G step"), "d_steps", locked, off=vae, min_value=1, max_value=20, step=1)
        _num(a, _("Average G's weights (EMA decay)"), "g_ema", locked, min_value=0.0, max_value=0.9999, step=0.05,
             format="%.4g", help=_("Grids and scores come from a running average of G's weights: θ̄ ← d·θ̄ + "
                                   "(1−d)·θ after each G step (0.9 ≈ the last 10 steps). Training is unchanged; "
                                   "the average removes Adam's step-to-step jitter. 0 = show G itself"))


ELBO = (r"\max_{\text{enc},\,\text{dec}}\ \mathbb{E}_{q(z|x)}[\log p(x|z)]"
        r" - \mathrm{KL}\big(q(z|x)\,\|\,\mathcal{N}(0, I)\big)")


def loss_ui(locked: bool) -> None:
    ss = st.session_state
    vae = ss[P + "model"] == "vae"
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        st.selectbox(_("Loss"), tuple(LOSSES), key=P + "loss", format_func=setup_form.loss_label, disabled=vae,
                     help=_("A VAE has no adversary: it maximises the ELBO") if vae else
                     _("Switchable while the run trains: the weights are kept"))
    loss = LOSSES.get(ss[P + "loss"])
    _num(c2, _("Real label (0.9 = one-sided smoothing)"), "real_label", locked, min_value=0.5, max_value=1.0,
         step=0.05, format="%.2f", off=vae,
         help=_("D's target for real images (minimax, non-saturating, LSGAN); the tutorials use 0.9 so D "
                "never becomes fully sure"))
    _num(c3, _("GP weight λ"), "gp_weight", locked, min_value=0.0, max_value=1000.0, step=1.0,
         off=vae or (loss is not None and not loss.gradient_penalty), help=_("WGAN-GP's gradient penalty"))
    if vae:
        st.latex(ELBO)
    elif loss is not None:
        st.latex(loss.formula)


def setup_ui(locked: bool, job_id: int | None = None) -> ims.Setup:
    """All of the page's setup widgets, in one panel (folded while the page shows run `job_id`, so the live
    view comes first); returns the validated setup (errors as messages)."""
    with setup_form.panel(P, _("Setup: data, networks, optimiser, loss"), job_id, ims.summary):
        preset_ui(locked)
        data_model_ui(locked)
        loss_ui(locked)
    setup = ims.build()
    if setup.ok:
        with st.expander(_("The networks, layer by layer")):
            layers_ui(setup.config)
    return setup
