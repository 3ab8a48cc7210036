"""ganlab: `streamlit run app.py`. Navigation over the pages, the sidebar (language, device, nickname, your runs),
the teacher's announcement banner, session set-up."""
import pandas  # noqa: F401  imported once here: sessions importing it at the same moment saw it half-initialised
import streamlit as st

from ganlab.i18n import _, pgettext
from ganlab.ui import lang, session, sidebar, state, watch
from ganlab.ui.class_view.banner import banner

st.set_page_config(page_title="ganlab", page_icon=":material/scatter_plot:", layout="wide")
lang.init()  # this session's language (link `lang=zh`, the sidebar's choice, the browser's preference)
session.configure_torch()  # one torch thread per run on CPU (GANLAB_TORCH_THREADS overrides)
session.warm_up_engine()  # torch's lazy imports, in the background, before the first Start
owner = session.owner()  # this student's id (a cookie: reloads and tabs keep it); runs released when they leave
state.keep_widget_values()  # widget values survive a visit to another page (the language too)
state.defaults({lang.KEY: lang.current()})

page = st.navigation([
    st.Page("pages/mode_collapse.py", title=_("Mode collapse lab"), icon=":material/scatter_plot:", default=True),
    st.Page("pages/image_gan.py", title=_("Image GAN"), icon=":material/image:"),
    st.Page("pages/latent_space.py", title=_("Latent space"), icon=":material/explore:"),
    st.Page("pages/theory.py", title=_("Theory"), icon=":material/functions:"),
    st.Page("pages/lesson.py", title=pgettext("a lesson", "Lesson"), icon=":material/school:",
            url_path="lesson"),
    st.Page("pages/class_view.py", title=_("Class"), icon=":material/groups:", url_path="class"),
])
watch.reset()  # what this run draws from is noted afresh (ganlab/ui/watch.py): the sidebar's, the page's
sidebar.render(owner, refresh=page.url_path != "lesson")  # a Lesson tab stays open beside the lab: no run ticker
banner(page.url_path)  # the teacher's announcement and the class lesson's step, polled every few seconds
page.run()
