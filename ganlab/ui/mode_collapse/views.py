"""Mode collapse lab: start a toy job (runs A and B in one job) and draw its latest snapshots.

Per run (one column each): status and step, D's heat-map with real/generated points and G's arrows, mode
coverage numbers and per-mode counts. Below, the runs share the axes of three comparison charts: losses,
mean D(x) vs D(G(z)), and coverage over time. Figures are redrawn only when job.version changed: the field
view at each new snapshot, the history charts and per-mode counts at most every live.SLOW_S seconds. They are
kept as plain dicts (ganlab.viz.common.to_spec), so new arrays go straight in without plotly's validation.
"""
from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from ganlab import losses
from ganlab.config import TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.i18n import N_, _
from ganlab.jobs import Job, RunSpec, Status
from ganlab.text import md
from ganlab.ui import controls, live
from ganlab.ui.mode_collapse.setup import Setup
from ganlab.ui.setup_form import loss_label
from ganlab.viz import common as viz
from ganlab.viz import mode_collapse as mc_viz

RUN_NAMES = ("A", "B")


def describe(c: TrainConfig) -> str:
    """'Non-saturating + unrolled 5' -- the loss and the remedies in use."""
    parts = [loss_label(c.loss)]
    if c.unrolled_steps:
        parts.append(_("unrolled {k}").format(k=c.unrolled_steps))
    if c.pack > 1:
        parts.append(_("pack {k}").format(k=c.pack))
    if c.r1_gamma:
        parts.append(f"R1 γ={c.r1_gamma:g}")
    if c.d_steps > 1:
        parts.append(_("{k} D steps").format(k=c.d_steps))
    if losses.LOSSES[c.loss].gradient_penalty:
        parts.append(f"λ={c.gp_weight:g}")
    return " + ".join(parts)


def start(slot: str, owner: str, setup: Setup) -> None:
    """Start button callback: one job whose runners (A, B) advance together."""
    configs, points = list(setup.configs), setup.points
    label = " vs ".join(f"{n}: {describe(c)}" for n, c in zip(RUN_NAMES, configs))
    meta = {"preset": setup.preset}
    if controls.submit(slot, owner, RunSpec(configs, points), label, configs, meta=meta) is not None:
        live.forget_figures(slot)


def _last(history: dict, col: str) -> float | None:
    v = history.get(col)
    return float(v[-1]) if v is not None and len(v) else None


def _chart(key: tuple, version, make: Callable[[viz.Fig | None], viz.Fig]) -> None:
    """The cached figure `key` (redrawn by `make(previous)` when `version` changed), as a plain dict."""
    fig = live.figure(key, version, lambda f: viz.to_spec(make(f)))
    live.chart(fig, key="_".join(map(str, key)))


def _name(i: int) -> str:
    return RUN_NAMES[i] if i < len(RUN_NAMES) else str(i + 1)


def run_line(name: str, step: int, steps: int, status: str, rate: float | None) -> str:
    """'Run A · step N / M · <status> · R steps/s' (the English line is read by tools and tests); R is the rate
    the counter moves at (ganlab/rate.py), left out until the page has seen it move for a moment."""
    line = _("Run {name} · step {step} / {steps} · {status}").format(name=name, step=step, steps=steps,
                                                                      status=status)
    return line + (" · " + _("{rate:.0f} steps/s").format(rate=rate) if rate is not None else "")


def run_header(job: Job, i: int, s) -> None:
    """What a run is and where it stands: drawn by the light fragment, every tick (the step is live)."""
    name = _name(i)
    st.markdown(f"#### {name}: {md(describe(s.config))}")
    step = controls.live_step(job, i, s)
    st.markdown(run_line(name, step, s.config.steps, controls.run_status(job, s), controls.run_rate(job, i, step)))
    st.caption(_("learning rates G {g_lr:.0e}, D {d_lr:.0e} · {optimizer}").format(
        g_lr=s.config.g_lr, d_lr=s.config.d_lr, optimizer=s.config.optimizer))
    if s.status == Status.DIVERGED:
        st.error(_("Run {name} diverged at step {step}: a loss or gradient became NaN or infinite. Lower the "
                   "learning rates or pick another loss, then Start again.").format(name=name, step=s.diverged_at))
    if s.note:
        st.caption(md(s.note))


def run_figures(slot: str, job: Job, i: int, s) -> None:
    """A run's field (points over D's heat-map, G's arrows) and its mode-coverage numbers."""
    key = (slot, job.id, _name(i))
    _chart(key + ("field",), job.version, lambda f: mc_viz.toy_field_figure(s, "", fig=f))
    if s.counts is not None:
        h = s.history
        m1, m2, m3 = st.columns(3)
        modes = _last(h, "modes_captured")
        hq, rkl = _last(h, "high_quality_frac"), _last(h, "reverse_kl")
        m1.metric(_("modes captured"), "–" if modes is None else f"{modes:.0f} / {len(s.counts)}")
        m2.metric(_("high quality"), "–" if hq is None else f"{100 * hq:.0f} %")
        m3.metric(_("reverse KL"), "–" if rkl is None else f"{rkl:.2f}",
                  help=_("KL(p̂ || uniform) over the modes: 0 = balanced, log M = a single mode"))
        slow = live.throttle(key + ("counts",), job.version, now_anyway=not job.active)
        _chart(key + ("counts",), slow, lambda f: mc_viz.mode_counts_figure(s.counts, fig=f))


IDLE_HINT = N_("Pick a preset (or your own setup) and press **Start**. Run A and run B train side by side on the same "
               "data and seed; switch a loss while they train and watch what changes.")


def draw_status(job: Job | None) -> None:
    """The light part of the live view (its own fast fragment): what to do, queue, errors, each run's line."""
    snaps = controls.live_snapshots(job, _(IDLE_HINT))
    for i, (col, s) in enumerate(zip(st.columns(len(snaps)) if snaps else (), snaps)):
        with col:
            run_header(job, i, s)


def draw_figures(job: Job | None, slot: str) -> None:
    """The heavy part of the live view (a slower fragment under load): each run's field, then the runs'
    losses, mean D(x) vs D(G(z)) and coverage on shared axes."""
    snaps = job.snapshots() if job is not None else ()
    if not snaps or snaps[0] is None:
        return
    for i, (col, s) in enumerate(zip(st.columns(len(snaps)), snaps)):
        with col:
            run_figures(slot, job, i, s)
    st.caption(_(mc_viz.FIELD_LEGEND))
    pairs = [(_name(i), s.history) for i, s in enumerate(snaps)]
    n_modes = len(snaps[0].centers) if snaps[0].centers is not None else None
    slow = live.throttle((slot, job.id, "curves"), job.version, now_anyway=not job.active)
    key = (slot, job.id)
    c1, c2, c3 = st.columns(3)
    with c1:
        _chart(key + ("losses",), slow, lambda f: viz.curves_figure(pairs, ("d_loss", "g_loss"), N_("losses"), fig=f))
    with c2:
        _chart(key + ("dprobs",), slow, lambda f: viz.d_probs_figure(pairs, fig=f))
    with c3:
        if n_modes:
            _chart(key + ("coverage",), slow, lambda f: mc_viz.coverage_figure(pairs, n_modes, fig=f))
        else:
            st.caption(_("Mode coverage needs data with known modes (ring or grid)."))


def formulas(configs: Sequence[TrainConfig]) -> list[tuple[str, str]]:
    """(caption, LaTeX) of each run's loss, for the "Show the code" expander."""
    return [(_("Run {name}: {loss}").format(name=n, loss=_(losses.LOSSES[c.loss].label)), losses.LOSSES[c.loss].formula)
            for n, c in zip(RUN_NAMES, configs)]


def trains_stacked(configs: Sequence[TrainConfig]) -> bool:
    """Would Start train these configs in the class engine (one student's single stackable toy run, with the
    job manager's stacking on: see `start`), rather than on the single-run Trainer?"""
    from ganlab import jobs
    from ganlab.engine.batched.key import refusal

    return (len(configs) == 1 and bool(getattr(jobs.manager(), "stacking", False))
            and refusal(configs[0]) is None)


def code_objects(configs: Sequence[TrainConfig], stacked: bool = False) -> list:
    """The functions that do the work for these configs, for the "Show the code" expander: the losses and
    remedies (one implementation each, ganlab/losses.py and ganlab/engine/remedies.py), then one training step
    as it runs: the class engine's stacked step when `stacked` (trains_stacked), else the Trainer's."""
    from ganlab.engine import remedies
    from ganlab.engine.batched.engine import ClassEngine

    step = ClassEngine if stacked else Trainer
    objs: list = []
    for c in configs:
        loss = losses.LOSSES[c.loss]
        objs += [loss.d_loss, loss.g_loss]
        if loss.gradient_penalty:
            objs.append(losses.gradient_penalty)
        if c.r1_gamma:
            objs.append(losses.r1_penalty)
        if loss.clip_weights:
            objs.append(remedies.clip_weights_)
    objs += [step._train_step, step._d_update]
    if any(c.unrolled_steps for c in configs):
        objs += [step._unrolled_scores, remedies.unrolled_d]
    if any(c.g_ema for c in configs) and not stacked:  # the stacked step averages G's weights inline
        objs.append(Trainer._ema_update)
    return objs
