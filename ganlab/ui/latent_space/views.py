"""Latent space page: the mode picker and one view per mode, each drawing what a generator makes of its z.

Every view takes the chosen `Source` and passes its generator, an opaque handle, to ganlab.latent functions
(numpy in, numpy / bytes out); images go to st.image as JPEG bytes, figures come from
ganlab/viz/latent_space.py. Widget defaults are declared with ganlab.ui.state (never `value=`), so they survive
a visit to another page. Widgets whose choice steers the code hold a key; the label is only shown.
"""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from ganlab import imaging, latent, latent_link
from ganlab.i18n import N_, _
from ganlab.ui import code, lang, state
from ganlab.ui.latent_space import share
from ganlab.ui.latent_space.source import Source, class_names, on_warm_thread
from ganlab.viz.latent_space import manifold_figure, norm_figure

RANGE = 3.0  # slider range: |z_k| <= 3 holds 99.7 % of N(0, 1)
SEED_MAX = 2**31 - 1
ENDPOINTS = {"seeds": N_("Two seeds"), "samples": N_("Pick two samples")}
REST = {"zero": N_("zero"), "seed": N_("from a seed")}  # the toy manifold's noise dims beyond z[0], z[1]
DEFAULTS = {**latent_link.DEFAULTS, "lat_e_ia": 0, "lat_e_ib": 0, "lat_s_sweep": 0}  # + what no link sets


def _class_ui(src: Source, key: str) -> np.ndarray | None:
    """For a conditional G: a class picker; returns labels for one sample (1,) or None."""
    if not src.n_classes:
        return None
    state.defaults({key: 0})
    c = st.selectbox(_("Class"), range(src.n_classes), format_func=lambda i: src.class_names[i], key=key)
    return np.array([c])


def _exports(frames: np.ndarray, fps: float, stem: str, **arrays: np.ndarray) -> None:
    """The animation, and downloads (NPZ and PNG zip are built only when clicked)."""
    gif = imaging.gif_bytes(frames, fps, scale=max(1, 224 // frames.shape[-1]))
    st.image(gif, caption=_("animation (GIF, plays forth and back)"))
    a, b, c = st.columns(3)
    a.download_button(_("GIF"), gif, f"{stem}.gif", "image/gif", key=f"{stem}_gif", on_click="ignore")
    b.download_button(_("Frames (NPZ)"), lambda: imaging.frames_npz_bytes(frames, **arrays), f"{stem}.npz",
                      "application/octet-stream", key=f"{stem}_npz", on_click="ignore")
    c.download_button(_("Frames (PNG zip)"), lambda: imaging.frames_png_zip_bytes(frames, scale=4), f"{stem}_png.zip",
                      "application/zip", key=f"{stem}_zip", on_click="ignore")


# ---- Interpolation ---------------------------------------------------------------------------------------------
def interpolation_view(src: Source) -> None:
    """A path from z_A to z_B (lerp or slerp) as frames, an animation, and ||z|| along both paths."""
    d = src.z_dim
    left, right = st.columns(2)
    how = left.radio(_("Endpoints"), tuple(ENDPOINTS), format_func=lambda k: _(ENDPOINTS[k]), horizontal=True,
                     key="lat_i_how")
    if how == "seeds":
        sa = left.number_input(_("Seed A"), 0, SEED_MAX, key="lat_i_a")
        sb = left.number_input(_("Seed B"), 0, SEED_MAX, key="lat_i_b")
        z0, z1 = latent.noise(sa, d)[0], latent.noise(sb, d)[0]
    else:
        sheet = left.number_input(_("Sample sheet (seed)"), 0, SEED_MAX, key="lat_i_sheet")
        cand = latent.noise(sheet, d, 16)  # (16, d)
        imgs = latent.render(src.G, cand, None if not src.n_classes else np.zeros(16, np.int64))
        st.image([imaging.images_jpeg(x[None], 1, 2) for x in imgs], caption=[f"#{i}" for i in range(16)],
                 width=64)
        ia = left.selectbox(_("Sample A"), range(16), key="lat_i_pa")
        ib = left.selectbox(_("Sample B"), range(16), key="lat_i_pb")
        z0, z1 = cand[ia], cand[ib]
    mode = right.radio(_("Path"), latent_link.PATHS, horizontal=True, key="lat_i_mode",
                       help=_("lerp: the straight line. slerp: the great circle, which keeps ||z|| near sqrt(d)."))
    n = right.slider(_("Frames"), 4, 32, key="lat_i_n")
    fps = right.slider(_("Animation speed (frames / s)"), 2, 24, key="lat_i_fps")
    with right:
        y = _class_ui(src, "lat_i_class")
    zs = latent.interpolate(z0, z1, n, mode)  # (n, d)
    frames = latent.render(src.G, zs, None if y is None else np.repeat(y, n))  # (n, C, H, W)
    st.image(imaging.images_jpeg(frames, nrow=min(n, 12), scale=2),
             caption=_("{mode}: {n} frames from A to B").format(mode=mode, n=n))
    _exports(frames, fps, f"interpolation_{mode}", z=zs)
    norms = {m: np.linalg.norm(latent.interpolate(z0, z1, n, m), axis=1) for m in ("lerp", "slerp")}
    st.plotly_chart(norm_figure(np.linspace(0, 1, n), norms, float(np.sqrt(d))), key="lat_i_norm")
    code.show_code([latent.interpolate, latent.slerp, latent.lerp, latent.render],
                   intro=N_("For z ~ N(0, I) in d dimensions ||z|| is close to sqrt(d); the straight line between "
                            "two such points dips inside that shell, the great circle (slerp) does not."))


# ---- Sliders ---------------------------------------------------------------------------------------------------
def _set_from_seed(d: int) -> None:
    """Every slider back to the seed's z (clipped to the slider range)."""
    base = latent.noise(st.session_state["lat_s_seed"], d)[0]
    state.put({f"lat_d{k}": float(np.round(np.clip(base[k], -RANGE, RANGE), 2)) for k in range(d)})
    st.session_state["lat_s_for"] = (st.session_state["lat_s_seed"], d)


def _randomise(d: int) -> None:
    st.session_state["lat_s_seed"] = int(np.random.default_rng().integers(0, 100_000))
    _set_from_seed(d)


def _one_image(G, z: np.ndarray, y: np.ndarray | None) -> bytes:
    return imaging.images_jpeg(latent.render(G, z, y), nrow=1, scale=8)


@st.fragment
def sliders_view(src: Source) -> None:
    """One slider per exposed z dimension and G(z) beside them, plus a sweep of one dimension.

    Runs as a fragment: a slider move re-runs only this function (one render of one z, one JPEG)."""
    lang.use()  # a fragment rerun does not inherit the full run's language
    d = src.z_dim
    state.defaults({f"lat_s_dims_{d}": list(range(min(12, d)))})
    if st.session_state.get("lat_s_for") != (st.session_state["lat_s_seed"], d):
        _set_from_seed(d)
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    a.number_input(_("Seed"), 0, SEED_MAX, key="lat_s_seed", on_change=_set_from_seed, args=(d,))
    b.button(_("Randomise"), key="lat_s_rand", on_click=_randomise, args=(d,))
    c.button(_("Reset"), key="lat_s_reset", on_click=_set_from_seed, args=(d,),
             help=_("put every slider back to the seed's value"))
    dims = st.multiselect(_("Dimensions to expose (8-16)"), range(d), max_selections=16, key=f"lat_s_dims_{d}")
    z = latent.noise(st.session_state["lat_s_seed"], d)[0]  # (d,): the seed's z; exposed dims come from sliders
    img_col, sl_col = st.columns([1, 2])
    with sl_col:
        y = _class_ui(src, "lat_s_class")
        cols = st.columns(2)
        for j, k in enumerate(dims):
            z[k] = cols[j % 2].slider(f"z[{k}]", -RANGE, RANGE, step=0.05, key=f"lat_d{k}")
    t0 = time.perf_counter()
    jpeg = on_warm_thread(_one_image, src.G, z, y)  # the slider callback's work: one G(z), one JPEG
    ms = (time.perf_counter() - t0) * 1000
    img_col.image(jpeg, caption=_("G(z), rendered in {ms:.1f} ms").format(ms=ms))
    with st.expander(_("Sweep one dimension"), expanded=True):
        k = st.selectbox(_("Dimension"), range(d), key="lat_s_sweep")
        values = np.linspace(-RANGE, RANGE, 9)
        labels = None if y is None else np.repeat(y, 9)
        grid = on_warm_thread(latent.render, src.G, latent.sweep(z, [k], values), labels)  # (9, C, H, W)
        st.image(imaging.images_jpeg(grid, nrow=9, scale=2),
                 caption=_("z[{k}] from {lo:g} to {hi:g}, every other dimension as above").format(k=k, lo=-RANGE,
                                                                                                   hi=RANGE))
    code.show_code([latent.render, imaging.images_jpeg, latent.sweep])
    share.sync_url(src, "sliders")
    share.box(src, "sliders")


# ---- Conditional -----------------------------------------------------------------------------------------------
def conditional_view(src: Source) -> None:
    """Classes x styles grid, and a morph from one class to another with the style (z) fixed."""
    if not src.n_classes:
        st.info(_("This generator is not conditional (it takes no class label). Pick a conditional model, e.g. "
                  "the bundled MNIST conditional GAN."))
        return
    a, b = st.columns(2)
    n_styles = a.slider(_("Styles (columns)"), 2, 10, key="lat_c_styles")
    seed = b.number_input(_("Style seed"), 0, SEED_MAX, key="lat_c_seed")
    z, labels = latent.conditional_grid(src.n_classes, n_styles, src.z_dim, seed)  # (K * S, d), (K * S,)
    st.image(imaging.images_jpeg(latent.render(src.G, z, labels), nrow=n_styles, scale=2),
             caption=_("rows: classes (the label); columns: one fixed z each (the style)"))
    st.subheader(_("Class morph: change the class, keep the style"))
    a, b, c, e = st.columns(4)
    names, k = src.class_names, src.n_classes
    y0 = a.selectbox(_("From"), range(k), format_func=lambda i: names[i], key="lat_c_from")
    y1 = b.selectbox(_("To"), range(k), format_func=lambda i: names[i], key="lat_c_to")
    if st.session_state["lat_c_col"] >= n_styles:
        st.session_state["lat_c_col"] = 0
    col = c.selectbox(_("Style (column)"), range(n_styles), key="lat_c_col")
    n = e.slider(_("Frames"), 4, 24, key="lat_c_n")
    frames = latent.class_morph(src.G, z[col], y0, y1, n)  # (n, C, H, W)
    st.image(imaging.images_jpeg(frames, nrow=n, scale=2),
             caption=_("label embedding blended from {a} to {b}, z fixed").format(a=names[y0], b=names[y1]))
    _exports(frames, 8, "class_morph", z=np.repeat(z[col][None], n, 0), t=np.linspace(0, 1, n))
    code.show_code([latent.conditional_grid, latent.class_codes, latent.class_morph])


# ---- Toy manifold ----------------------------------------------------------------------------------------------
def toy_manifold_view(src: Source) -> None:
    """GAN Lab's view of a 2-D toy generator: the noise grid and the warped manifold G makes of it."""
    d = src.z_dim
    a, b, c = st.columns(3)
    n_grid = a.slider(_("Grid lines"), 5, 21, step=2, key="lat_t_grid")
    span = a.slider(_("Noise range +-"), 1.0, 4.0, step=0.5, key="lat_t_span")
    rest = None
    if d > 2:
        how = b.radio(_("Other {n} noise dims").format(n=d - 2), tuple(REST), format_func=lambda k: _(REST[k]),
                      key="lat_t_rest")
        if how == "seed":
            rest = b.number_input(_("Seed for them"), 0, SEED_MAX, key="lat_t_rseed")
    sa = c.number_input(_("Path start (seed)"), 0, SEED_MAX, key="lat_t_a")
    sb = c.number_input(_("Path end (seed)"), 0, SEED_MAX, key="lat_t_b")
    mode = c.radio(_("Path"), ("lerp", "slerp"), horizontal=True, key="lat_t_mode")
    m = latent.toy_manifold(src.G, d, n_grid, span, seed=rest)
    p0, p1 = latent.noise(sa, 2)[0], latent.noise(sb, 2)[0]
    path_z = latent.interpolate(p0, p1, 24, mode)  # (24, 2) in the noise plane
    path_x = latent.toy_path(src.G, m["rest"], p0, p1, 24, mode)  # (24, 2) in data space
    st.plotly_chart(manifold_figure(m, path_z, path_x, span, src.real, src.centers), key="lat_t_fig")
    st.caption(_("GAN Lab's view: the square noise grid (left) and where G sends it (right). Where the grid "
                 "stretches, G spreads little noise over much space; where it folds onto a mode, many z give "
                 "(almost) the same point -- the picture of mode collapse.") +
               (" " + _("Only z[0] and z[1] move; the other {n} dims are held fixed.").format(n=d - 2)
                if d > 2 else ""))
    code.show_code([latent.toy_manifold, latent.toy_path])


# ---- Encode (VAE) -----------------------------------------------------------------------------------------------
def real_digits(data: str) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, C, H, W) in [-1, 1], y (N,)) real images to encode: the run's data if it loads here, else the
    embedded MNIST digits (read-only: the loader's cached copy)."""
    from ganlab.data.images import load_images_or_fallback

    img = load_images_or_fallback(data)
    return img.x, img.y


def _pick_real(col, x: np.ndarray, y: np.ndarray, names: tuple[str, ...], end: str) -> np.ndarray:
    """A class and an example number (keys lat_e_c<end>, lat_e_i<end>) -> one real image (C, H, W)."""
    c = col.selectbox(_("Real digit {end}: class").format(end=end.upper()), range(len(names)),
                      format_func=lambda i: names[i], key=f"lat_e_c{end}")
    idx = np.flatnonzero(y == c)
    i = col.number_input(_("Real digit {end}: example").format(end=end.upper()), 0, max(len(idx) - 1, 0),
                         key=f"lat_e_i{end}")
    return x[idx[min(int(i), len(idx) - 1)]]


def encode_view(src: Source) -> None:
    """A VAE's encoder maps two real digits to codes; the decoder draws the path between the codes."""
    x, y = real_digits(src.config.data)
    names = class_names(src.config.data, int(y.max()) + 1)
    a, b, c = st.columns(3)
    xa = _pick_real(a, x, y, names, "a")
    xb = _pick_real(b, x, y, names, "b")
    mode = c.radio(_("Path"), ("lerp", "slerp"), horizontal=True, key="lat_e_mode",
                   help=_("lerp: the straight line between the two codes. slerp: the great circle."))
    n = c.slider(_("Frames"), 4, 24, key="lat_e_n")
    frames, zs = latent.encode_path(src.G, src.encoder, xa, xb, n, mode)  # (n, C, H, W), (n, d)
    st.image(imaging.images_jpeg(np.stack([xa, frames[0], frames[-1], xb]), nrow=4, scale=3),
             caption=_("real A, its reconstruction decoder(mu(A)), the reconstruction of B, real B"))
    st.image(imaging.images_jpeg(frames, nrow=min(n, 12), scale=2),
             caption=_("{mode} from the code of A to the code of B: {n} decoded frames").format(mode=mode, n=n))
    st.caption(_("A VAE's encoder gives every real image a code, so two real digits can be morphed into each "
                 "other. A GAN has no encoder: finding the z of a real image needs a search (\"GAN inversion\")."))
    _exports(frames, 8, f"encode_{mode}", z=zs)
    code.show_code([latent.encode, latent.encode_path, latent.interpolate])


# ---- the mode picker -------------------------------------------------------------------------------------------
TOY_MODES = {"toy_manifold": (N_("Toy manifold"), toy_manifold_view)}
IMAGE_MODES = {"interpolation": (N_("Interpolation"), interpolation_view), "sliders": (N_("Sliders"), sliders_view),
               "conditional": (N_("Conditional"), conditional_view)}
VAE_MODES = {**IMAGE_MODES, "encode": (N_("Encode two real digits (VAE)"), encode_view)}


def modes_of(src: Source) -> dict:
    """The modes this generator offers: a toy generator's, an image generator's, plus encoding for a VAE."""
    if src.is_toy:
        return TOY_MODES
    return VAE_MODES if src.encoder is not None else IMAGE_MODES


def mode_ui(src: Source) -> str:
    """The mode radio (the modes this generator offers); returns the chosen mode's key.

    A share link's `mode` was written into the radio's value once, when the session opened the page
    (share.init). When the radio's value is gone (Streamlit drops a widget's value in any run that does not
    draw it, e.g. while an upload is pending) or is not a mode of this generator, the last mode chosen comes
    back, else the first (e.g. a toy generator after an image one).
    """
    modes = modes_of(src)
    keys = list(modes)
    if st.session_state.get("lat_mode") not in keys:
        kept = st.session_state.get("lat_mode_kept")
        state.put({"lat_mode": kept if kept in keys else keys[0]})
    mode = st.radio(_("Mode"), keys, format_func=lambda m: _(modes[m][0]), horizontal=True, key="lat_mode")
    st.session_state["lat_mode_kept"] = mode
    return mode


def draw(src: Source, mode: str) -> None:
    """The view of `mode` (a key mode_ui returned) for this generator, then its share link (the Sliders view, a
    fragment, draws its own: its seed changes without a full run)."""
    modes_of(src)[mode][1](src)
    if mode != "sliders":
        share.sync_url(src, mode)
        share.box(src, mode)
