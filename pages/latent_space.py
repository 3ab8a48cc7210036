"""Latent space: what a trained generator has learned, explored by moving its noise vector z.

Thin page: pick the generator (ganlab/ui/latent_space/source.py: the bundled checkpoint, the user's runs, an
upload; an opaque handle) and the mode, then that mode's view (ganlab/ui/latent_space/views.py: ganlab.latent,
numpy in, numpy / bytes out -> st.image / Plotly figures from ganlab/viz/latent_space.py).
"""
import streamlit as st

from ganlab.i18n import _
from ganlab.text import md
from ganlab.ui import state
from ganlab.ui.latent_space import share
from ganlab.ui.latent_space import views as lv
from ganlab.ui.latent_space.source import source_ui

state.defaults(lv.DEFAULTS)

st.title(_("Latent space"))
st.caption(_("A generator turns a noise vector z into a sample. Nearby z give nearby samples; a path in z-space "
             "is a smooth morph; a conditional GAN separates *which digit* (the label) from *which style* (z)."))
for w in share.init():
    st.warning(_("Share link: {warning}").format(warning=md(w)))

src = source_ui()
if src is None:
    st.stop()
lv.draw(src, lv.mode_ui(src))
