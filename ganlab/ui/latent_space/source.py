"""Latent space page: where the generator comes from (bundled checkpoint, the user's runs, an upload) and
how it is cached, so the page itself never touches a tensor.

A `Source` carries the generator as an opaque handle; pages pass it to `ganlab.latent` functions that take
numpy in and give numpy / bytes out. Caching (a slider move must only run G once):
  bundled checkpoints  st.cache_resource, keyed by path and mtime: read-only, shared by every session
  uploads              st.session_state (the latest good upload), keyed by the file's SHA-256: its generator
                       (and a VAE's encoder) and a checkpoint.Summary, never the rest of the file
  runs                 finished runs: the parked generator itself (CPU, eval); live runs: a private copy taken
                       when picked and refreshed on request (the worker keeps training the original)
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import streamlit as st

from ganlab import i18n, latent, latent_link
from ganlab.config import TrainConfig
from ganlab.i18n import N_, _
from ganlab.text import md
from ganlab.ui import state

ASSETS = Path(__file__).resolve().parents[3] / "assets"
BUNDLED = {label: file for label, file in latent_link.SOURCES.values()}  # the picker's values; shown translated
KINDS = {"bundled": N_("Bundled demo"), "runs": N_("My runs"), "upload": N_("Upload a checkpoint")}  # key -> label


@dataclass(eq=False)
class Source:
    key: str  # identity for caches and widget state
    label: str
    G: Any  # torch generator in eval mode on the CPU; only ganlab.latent functions touch it
    config: TrainConfig
    shape: tuple[int, ...]  # one sample: (C, H, W) images or (2,) toy points
    n_classes: int
    class_names: tuple[str, ...]
    real: np.ndarray | None = None  # toy: (N, 2) real points to draw under the manifold
    centers: np.ndarray | None = None  # toy: (M, 2) mode centres
    note: str = ""
    extra: dict = field(default_factory=dict)
    encoder: Any = None  # a VAE's encoder (eval mode, CPU): real images -> codes; None for a GAN

    def describe(self) -> str:
        """The note in the session's language: a checkpoint's description, or the run's step (shared caches
        hold a Source made in another session's language, so the words are made here, when shown)."""
        if "run" in self.extra:
            from ganlab import checkpoint

            return checkpoint.describe(self.extra["run"])
        if "step" in self.extra:
            text = _("weights from step {step}").format(step=self.extra["step"])
            return text + (" " + _("(the run is still training)") if self.extra.get("live") else "")
        return self.note

    @property
    def is_toy(self) -> bool:
        return len(self.shape) == 1

    @property
    def z_dim(self) -> int:
        return self.config.z_dim


def class_names(data: str, k: int) -> tuple[str, ...]:
    from ganlab.data.images import DIGITS, TORCHVISION

    if data in TORCHVISION and len(TORCHVISION[data][2]) == k:
        return TORCHVISION[data][2]
    return DIGITS if k == 10 else tuple(str(i) for i in range(k))


def make_source(G: Any, config: TrainConfig, key: str, label: str, real: np.ndarray | None = None,
                note: str = "", encoder: Any = None) -> Source:
    """Wrap an eval-mode CPU generator (and a VAE's encoder); the sample shape comes from one probe render."""
    k = latent.n_classes(G)
    shape = tuple(latent.render(G, np.zeros(config.z_dim, np.float32)).shape[1:])
    centers = None
    if len(shape) == 1 and config.data != "csv":
        from ganlab.data import toy_points

        pts, centers, _std = toy_points(config.data, 1000, config.seed)
        real = pts if real is None else real
    return Source(key, label, G, config, shape, k, class_names(config.data, k) if k else (), real, centers, note,
                  encoder=encoder)


def _encoder(run) -> Any:
    """A checkpoint's encoder when it holds a VAE, else None."""
    return run.make_encoder("cpu") if run.config.is_vae else None


# ---- the three kinds of source -------------------------------------------------------------------------------


def bundled_assets() -> dict[str, Path]:
    return {label: ASSETS / name for label, name in BUNDLED.items() if (ASSETS / name).is_file()}


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_bundled(path: str, mtime: float) -> Source:
    from ganlab import checkpoint

    run = checkpoint.load(path)
    src = make_source(run.make_generator("cpu"), run.config, f"bundled:{path}:{mtime}", Path(path).name,
                      note=checkpoint.describe(run), encoder=_encoder(run))
    src.extra["run"] = run.summary(curves=False)  # what describe() reads; the weights live in G
    return src


def load_bundled(path: Path) -> Source:
    with st.spinner(_("Loading the bundled generator...")):
        return _load_bundled(str(path), path.stat().st_mtime)


def load_upload(data: bytes, name: str) -> Source:
    """Through the safe checkpoint loader (size cap, weights_only, bounded cost, shape checks); raises ValueError
    with the reason in the session's language (MemoryError included: building G and rendering come after)."""
    from ganlab import checkpoint

    run = checkpoint.load(data)
    try:
        src = make_source(run.make_generator("cpu"), run.config, "upload:" + hashlib.sha256(data).hexdigest()[:16],
                          name, note=checkpoint.describe(run), encoder=_encoder(run))
    except MemoryError:
        raise checkpoint.CheckpointError(_("the server ran out of memory while opening this file, and nothing "
                                           "changed; try again in a minute, or ask your teacher")) from None
    src.extra["run"] = run.summary(curves=False)  # what describe() reads; the weights live in G
    return src


def _owner() -> str:
    from ganlab.ui.session import owner

    return owner()


def run_choices(owner: str) -> dict[tuple[int, int], tuple[str, Any]]:
    """(job id, runner index) -> (label, job) for every run of this owner that still holds a generator.

    The keys stay the same while a run trains (its label's step count does not), so the picker keeps its choice.
    """
    from ganlab import jobs

    out = {}
    for job in jobs.manager().jobs_of(owner):
        runners = list(job.runners)
        for i, r in enumerate(runners):
            if not has_generator(r):
                continue
            side = f" {'AB'[i]}" if len(runners) > 1 and i < 2 else ""
            out[(job.id, i)] = (_("#{id} {label}{side} ({status}, step {step})").format(
                id=job.id, label=job.label, side=side, status=i18n.status(job.status), step=r.step_count), job)
    return out


def has_generator(runner: Any) -> bool:
    """A GAN or VAE run that still holds its networks (the 1-D game has no generator a page could walk)."""
    from ganlab.config import TrainConfig

    return isinstance(runner.config, TrainConfig) and runner.holds_networks()  # no copy: only the picked run's


def run_source(job: Any, i: int, refresh: bool = False) -> Source | None:
    """A run's generator (None once it holds none). Finished: the parked one. Live: a private CPU copy
    (refresh=True takes a new one)."""
    key = f"run:{job.id}:{i}"
    slot = st.session_state.setdefault("lat_run_cache", {})
    cached = slot.get(key)
    live = job.active
    if cached is not None and (cached.extra.get("live") == live) and not (live and refresh):
        return cached
    w = job.runners[i].weights()  # CPU modules no worker steps (a private copy while the run trains)
    if w is None:  # released or failed since the picker listed it
        return None
    step = w.step
    src = make_source(w.G, w.config, f"{key}:{step}", f"run #{job.id}", w.real, encoder=w.encoder)
    src.extra.update(live=live, step=step)
    slot.clear()  # keep one run's generator per session
    slot[key] = src
    return src


# ---- fast re-renders ------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _render_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="ganlab-latent-render")


def on_warm_thread(fn: Callable, *args, **kwargs):
    """Run fn(*args) on a long-lived render thread and return its result (the slider path).

    Streamlit runs every rerun (and every fragment rerun) on a fresh script thread, and the first oneDNN
    convolution on a fresh thread costs many times a warm G forward of one z. Two process-wide threads stay
    warm; they only run ganlab.latent functions, never st.*.
    """
    return _render_pool().submit(fn, *args, **kwargs).result()


# ---- the selector --------------------------------------------------------------------------------------------


def source_ui() -> Source | None:
    """Draw the generator picker; returns the chosen Source, or None (with a message shown) when there is none."""
    from ganlab.ui.session import configure_torch

    configure_torch()  # one torch thread per run on CPU: renders stay steady under load
    bundled = bundled_assets()
    state.defaults({"lat_kind": "bundled" if bundled else "runs"})
    if bundled and st.session_state.get("lat_bundled") not in bundled:
        state.put({"lat_bundled": next(iter(bundled))})
    kind = st.radio(_("Generator"), tuple(KINDS), format_func=lambda k: _(KINDS[k]), horizontal=True,
                    key="lat_kind")
    if kind == "bundled":
        if not bundled:
            st.info(_("No bundled checkpoint is installed (assets/demo-mnist-*.pt). Pick one of your runs or "
                      "upload a checkpoint."))
            return None
        name = st.selectbox(_("Checkpoint"), list(bundled), key="lat_bundled", format_func=_)
        try:
            src = load_bundled(bundled[name])
        except ValueError as e:
            st.error(_("The bundled checkpoint could not be loaded: {error}").format(error=md(e)))
            return None
        st.caption(src.describe())
        return src
    if kind == "runs":
        choices = run_choices(_owner())
        if not choices:
            st.info(_("You have no runs yet: train one on the Image GAN or Mode collapse page, then come back."))
            return None
        if st.session_state.get("lat_run") not in choices:
            st.session_state["lat_run"] = next(reversed(choices))  # the newest run
        pick = st.selectbox(_("Run"), list(choices), format_func=lambda k: choices[k][0], key="lat_run")
        job, i = choices[pick][1], pick[1]
        refresh = job.active and st.button(_("Refresh weights from the live run"), key="lat_refresh")
        src = run_source(job, i, refresh)
        if src is None:
            st.info(_("This run no longer holds its networks: pick another one."))
            return None
        st.caption(src.describe())
        return src
    return _upload_ui()


def _upload_ui() -> Source | None:
    up = st.file_uploader(_("Checkpoint (.pt, saved by ganlab)"), type=["pt"], key="lat_upload")
    ss = st.session_state
    if up is not None:
        data = up.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in (ss.get("lat_up_ok"), ss.get("lat_up_bad")):
            try:
                ss["lat_up_src"] = load_upload(data, up.name)
                ss["lat_up_ok"], ss["lat_up_bad"], ss["lat_up_err"] = digest, None, None
            except ValueError as e:  # CheckpointError: one translated line
                ss["lat_up_bad"], ss["lat_up_err"] = digest, f"{up.name}: {e}"
            except Exception:  # noqa: BLE001 - never torch's words on the page
                ss["lat_up_bad"], ss["lat_up_err"] = digest, f"{up.name}: " + _(
                    "this file could not be opened as a generator")
        if ss.get("lat_up_bad") == digest:
            st.error(_("This checkpoint was refused and nothing changed. {reason}").format(reason=md(ss["lat_up_err"])))
    src = ss.get("lat_up_src")
    if src is not None:
        st.caption(md(f"{src.label}: {src.describe()}"))
    if src is None and up is None:
        st.info(_("Upload a checkpoint written by `python -m ganlab train --out DIR` or the Image GAN page."))
    return src
