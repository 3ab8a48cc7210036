"""Image GAN page: download the current run as a checkpoint; upload one to inspect it and resume training.

Downloads are generated on click (a callable passed to st.download_button, run off the script thread) and
only while the run is paused or over: the worker must not be stepping the weights being saved. Uploads go
through ganlab.checkpoint.load (size cap, `torch.load(weights_only=True)`, bounded cost, schema and shape
checks); a file it refuses gives one st.error line and changes nothing: the current run stays.

Session state keeps only what the panel shows of the uploaded file (a `checkpoint.Summary`: config, step,
curves), never its weights: Resume reads the file again from the uploader, which holds it anyway.
"""
from __future__ import annotations

import hashlib

import streamlit as st

from ganlab import checkpoint
from ganlab.config import ConfigError, TrainConfig
from ganlab.i18n import _
from ganlab.jobs import Job, Status
from ganlab.text import md
from ganlab.ui import live
from ganlab.ui.image_gan import views as iv
from ganlab.ui.image_gan.setup import CUSTOM, P, describe, load
from ganlab.viz import common as viz
from ganlab.viz import image_gan as viz_images

UPLOAD_KEY = P + "upload"
GOOD = P + "ckpt_run"  # (sha256, checkpoint.Summary) of the uploaded file, when it is good
BAD = P + "ckpt_bad"  # (sha256, message) of the uploaded file, when it is refused
MORE_KEY = P + "ckpt_more"
# The worker no longer steps the weights (a run that raised, Status.ERROR, may hold half-updated ones).
SAVABLE = (Status.PAUSED, Status.DONE, Status.STOPPED, Status.DIVERGED)


# ---- pure helpers ------------------------------------------------------------------------------------------
def read_upload(data: bytes) -> tuple[checkpoint.Run | None, str | None]:
    """(run, None) for a checkpoint this page can use, else (None, a one-line reason)."""
    try:
        run = checkpoint.load(data)
    except checkpoint.CheckpointError as e:
        return None, _("This file cannot be used: {error}").format(error=e)
    if run.config.is_toy:
        return None, _("This checkpoint holds a 2-D toy run ({data}); the Image GAN page trains on images. Open "
                       "it on the Latent space page instead.").format(data=run.config.data)
    return run, None


def saved_runner(job: Job | None):
    """The job's image run (its first runner) when it is one a page can save, else None."""
    if job is None or not job.runners:
        return None
    runner = job.runners[0]
    return runner if isinstance(runner.config, TrainConfig) else None


def file_name(config: TrainConfig, step: int) -> str:
    kind = ("c" if config.conditional else "") + config.model
    loss = "elbo" if config.is_vae else config.loss
    return f"ganlab-{config.data}-{kind}-{loss}-step{step}.pt"


# ---- widgets ----------------------------------------------------------------------------------------------
def download_ui(job: Job | None) -> None:
    runner = saved_runner(job)
    if runner is None:
        st.caption(_("Train a run to download it as a checkpoint."))
        return
    ready = job.status in SAVABLE

    def make() -> bytes:  # on click, in another thread; a finished run has freed its optimisers: saved without
        return runner.checkpoint() or b""

    st.download_button(_("Download checkpoint (.pt)"), make if ready else b"",
                       file_name=file_name(runner.config, runner.step_count),
                       mime="application/octet-stream", disabled=not ready, key=P + "download", on_click="ignore",
                       help=_("Config, G and D weights, optimiser states and the metric history.")
                       + ("" if ready else " " + _("Pause the run first.")))


def upload_ui(owner: str) -> None:
    up = st.file_uploader(_("Upload a checkpoint to inspect it and resume training"), type=["pt"], key=UPLOAD_KEY,
                          help=_("A .pt file saved by ganlab (at most {mb} MB)").format(
                              mb=checkpoint.MAX_BYTES // 2**20))
    ss = st.session_state
    if up is None:  # no file: nothing to show, nothing kept
        ss[GOOD] = ss[BAD] = None
        return
    digest = _check(up.getvalue())
    bad = ss.get(BAD)
    if bad and bad[0] == digest:
        st.error(md(bad[1]))  # may quote what the file holds
    good = ss.get(GOOD)
    if good is None or good[0] != digest:
        return
    run = good[1]
    st.markdown(_("**Checkpoint:** {what}").format(what=md(checkpoint.describe(run))))
    h = run.curves
    c1, c2 = st.columns(2)
    with c1:
        live.chart(viz.curves_figure(h, ("d_loss", "g_loss"), _("losses in the checkpoint")), key=P + "ckpt_losses")
    with c2:
        if viz_images.quality_columns(h):
            live.chart(viz_images.quality_figure(h), key=P + "ckpt_quality")
    with st.expander(_("Its config")):
        st.code(checkpoint.config_json(run), language="json")
    a, b = st.columns([1, 2], vertical_alignment="bottom")
    a.number_input(_("More G steps"), min_value=1, max_value=1_000_000, value=max(run.config.log_every * 10, 100),
                   step=100, key=MORE_KEY)
    b.button(_("Resume training from this checkpoint"), key=P + "resume", on_click=_resume,
             args=(owner, digest),
             help=_("A new run that continues {what} from step {step}").format(what=describe(run.config),
                                                                               step=run.step))


def _check(data: bytes) -> str:
    """Read an uploaded file once per content: its summary into GOOD, or its refusal into BAD. Its digest."""
    ss = st.session_state
    digest = hashlib.sha256(data).hexdigest()
    if digest not in ((ss.get(GOOD) or ("",))[0], (ss.get(BAD) or ("",))[0]):
        run, err = read_upload(data)
        ss[GOOD], ss[BAD] = ((digest, run.summary()), None) if run is not None else (None, (digest, err))
    return digest


def _resume(owner: str, digest: str) -> None:
    """The Resume button: the run from the uploader's file (the one whose summary the panel showed)."""
    up = st.session_state.get(UPLOAD_KEY)
    data = up.getvalue() if up is not None else b""
    if hashlib.sha256(data).hexdigest() != digest:
        return  # the file changed under the click: the rerun shows the new one
    run, err = read_upload(data)
    if run is None:
        st.session_state[GOOD], st.session_state[BAD] = None, (digest, err)
        return
    steps = run.step + int(st.session_state[MORE_KEY])  # read here: the value may change with the click
    try:
        config = run.config.replace(steps=steps)
    except ConfigError as e:  # past the largest budget a run may have
        st.session_state[BAD] = (digest, str(e))
        return
    load(config, CUSTOM)  # the widgets show the resumed run's settings
    iv.start_resume(owner, run, steps)
