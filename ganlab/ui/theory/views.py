"""Theory page: the job's commands (incl. "freeze G, train D to optimum") and the live view of its snapshots.

One job with one Theory1D runner; live settings reach it with job.apply. Figures come from
ganlab/viz/theory.py and are rebuilt only when the job published a new snapshot (job.version).
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from ganlab import losses
from ganlab.i18n import _, status
from ganlab.jobs import Job, RunSpec, Status
from ganlab.theory import Theory1D, TheoryConfig, initial_snapshot, math1d
from ganlab.theory.config import LIVE_KEYS
from ganlab.theory.measure import measure
from ganlab.ui import controls, lang, live
from ganlab.ui.theory.widgets import P, Setup
from ganlab.viz import theory as viz

SLOT = "th_job"  # session-state key of the page's current job id
_LIVE = SLOT + "__live"  # live settings last sent to the job
_DOPT = SLOT + "__dopt"  # (job id, d_only_steps the page waits for) while "train D to optimum" runs


# ---- commands --------------------------------------------------------------------------------------------------
def _live_settings(c: TheoryConfig) -> dict[str, Any]:
    return {k: getattr(c, k) for k in sorted(LIVE_KEYS)}


def start(owner: str, config: TheoryConfig) -> Job | None:
    """Start button callback: a new job with one Theory1D runner (built in the worker thread)."""
    label = _("theory: {loss}").format(loss=_(losses.LOSSES[config.loss].label))
    job = controls.submit(SLOT, owner, RunSpec((config,)), label, (),
                          meta={"preset": st.session_state.get(P + "data", "")})
    if job is not None:
        st.session_state[_LIVE] = _live_settings(config)
        st.session_state.pop(_DOPT, None)
        live.forget_figures(SLOT)
    return job


def sync_live(job: Job | None, config: TheoryConfig) -> dict[str, Any]:
    """Send the live settings (loss, learning rates, D steps) that changed since the job last got them."""
    sent = st.session_state.get(_LIVE)
    if job is None or not job.active or sent is None:
        return {}
    new = _live_settings(config)
    changes = {k: v for k, v in new.items() if sent.get(k) != v}
    if changes:
        job.apply(**changes)
        st.session_state[_LIVE] = new
    return changes


def train_d_to_optimum(owner: str, config: TheoryConfig, steps: int) -> None:
    """Button callback: pause (starting a paused run if there is none), then D alone for `steps` updates."""
    job = controls.current_job(SLOT)
    if job is None or not job.active:
        job = start(owner, config)
        if job is None:
            return
    snaps = job.snapshots()
    done = snaps[0].d_only_steps if snaps else 0
    job.pause()
    job.apply(train_d_to_optimum=steps)
    st.session_state[_DOPT] = (job.id, done + steps)


def d_training_pending(job: Job | None) -> bool:
    """True while a "train D to optimum" command has not shown up in a snapshot yet."""
    want = st.session_state.get(_DOPT)
    if job is None or want is None or want[0] != job.id:
        return False
    snaps = job.snapshots()
    if job.active and job.error is None and (not snaps or snaps[0].d_only_steps < want[1]):
        return True
    st.session_state.pop(_DOPT, None)
    return False


def buttons(owner: str, setup: Setup) -> None:
    job = controls.current_job(SLOT)

    def train_d(col) -> None:  # at the end of the row of controls
        col.button(_("Freeze G, train D to optimum"), key=P + "dopt",
                   disabled=not setup.ok or d_training_pending(job),
                   on_click=lang.callback(lambda: train_d_to_optimum(owner, setup.config, setup.dopt_steps)),
                   width="stretch",
                   help=_("Pauses the run and trains D alone against the frozen G: watch the learned D(x) converge "
                          "to D*(x) = p_data / (p_data + p_g) and V(D, G) rise to V(D*, G)"))

    controls.buttons(SLOT, start=lambda: start(owner, setup.config), can_start=setup.ok, key_prefix="th",
                     help_start=_("Train G and D from scratch with this setup"), extra=train_d)


# ---- live view -------------------------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{v:.4f}" if math.isfinite(v) else "–"


def draw(job: Job | None, config: TheoryConfig | None = None) -> None:
    """The live part (inside the page's fragment): figure, numbers, gradient panel, value history. Until the
    job has a snapshot (before Start, or while it builds), the same view of `config`'s initial state (step 0)."""
    snaps = controls.live_snapshots(
        job, _("Press **Start** to train, or **Freeze G, train D to optimum** to watch D learn D* against the "
               "untrained G first."))
    if not snaps:
        if config is not None and (job is None or job.active):
            draw_state(initial_snapshot(config), (SLOT, "step0"), config)
        return
    s = snaps[0]
    moved = controls.run_rate(job, 0, s.step)  # the counter's rate (a worker shares its time), not compute's
    rate = " · " + _("{rate:.0f} steps/s").format(rate=moved) if moved else ""
    dopt = " · " + _("training D alone…") if d_training_pending(job) else ""
    st.markdown(_("**step {step}** · D-only steps {d_only} · {status}").format(
        step=s.step, d_only=s.d_only_steps, status=status(job.status)) + rate + dopt)
    draw_state(s, (SLOT, job.id), job.version)


def draw_state(s, key: tuple, version) -> None:
    """One snapshot: the game figure, the numbers, G's gradient and the value history. Figures are cached
    under `key` and rebuilt when `version` changed."""
    if s.status == Status.DIVERGED:
        st.error(_("The run diverged at step {step}: a loss became NaN or infinite. Lower the learning rates and "
                   "Start again.").format(step=s.diverged_at))
    if s.mass_out > 0.001:
        st.warning(_("{pct:.1f} % of G's samples are outside the plotted range [-5, 5]; the numbers below include "
                     "them exactly (there p_data = 0).").format(pct=100 * s.mass_out))
    live.chart(live.figure(key + ("game",), version, lambda f: viz.game_figure(s, fig=f)), key="th_game")
    m = st.columns(5)
    m[0].metric(_("V(D, G), learned D"), _fmt(s.v_d), help=_("∫ p_data log D + ∫ p_g log(1 − D), on the grid"))
    m[1].metric("V(D*, G)", _fmt(s.v_star), help=_("the same with D* = p_data / (p_data + p_g)"))
    m[2].metric("−log 4 + 2·JSD", _fmt(s.identity), help=_("Theorem 1: equals V(D*, G)"))
    m[3].metric("JSD(p_data ‖ p_g)", _fmt(s.jsd), help=_("0 when p_g = p_data; log 2 ≈ 0.693 when disjoint"))
    m[4].metric("max |D − D*|", _fmt(s.max_d_error), help=_("where p_data + p_g carries mass"))
    st.caption(_("identity check: |V(D*, G) − (−log 4 + 2 JSD)| = {gap:.1e} · V(D*, G) − V(D, G) = {diff:.4f} "
                 "(≥ 0: D* is the best D)").format(gap=abs(s.v_star - s.identity), diff=s.v_star - s.v_d))
    c1, c2 = st.columns([3, 2])
    with c1:
        live.chart(live.figure(key + ("grad",), version, lambda f: viz.gradient_figure(s.batch_dgz, s.loss, fig=f)),
                   key="th_grad")
        if len(s.batch_dgz):
            d = float(s.batch_dgz.mean())
            st.caption(_("This batch: mean D(G(z)) = {d:.3f}. Gradient reaching G through D's logit: saturating "
                         "|∂L/∂s| = D = {d:.3f}, non-saturating |∂L/∂s| = 1 − D = {one_minus_d:.3f}.").format(
                             d=d, one_minus_d=1 - d))
    with c2:
        live.chart(live.figure(key + ("value",), version, lambda f: viz.value_figure(s.history, fig=f)),
                   key="th_value")


def code_objects() -> list:
    return [math1d.optimal_d, math1d.value, math1d.jsd, math1d.kl, math1d.saturating_grad_logit,
            math1d.non_saturating_grad_logit, measure, Theory1D._train_step, Theory1D._d_update,
            Theory1D.train_d_to_optimum, losses.minimax_d, losses.minimax_g, losses.non_saturating_g]
