"""ganlab: `streamlit run app.py`. Navigation over the pages, the sidebar (device, your runs), session set-up."""
import streamlit as st

from ganlab.ui import session, sidebar, state

st.set_page_config(page_title="ganlab", page_icon=":material/scatter_plot:", layout="wide")
session.configure_torch()  # one torch thread per run on CPU (GANLAB_TORCH_THREADS overrides)
session.warm_up_engine()  # torch's lazy imports, in the background, before the first Start
owner = session.owner()  # this browser session's id; its runs are released when the session ends
state.keep_widget_values()  # widget values survive a visit to another page

page = st.navigation([
    st.Page("pages/mode_collapse.py", title="Mode collapse lab", icon=":material/scatter_plot:", default=True),
    st.Page("pages/image_gan.py", title="Image GAN", icon=":material/image:"),
    st.Page("pages/latent_space.py", title="Latent space", icon=":material/explore:"),
    st.Page("pages/theory.py", title="Theory", icon=":material/functions:"),
])
sidebar.render(owner)
page.run()
