"""Honest expectations on the Image GAN page: how long this setup takes, at its share of this server, before it
draws digits, shown before Start and under a training run's line; when that is slow for a lesson, the lighter
preset (one click before Start) and the bundled demo (a trained DCGAN, at once on the Latent space page).

The numbers come from ganlab/jobs/cost/eta.py: the cost model's seconds per step and the runs training now
before the run, the run's own counter rate once it moves. On a GPU the CPU-calibrated model says nothing, so
only a training run's own rate is used there.
"""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from ganlab import jobs
from ganlab.config import TrainConfig
from ganlab.i18n import _, ngettext
from ganlab.jobs import Status
from ganlab.jobs.cost import eta as eta_mod
from ganlab.jobs.cost.eta import Eta
from ganlab.ui import lang
from ganlab.ui.image_gan import setup as ims

DEMO_SOURCE = "mnist-dcgan"  # the Latent space page's bundled demo a slow run points to (ganlab/latent_link.py)


def duration(seconds: float) -> str:
    """'under a minute', 'about 6 minutes', 'about 3 hours' (in the session's language)."""
    if seconds < 45:
        return _("under a minute")
    m = int(eta_mod.minutes(seconds))
    if m < 120:
        return ngettext("about {n} minute", "about {n} minutes", m).format(n=m)
    h = round(seconds / 3600)
    return ngettext("about {n} hour", "about {n} hours", h).format(n=h)


def runs_text(n: int) -> str:
    return ngettext("{n} run", "{n} runs", n).format(n=n)


def message(e: Eta, started: bool, step: int = 0) -> str:
    """The one-line expectation: to the first digits when measured for this setup, else to the end of the budget.
    `started`: the run trains (its step and rate), else it would start now."""
    where = _("with {runs} training on this server, at about {rate} steps/s for this run").format(
        runs=runs_text(e.runs), rate=_rate(e.steps_per_s))
    if e.to_digits_s is not None:
        if started:
            return _("First digits in {time} (at step {at:,}; now {step:,}), {where}.").format(
                time=duration(e.to_digits_s), at=e.digits_step, step=step, where=where)
        return _("Expect the first digits in {time} (at step {at:,}), {where}.").format(
            time=duration(e.to_digits_s), at=e.digits_step, where=where)
    if started:
        return _("The rest of the budget takes {time}, {where}.").format(time=duration(e.to_end_s), where=where)
    return _("This setup's budget takes {time}, {where}.").format(time=duration(e.to_end_s), where=where)


def _rate(per_s: float) -> str:
    return f"{per_s:.1f}" if per_s < 10 else f"{per_s:,.0f}"


def _on_gpu(config: TrainConfig) -> bool:
    import torch

    return config.device != "cpu" and torch.cuda.is_available()


def _stats() -> dict:
    return jobs.manager().stats()


def demo_link() -> str:
    """The Latent space page on the bundled DCGAN demo, in the reader's language (a relative address)."""
    return "latent_space?" + urlencode({"source": DEMO_SOURCE, **lang.link_params()})


def _use_light() -> None:
    st.session_state[ims.P + "preset"] = eta_mod.LIGHT_PRESET
    ims.FORM.load_preset(eta_mod.LIGHT_PRESET)


def _offer(e: Eta, preset: str, runs: int, workers: int, started: bool) -> None:
    """The slow-run warning: the lighter preset's time to digits here, and the bundled demo."""
    from ganlab.presets import PRESETS

    light = eta_mod.LIGHT_PRESET
    text = _("That is long for a lesson: every run on this server shares its cores.")
    if preset != light:
        alt = eta_mod.eta(PRESETS[light].config, light, runs, workers)
        if alt.to_digits_s is not None and alt.to_digits_s < e.to_digits_s:
            text += " " + _("The lighter **{light}** draws its first digits in {time} here.").format(
                light=light, time=duration(alt.to_digits_s))
            if started:
                text += " " + _("Stop this run and pick it to see digits sooner.")
    text += " " + _("A trained DCGAN's digits are ready at once in the [bundled demo]({link}).").format(
        link=demo_link())
    st.warning(text)
    if not started and preset != light:
        st.button(_("Use {light} instead").format(light=light), key=ims.P + "use_light", on_click=_use_light,
                  help=_("Loads the lighter preset into the setup above; press Start to train it"))


def before_start(setup: ims.Setup) -> None:
    """Under the setup, while the page has no active run: what pressing Start would mean on this server now."""
    if not setup.ok or _on_gpu(setup.config):
        return
    stats = _stats()
    runs, workers = eta_mod.runs_on(stats, starting=True), int(stats.get("workers", 1))
    e = eta_mod.eta(setup.configs, setup.preset, runs, workers)
    st.caption(message(e, started=False))
    if e.slow:
        _offer(e, setup.preset, runs, workers, started=False)


def during(job: jobs.Job, config: TrainConfig, preset: str, step: int, rate: float | None) -> None:
    """Under a training run's line: the same expectation from where it is, at its own rate once known."""
    if job.status != Status.RUNNING or step >= config.steps:
        return
    if rate is None and _on_gpu(config):
        return
    stats = _stats()
    runs, workers = max(1, eta_mod.runs_on(stats, starting=False)), int(stats.get("workers", 1))
    e = eta_mod.eta(config, preset, runs, workers, step=step, rate=rate)
    st.caption(message(e, started=True, step=step))
    if e.slow:
        _offer(e, preset, runs, workers, started=True)
