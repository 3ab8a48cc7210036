"""Image GAN page: start an image job (one run, or runs A and B side by side) and draw its latest snapshots.

Two live parts, drawn by the page's one live fragment every SAMPLES_EVERY_S (two fragments whose timers fire
together lose ticks: Streamlit sometimes runs only one of them):
  samples  each run's line (step, status), its fixed-noise grid (JPEG bytes from the worker; one run also gets
           a timeline slider over earlier grids), and real images beside them
  charts   losses (a VAE: reconstruction and KL), mean D(x) vs D(G(z)), quality scores over time, class
           histogram (ganlab/ui/image_gan/charts.py)
Plotly figures are kept per session and redrawn only when the run's history gained rows (a logging step; the
job also publishes snapshots in between); a grid is a JPEG the worker already encoded, so a samples tick
costs a few milliseconds. Runs A and B share the job and the seed, and so the 64 fixed noise vectors when their z
has the same size.
"""
from __future__ import annotations

import threading

import streamlit as st

from ganlab import losses
from ganlab.config import TrainConfig
from ganlab.data import notes
from ganlab.i18n import _
from ganlab.jobs import Job, RunSpec, Status
from ganlab.text import md
from ganlab.ui import controls, live
from ganlab.ui.image_gan import expect
from ganlab.ui.image_gan.setup import RUN_NAMES, P, Setup, describe

SLOT = P + "job"  # session-state key of this page's current job id
FRAME_KEY = P + "frame"  # prefix of the timeline slider's key
PINNED_KEY = P + "pinned"  # the timeline's options while the user scrubs (None: follow the newest grid)
CHOSEN_KEY = P + "chosen"  # the step chosen on a pinned timeline
SAMPLES_EVERY_S = live.REFRESH_S


_prefetched: set[str] = set()
_prefetch_lock = threading.Lock()


def prefetch(data: str) -> None:
    """Load an embedded dataset in the background (once per process) so Start does not wait for it.

    The loaders cache per process (ganlab.data.images); the first load pays slow imports (pandas,
    scikit-learn). Errors are left for the run itself to report.
    """
    from ganlab.data.images import EMBEDDED

    if data not in EMBEDDED:  # files on disk load quickly; only the embedded sets pay heavy imports
        return
    with _prefetch_lock:
        if data in _prefetched:
            return
        _prefetched.add(data)

    def work() -> None:
        from ganlab.data.images import load_images

        try:
            load_images(data)
        except Exception:  # noqa: BLE001 - the run will say what is wrong
            pass

    # not "ganlab-...": that prefix names the job manager's own threads
    threading.Thread(target=work, name=f"image-data-prefetch-{data}", daemon=True).start()


# ---- the job (factories run in the worker thread) ---------------------------------------------------------
def build_runners(config: TrainConfig, score: bool = True) -> list:
    """One TrainerRunner, with the quality evaluator attached (FID etc.; MNIST-like digits only), on the server's
    data folder; a missing torchvision dataset falls back to the embedded MNIST (ganlab.jobs.spec.RunSpec)."""
    return RunSpec((config,), score=score)()


def forget_view() -> None:
    live.forget_figures(SLOT)
    st.session_state[PINNED_KEY] = None


def start(setup: Setup, owner: str) -> None:
    """Start button callback: one job, with run B beside run A when the setup compares two."""
    configs = setup.configs
    label = _(" vs ").join(f"{n}: {describe(c)}" for n, c in zip(RUN_NAMES, configs)) if len(configs) > 1 \
        else describe(configs[0])
    if controls.submit(SLOT, owner, RunSpec(tuple(configs)), label, configs,
                       meta={"preset": setup.preset}):
        forget_view()


def start_resume(owner: str, run, steps: int) -> None:
    """"Resume training" callback: a new job from a checked checkpoint."""
    config = run.config.replace(steps=steps)
    label = _("{what} (resumed at step {step})").format(what=describe(config), step=run.step)
    if controls.submit(SLOT, owner, RunSpec((config,), resume=run), label, [config]):
        forget_view()


# ---- samples: status, grid with timeline, real images -----------------------------------------------------
def progress(job: Job, s, i: int = 0) -> tuple[int, float | None]:
    """(run i's step now, the rate its counter moves at or None): read once per tick (the rate records a poll)."""
    step = controls.live_step(job, i, s)
    return step, controls.run_rate(job, i, step)


def status_line(job: Job, s, i: int = 0, n_runs: int = 1, at: tuple[int, float | None] | None = None) -> str:
    """'Step N / M · status · rate' for a single run; 'Run A · step N / M · status · what · rate' beside another.
    The rate is the one the counter moves at (controls.run_rate); `at`: this tick's `progress`, if read."""
    status = controls.run_status(job, s)
    step, r = at or progress(job, s, i)
    rate = " · " + _("{rate:.1f} steps/s").format(rate=r) if r is not None else ""
    if n_runs == 1:
        return _("Step {step} / {steps} · {status}").format(step=step, steps=s.config.steps, status=status) + rate
    return _("Run {name} · step {step} / {steps} · {status}").format(
        name=RUN_NAMES[i], step=step, steps=s.config.steps, status=status) + f" · {describe(s.config)}{rate}"


def is_fallback(note: str) -> bool:
    """A data note that says the asked-for dataset was replaced (ganlab.data.images.load_images_or_fallback)."""
    return notes.is_fallback(note)


def pick_frame(frames: tuple, follow: bool, wanted: int | None) -> int:
    """The step of the frame to show: the newest when following, else the frame nearest to `wanted` (the
    timeline thins out old frames as it grows, so a chosen step may be gone)."""
    steps = [f[0] for f in frames]
    if follow or wanted is None:
        return steps[-1]
    return min(steps, key=lambda s: (abs(s - wanted), -s))


def _on_scrub(key: str, steps: tuple[int, ...]) -> None:
    """Slider moved: pin its options (they stop changing under the user's hand), or follow again at the end."""
    ss = st.session_state
    chosen = ss[key]
    if chosen >= steps[-1] and ss.get(PINNED_KEY) is None:
        return  # moved to the newest frame: keep following
    ss[PINNED_KEY], ss[CHOSEN_KEY] = steps, chosen


def _follow() -> None:
    st.session_state[PINNED_KEY] = None


def timeline(s) -> tuple[int, bytes]:
    """The timeline slider (when there are >= 2 frames); returns the (step, jpeg) to show.

    While following, the slider's options are the frames so far and its value the newest; each new set of
    frames is a new widget (its key names the options), so the browser can never send back a value from an
    older set. Once moved, the options are pinned until "Follow training"; the image is the frame nearest
    the chosen step. Frames are taken at logging steps; while following, the image is the newest snapshot."""
    frames = s.frames or ((s.step, s.grid_jpeg),)
    ss = st.session_state
    pinned = ss.get(PINNED_KEY)
    steps = tuple(pinned) if pinned else tuple(f[0] for f in frames)
    chosen = ss.get(CHOSEN_KEY) if pinned else steps[-1]
    chosen = chosen if chosen in steps else steps[-1]
    if len(steps) >= 2:
        key = f"{FRAME_KEY}_{steps[0]}_{steps[-1]}_{len(steps)}"
        chosen = st.select_slider(_("Timeline: scrub back through earlier grids"), steps, value=chosen, key=key,
                                  format_func=lambda v: _("step {step}").format(step=v), on_change=_on_scrub,
                                  args=(key, steps), help=_("The same fixed noise at earlier steps"))
    if pinned:
        st.button(_("Follow training"), key=P + "follow", on_click=_follow, help=_("Show the newest grid again"))
    if not pinned:
        return s.step, s.grid_jpeg  # the newest grid (snapshots also come between logging steps)
    shown = pick_frame(frames, False, chosen)
    return shown, dict(frames)[shown]


def _diverged(s, name: str = "") -> None:
    if s.status == Status.DIVERGED:
        if name:
            st.error(_("Run {name} diverged at step {step}: a loss or gradient became NaN or infinite. Lower the "
                       "learning rates or pick another loss, then Start again.").format(name=name, step=s.diverged_at))
        else:
            st.error(_("The run diverged at step {step}: a loss or gradient became NaN or infinite. Lower the "
                       "learning rates or pick another loss, then Start again.").format(step=s.diverged_at))


def draw_samples(job: Job | None) -> None:
    """The fast live part (inside the page's samples fragment)."""
    snaps = controls.live_snapshots(
        job, _("Pick a preset (or your own setup) and press **Start**: the grid below shows G's images for "
               "the same 64 noise vectors as training goes on, next to real images."),
        building=_("Loading the data and building the networks…"))
    if not snaps:
        return
    if len(snaps) > 1:
        return draw_pair(job, snaps)
    s = snaps[0]
    at = progress(job, s)
    st.markdown(status_line(job, s, at=at))
    expect.during(job, s.config, str(job.meta.get("preset", "")), *at)
    _diverged(s)
    if s.note:
        (st.info if is_fallback(s.note) else st.caption)(md(notes.localize(s.note)))
    left, right = st.columns(2)
    rows = _("each row is one class (0, 1, 2, …)") if s.config.conditional else _("8 x 8 samples")
    with left:
        grid = st.empty()  # the grid first, level with the real images; its timeline below it
        step, jpeg = timeline(s)
        grid.image(jpeg, caption=_("generated at step {step}: fixed noise, {rows}").format(step=step, rows=rows))
    with right:
        if s.real_jpeg:
            st.image(s.real_jpeg, caption=_("real images from the training data"))


def draw_pair(job: Job, snaps: tuple) -> None:
    """Runs A and B side by side: each run's line and newest grid (same seed), real images last."""
    cols = st.columns(len(snaps) + 1)
    for i, (col, s) in enumerate(zip(cols, snaps)):
        if s is None:
            continue
        with col:
            name = RUN_NAMES[i]
            at = progress(job, s, i)
            st.markdown(status_line(job, s, i, len(snaps), at=at))
            # run A is the page's preset; run B's preset is not kept with the job, so B gets its budget's time
            expect.during(job, s.config, str(job.meta.get("preset", "")) if i == 0 else "", *at)
            _diverged(s, name)
            if s.note:
                (st.info if is_fallback(s.note) else st.caption)(md(notes.localize(s.note)))
            rows = _("one row per class") if s.config.conditional else _("the same 64 noise vectors as the other run")
            st.image(s.grid_jpeg, caption=_("Run {name}: generated at step {step}: fixed noise, {rows}").format(
                name=name, step=s.step, rows=rows))
    real = next((s.real_jpeg for s in snaps if s is not None and s.real_jpeg), None)
    if real:
        cols[-1].image(real, caption=_("real images from the training data"))


def code_objects(configs: TrainConfig | list[TrainConfig] | None) -> list:
    """The functions behind these configs, for the "Show the code" expander: losses, model builder, one step."""
    from ganlab.engine.trainer import Trainer
    from ganlab.engine.vae import VAETrainer
    from ganlab.models import BUILDERS, mlp

    configs = [configs] if isinstance(configs, TrainConfig) else list(configs or ())
    objs: list = []
    for config in configs:
        if config.is_vae:
            from ganlab.models import vae

            more = [losses.bernoulli_nll, losses.gaussian_kl, vae.build_vae, VAETrainer._train_step]
        else:
            loss = losses.LOSSES[config.loss]
            from ganlab.engine import remedies

            more = [loss.d_loss, loss.g_loss] + ([losses.gradient_penalty] if loss.gradient_penalty else [])
            more += ([losses.r1_penalty] if config.r1_gamma else []) + (
                [remedies.clip_weights_] if loss.clip_weights else [])
            if config.model == "dcgan":
                from ganlab.models import dcgan

                more += [dcgan.build_dcgan, dcgan.DCGANGenerator, dcgan.DCGANDiscriminator]
            else:
                more += [BUILDERS["mlp"], mlp.MLPGenerator, mlp.MLPDiscriminator]
            more += [Trainer._train_step, Trainer._d_update]
        objs += [o for o in more if o not in objs]
    return objs
