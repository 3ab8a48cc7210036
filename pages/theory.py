"""Theory: the minimax game in one dimension, live -- p_data, p_g, the learned D and the optimal D*, the value
V(D, G), the JS divergence, and why the non-saturating loss exists.

Thin page: widgets -> TheoryConfig (ganlab/ui/theory/widgets.py) -> one job with a Theory1D runner
(ganlab.jobs) -> the live view of its snapshots (ganlab/ui/theory/views.py, figures from ganlab/viz/theory.py).
"""
import streamlit as st

from ganlab.i18n import N_, _
from ganlab.text import md
from ganlab.ui import code, controls, lang, live, session, watch
from ganlab.ui.theory import views as tv
from ganlab.ui.theory import widgets as tw
from ganlab.ui.theory.widgets import setup_ui

owner = session.owner()
st.title(_("Theory: the minimax game in 1-D"))
st.caption(_("Every GAN tutorial opens with the same formulas. Here they run: a one-dimensional GAN trains "
             "live, and every claim below is computed on a grid and checked while you watch."))
for w in tw.init_link():
    st.warning(_("Share link: {warning}").format(warning=md(w)))


def formulas() -> None:
    """The paper's formulas: open above the setup before a run; folded below the live view once there is one."""
    with st.expander(_("The formulas"), expanded=job is None):
        st.markdown(_("**The game** (Goodfellow et al. 2014): D maximises, G minimises"))
        st.latex(r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)]"
                 r" + \mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]")
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(_("**The best D for a fixed G** (maximise the integrand pointwise)"))
            st.latex(r"D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}")
        with c2:
            st.markdown(_("**At D\\* the value is a divergence**: G minimises Jensen–Shannon"))
            st.latex(r"V(D^*,G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)")
        st.markdown(_("**Why the non-saturating loss exists.** With d = D(G(z)) = σ(s), s = D's logit, G's gradient "
                      "reaches its weights through s. Early in training D rejects the fakes (d ≈ 0), and there the "
                      "saturating loss gives G almost no gradient, exactly when it needs one:"))
        c1, c2 = st.columns(2)
        with c1:
            st.latex(r"\text{saturating: } L_G = \log(1-d),\quad \tfrac{\partial L_G}{\partial s} = -d \to 0")
        with c2:
            st.latex(r"\text{non-saturating: } L_G = -\log d,\quad"
                     r" \tfrac{\partial L_G}{\partial s} = -(1-d) \to -1")


job = controls.attach(tv.SLOT, owner, "theory")  # after a reload: the run this student left here
if job is None:
    formulas()  # else below the live view: the live view first

active = job is not None and job.active
setup = setup_ui(locked=active, job_id=job.id if job is not None else None)
for e in setup.errors:
    st.error(md(e))  # quotes what the student typed
if setup.ok:
    tv.sync_live(job, setup.config)  # a new loss / learning rate reaches the running job
    tw.sync_url()  # the address bar is always a link to this setup
tv.buttons(owner, setup)
was_live = controls.is_live(job, tv.SLOT) or tv.d_training_pending(job)
watch.run(tv.SLOT, was_live, tv.d_training_pending)  # the banner's tick: rerun once it trains again


@st.fragment(run_every=live.refresh_every(was_live))
def live_view() -> None:
    lang.use()  # a fragment rerun starts without the full run's language
    session.touch()
    j = controls.current_job(tv.SLOT)
    tv.draw(j, setup.config)  # before Start: the initial state (step 0) of this setup
    live.stop_when_idle(was_live, controls.is_live(j, tv.SLOT) or tv.d_training_pending(j))


live_view()
if job is not None:
    formulas()
if setup.ok:
    tw.share_box()
code.show_code(tv.code_objects(), intro=N_("The grid maths behind the numbers above, one training step of the 1-D "
                                           "GAN, the D-only training behind the button, and the losses it uses "
                                           "(`ganlab.losses`)."))
