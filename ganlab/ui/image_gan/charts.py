"""Image GAN page: the slower live part (its own fragment): the runs' curves, quality scores and class shares.

One run or two (A and B on shared axes, A solid, B dashed). What a run logs decides its panels, never its
label: a GAN logs d_loss, g_loss, D(x), D(G(z)); a VAE logs its ELBO terms (recon, kl). So a GAN beside a VAE
gets the GAN's losses and D(x) vs D(G(z)) and the VAE's reconstruction and KL, each panel with the runs that
have it. Figures are kept per session and rebuilt only when a history gained rows (`history_version`).
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from ganlab.i18n import N_, _
from ganlab.jobs import Job
from ganlab.ui import live
from ganlab.ui.image_gan.setup import RUN_NAMES, P
from ganlab.ui.image_gan.views import SLOT
from ganlab.viz import common as viz
from ganlab.viz import image_gan as viz_images


def _metric(col, label: str, value: float | None, fmt: str, help: str) -> None:
    col.metric(label, "–" if value is None else fmt.format(value), help=help)


def history_version(h: dict) -> tuple[int, float]:
    """Changes exactly when a logging step added (or the bounded history thinned) rows: (rows, last step).
    An unchanged figure is sent unchanged, and the browser does not redraw it."""
    steps = h.get("step", ())
    return len(steps), float(steps[-1]) if len(steps) else -1.0


def _runs(snaps) -> list[tuple[str, dict]]:
    """[(run name, history)]; a single run is named "" (its curves keep their plain names)."""
    named = len(snaps) > 1
    return [(RUN_NAMES[i] if named else "", s.history) for i, s in enumerate(snaps) if s is not None]


def _of(runs: list[tuple[str, dict]]):
    """What a figure function takes: the one history, or (name, history) pairs to compare."""
    return runs[0][1] if len(runs) == 1 and not runs[0][0] else runs


def panels(runs: list[tuple[str, dict]]) -> list[tuple[str, Callable]]:
    """(key, make(previous figure)) of the curve panels these runs fill, in page order."""
    gan = [(n, h) for n, h in runs if "d_loss" in h]
    vae = [(n, h) for n, h in runs if "recon" in h]
    out: list[tuple[str, Callable]] = []
    if gan:
        out.append(("losses", lambda f: viz.curves_figure(_of(gan), ("d_loss", "g_loss"), N_("losses"), fig=f)))
        out.append(("dprobs", lambda f: viz.d_probs_figure(_of(gan), fig=f)))
    if vae:
        out.append(("elbo", lambda f: viz.curves_figure(_of(vae), ("recon", "kl"),
                                                        N_("VAE: -ELBO = reconstruction + KL (nats per image)"),
                                                        fig=f)))
    return out


def draw_charts(job: Job | None, class_names: tuple[str, ...] = ()) -> None:
    """The slower live part (inside the page's charts fragment)."""
    snaps = job.snapshots() if job is not None else ()
    if not snaps or snaps[0] is None:
        return
    runs = _runs(snaps)
    v = tuple(history_version(h) for _, h in runs)  # the curves change only at logging steps
    figs = panels(runs)
    for row in range(0, len(figs), 2):
        for col, (key, make) in zip(st.columns(2), figs[row:row + 2]):
            with col:
                live.chart(live.figure((SLOT, job.id, key), v, make), key=P + key)
    if not any(viz_images.quality_columns(h) for _, h in runs):
        st.caption(_("Quality scores (feature FID, classes present, conditional accuracy) are computed for 28x28 "
                     "MNIST digits; they appear here after the first scored logging interval."))
        return
    quality_metrics(snaps, runs)
    q1, q2 = st.columns(2)
    with q1:
        live.chart(live.figure((SLOT, job.id, "quality"), v, lambda f: viz_images.quality_figure(_of(runs), fig=f)),
                   key=P + "quality")
    with q2:
        shares = [(n, viz_images.class_shares(h)) for n, h in runs]
        if all(sh is None for _, sh in shares):
            st.caption(_("The per-class histogram needs per-class shares in the run's history."))
        else:
            given = shares[0][1] if len(shares) == 1 else shares
            live.chart(live.figure((SLOT, job.id, "classes"), v,
                                   lambda f: viz_images.class_hist_figure(given, class_names, fig=f)),
                       key=P + "classes")


def quality_metrics(snaps, runs: list[tuple[str, dict]]) -> None:
    """Feature FID, classes present (and conditional accuracy) of each run, as metrics."""
    cols = iter(st.columns(3 * len(runs)))
    for s, (name, h) in zip([s for s in snaps if s is not None], runs):
        tag = f" ({name})" if name else ""
        _metric(next(cols), _("feature FID") + tag, viz_images.last_value(h, "fid"), "{:.1f}",
                _("Fréchet distance in a small MNIST network's feature space: lower is better; only comparable "
                  "with other ganlab numbers (see ganlab/quality.py)"))
        _metric(next(cols), _("classes present") + tag, viz_images.last_value(h, "classes_present"), "{:.0f} / 10",
                _("Digits that get at least 5 % of the samples; fewer than 10 is mode collapse"))
        c3 = next(cols)
        if s.config.conditional:
            acc = viz_images.last_value(h, "cond_acc")
            _metric(c3, _("conditional accuracy") + tag, None if acc is None else 100 * acc, "{:.0f} %",
                    _("Share of samples the judge classifies as the class G was asked for"))
