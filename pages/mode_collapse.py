"""Mode collapse lab: two GANs side by side on 2-D toy data; watch one collapse and the other cover the modes.

Thin page: widgets -> TrainConfig (ganlab/ui/mode_collapse/widgets.py, setup.py) -> one job with runs A and B
(ganlab.jobs) -> the live view of its snapshots (ganlab/ui/mode_collapse/views.py, figures from
ganlab/viz/mode_collapse.py and ganlab/viz/common.py).
"""
import functools

import streamlit as st

from ganlab.i18n import N_, _
from ganlab.text import md
from ganlab.ui import code, controls, lang, links, live, session, watch
from ganlab.ui.mode_collapse import setup as ts
from ganlab.ui.mode_collapse import views as toy_views
from ganlab.ui.mode_collapse.widgets import setup_ui

SLOT = "mc_job"  # session-state key of this page's current job id

owner = session.owner()
st.title(_("Mode collapse lab"))
st.caption(_("A GAN's generator G learns to turn noise into points like the real ones; its discriminator D "
             "learns to tell them apart. When G finds a few points that fool D and stays there, it has "
             "*collapsed*: most modes of the data are never generated."))
for w in ts.FORM.init():
    st.warning(_("Share link: {warning}").format(warning=md(w)))

job = controls.attach(SLOT, owner, "mode_collapse")  # after a reload: the run this student left here
setup = setup_ui(locked=job is not None and job.active, job_id=job.id if job is not None else None)
for e in setup.errors:
    st.error(md(e))  # quotes what the student typed
if setup.ok:
    controls.sync_live(job, SLOT, setup.configs)  # a new loss / lr reaches the running job
    params = ts.share_params(setup)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)  # the address bar is always a link to this setup

controls.buttons(SLOT, start=functools.partial(toy_views.start, SLOT, owner, setup), can_start=setup.ok,
                 key_prefix="mc", help_start=_("Train run A (and B) from scratch with this setup"))
was_live = controls.is_live(job, SLOT)
watch.run(SLOT, was_live)  # paused or done: the banner's tick reruns the page once it trains again


@st.fragment(run_every=live.refresh_every(was_live))
def live_view() -> None:  # one fragment: each run's live line every tick, the figures when they changed
    lang.use()  # a fragment rerun starts without the full run's language
    session.touch()
    j = controls.current_job(SLOT)
    toy_views.draw_status(j)
    toy_views.draw_figures(j, SLOT)
    live.stop_when_idle(was_live, controls.is_live(j, SLOT))


live_view()

if setup.ok:
    with st.expander(_("Share this setup")):
        st.markdown(_("This link opens the lab with the same data, networks, losses and remedies "
                      "(the address bar shows it too):"))
        st.code(links.share_url(ts.share_params(setup)), language=None)
stacked = toy_views.trains_stacked(setup.configs)
code.show_code(toy_views.code_objects(setup.configs, stacked), formulas=toy_views.formulas(setup.configs),
               intro=N_("The losses and remedies of the run above, and one training step of the class engine "
                        "(`ganlab.engine.batched.engine.ClassEngine`), which trains it together with the other "
                        "runs of the same network shapes (each with its own seed, data and settings).")
               if stacked else N_("The losses of the runs above, and one training step of "
                                  "`ganlab.engine.trainer.Trainer`."))
