"""Image GAN: the tutorials' MNIST GANs (MLP, Keras BN-MLP, DCGAN, conditional, WGAN, WGAN-GP) and a VAE to
compare, trained live, with a fixed-noise sample grid and its timeline, D(x) vs D(G(z)) (a VAE: its ELBO
terms), quality scores over time, checkpoints, and two runs side by side.

Thin page: widgets -> TrainConfig (ganlab/ui/image_gan/widgets.py, setup.py) -> one job (ganlab.jobs) ->
the live view of its snapshots (ganlab/ui/image_gan/views.py, charts.py, checkpoint.py; figures from
ganlab/viz/image_gan.py and ganlab/viz/common.py).
"""
import functools

import streamlit as st

from ganlab.i18n import N_, _
from ganlab.text import md
from ganlab.ui import code, controls, lang, links, live, session, watch
from ganlab.ui.image_gan import charts as ic
from ganlab.ui.image_gan import checkpoint as ick
from ganlab.ui.image_gan import expect
from ganlab.ui.image_gan import setup as ims
from ganlab.ui.image_gan import views as iv
from ganlab.ui.image_gan.widgets import setup_ui

owner = session.owner()
st.title(_("Image GAN"))
st.caption(_("G turns 100 random numbers into a picture; D learns to tell G's pictures from real digits. The grid "
             "shows G's pictures for the same 64 noise vectors as it trains: watch noise become digits."))
for w in ims.FORM.init():
    st.warning(_("Share link: {warning}").format(warning=md(w)))

job = controls.attach(iv.SLOT, owner, "image_gan")  # after a reload: the run this student left here
setup = setup_ui(locked=job is not None and job.active, job_id=job.id if job is not None else None)
for e in setup.errors:
    st.error(md(e))  # quotes what the student typed
if setup.ok:
    iv.prefetch(setup.config.data)  # in the background: Start need not wait for the data
    controls.sync_live(job, iv.SLOT, setup.configs)  # a new loss / lr reaches the running job
    params = ims.share_params(setup)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)  # the address bar is always a link to this setup

if job is None or not job.active:
    expect.before_start(setup)  # how long this setup takes here now, and a lighter choice when that is long
controls.buttons(iv.SLOT, start=functools.partial(iv.start, setup, owner), can_start=setup.ok, key_prefix="ig",
                 help_start=_("Train from scratch with this setup (and run B beside it)"))
was_live = controls.is_live(job, iv.SLOT)
watch.run(iv.SLOT, was_live)  # paused or done: the banner's tick reruns the page once it trains again


@st.fragment(run_every=live.refresh_every(was_live, iv.SAMPLES_EVERY_S))
def live_view() -> None:  # one fragment (two that fire together lose ticks): lines and grids, then the charts
    lang.use()  # a fragment rerun starts without the full run's language
    session.touch()
    j = controls.current_job(iv.SLOT)
    iv.draw_samples(j)
    ic.draw_charts(j)  # redrawn only when the history moved (cached figures otherwise)
    live.stop_when_idle(was_live, controls.is_live(j, iv.SLOT))


live_view()

with st.expander(_("Checkpoints: download this run, or upload one to inspect and resume")):
    ick.download_ui(job)
    ick.upload_ui(owner)
if setup.ok:
    with st.expander(_("Share this setup")):
        st.markdown(_("This link opens the page with the same data, networks, loss and optimiser "
                      "(the address bar shows it too):"))
        st.code(links.share_url(ims.share_params(setup)), language=None)
code.show_code(iv.code_objects(setup.configs if setup.ok else None),
               intro=N_("The loss functions of this setup, the model builder and its networks, and one training "
                        "step (`ganlab.engine.trainer.Trainer`, or `ganlab.engine.vae.VAETrainer` for a VAE)."))
