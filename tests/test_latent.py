"""ganlab.latent: interpolation geometry, sweeps, conditional grids, class morphs, rendering and export."""
import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab import imaging, latent
from ganlab.config import TrainConfig
from ganlab.models import build

D = 100


@pytest.fixture(scope="module")
def ends():
    rng = np.random.default_rng(0)
    return rng.standard_normal(D).astype(np.float32), rng.standard_normal(D).astype(np.float32)


def _gen(model="dcgan", conditional=False, z_dim=16, shape=(1, 28, 28), **kw):
    torch.manual_seed(0)
    c = TrainConfig(data="ring" if len(shape) == 1 else "mnist", model=model, conditional=conditional, z_dim=z_dim,
                    **{"dcgan_width": 8, "g_width": 16, **kw})
    G, _ = build(c, shape, 10 if conditional else 0)
    return G.eval()


def test_slerp_keeps_norm_lerp_does_not(ends):
    z0, z1 = ends
    lo, hi = sorted([np.linalg.norm(z0), np.linalg.norm(z1)])
    t = np.linspace(0, 1, 21)
    ns = np.linalg.norm(latent.slerp(z0, z1, t), axis=1)
    nl = np.linalg.norm(latent.lerp(z0, z1, t), axis=1)
    assert ns.min() >= 0.95 * lo and ns.max() <= 1.05 * hi
    # lerp dips towards sqrt(d / 2) in the middle: ~30 % below the endpoints for independent draws
    assert nl.min() < 0.8 * lo


def test_endpoints_and_scalar_t(ends):
    z0, z1 = ends
    for f in (latent.lerp, latent.slerp):
        np.testing.assert_allclose(f(z0, z1, 0.0), z0, atol=1e-5)
        np.testing.assert_allclose(f(z0, z1, 1.0), z1, atol=1e-5)
        assert f(z0, z1, 0.5).shape == (D,)


def test_slerp_near_parallel_and_zero_are_finite():
    z0 = np.ones(8, np.float32)
    for z1 in (z0 * (1 + 1e-7), 2 * z0, np.zeros(8, np.float32), -z0):
        p = latent.slerp(z0, z1, np.linspace(0, 1, 5))
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p[0], z0, atol=1e-5)
        np.testing.assert_allclose(p[-1], z1, atol=1e-5)


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_consecutive_frames_closer_than_endpoints(ends, mode):
    z0, z1 = ends
    p = latent.interpolate(z0, z1, 12, mode)
    assert p.shape == (12, D) and p.dtype == np.float32
    steps = np.linalg.norm(np.diff(p, axis=0), axis=1)
    assert steps.max() < np.linalg.norm(z1 - z0)
    assert steps.max() < 0.2 * np.linalg.norm(z1 - z0)  # 11 steps: each about 1/11 of the way


def test_interpolate_rejects_bad_args(ends):
    with pytest.raises(ValueError, match="unknown interpolation"):
        latent.interpolate(*ends, 5, "cubic")
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolate(*ends, 1)


def test_noise_is_seeded():
    np.testing.assert_array_equal(latent.noise(3, 10), latent.noise(3, 10))
    assert not np.array_equal(latent.noise(3, 10), latent.noise(4, 10))


def test_sweep_sets_one_dim_per_row():
    z = np.arange(6, dtype=np.float32)
    s = latent.sweep(z, [1, 4], [-2, 0, 2])
    assert s.shape == (6, 6)
    np.testing.assert_array_equal(s[:3, 1], [-2, 0, 2])
    np.testing.assert_array_equal(s[3:, 4], [-2, 0, 2])
    np.testing.assert_array_equal(s[:3, [0, 2, 3, 4, 5]], np.tile(z[[0, 2, 3, 4, 5]], (3, 1)))
    with pytest.raises(ValueError, match="outside z"):
        latent.sweep(z, [6], [0])


def test_conditional_grid_rows_are_classes_columns_share_style():
    z, y = latent.conditional_grid(10, 4, 16, seed=1)
    assert z.shape == (40, 16) and y.shape == (40,)
    np.testing.assert_array_equal(y.reshape(10, 4), np.repeat(np.arange(10)[:, None], 4, 1))
    zz = z.reshape(10, 4, 16)
    assert np.array_equal(zz[0], zz[9]) and not np.array_equal(zz[0, 0], zz[0, 1])


def test_render_shapes_and_range():
    G = _gen()
    x = latent.render(G, latent.noise(0, 16, 5))
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32
    assert -1 <= x.min() and x.max() <= 1
    # eval mode: one image does not depend on its batch-mates (BatchNorm running stats)
    np.testing.assert_allclose(latent.render(G, latent.noise(0, 16, 5)[2]), x[2:3], atol=1e-5)
    assert not G.training


def test_render_restores_training_mode():
    G = _gen().train()
    latent.render(G, np.zeros(16, np.float32))
    assert G.training


def test_class_morph_ends_on_the_classes_and_keeps_style():
    G = _gen(conditional=True)
    assert latent.n_classes(G) == 10 and latent.n_classes(_gen()) == 0
    z = latent.noise(5, 16)[0]
    m = latent.class_morph(G, z, 3, 7, 6)
    assert m.shape == (6, 1, 28, 28)
    ref = latent.render(G, np.stack([z, z]), labels=np.array([3, 7]))
    np.testing.assert_allclose(m[0], ref[0], atol=1e-5)
    np.testing.assert_allclose(m[-1], ref[1], atol=1e-5)
    assert np.abs(m[2] - m[3]).mean() > 0  # it moves in between
    # G itself is untouched (it may be shared): plain rendering afterwards uses the labels again
    assert isinstance(G.embed, torch.nn.Embedding)
    np.testing.assert_allclose(latent.render(G, z, labels=np.array([7])), ref[1:], atol=1e-5)
    with pytest.raises(ValueError, match="not conditional"):
        latent.class_morph(_gen(), z, 0, 1, 3)
    with pytest.raises(ValueError, match="classes must be"):
        latent.class_codes(G, 0, 10, 3)


def test_toy_manifold_and_path():
    G = _gen(model="mlp", z_dim=4, shape=(2,))
    m = latent.toy_manifold(G, 4, n_grid=5, n_fine=7)
    assert m["rows"].shape == (5, 7, 2) and m["cols"].shape == (5, 7, 2)
    # rows[i, j] and cols[j', i'] meet where both noise coordinates match: the centre point is shared
    np.testing.assert_allclose(m["rows"][2, 3], m["cols"][2, 3], atol=1e-5)
    np.testing.assert_allclose(m["rows"][2, 3], latent.render(G, np.zeros(4, np.float32))[0], atol=1e-5)
    p = latent.toy_path(G, m["rest"], (-2, -2), (2, 2), n=9)
    assert p.shape == (9, 2)
    np.testing.assert_allclose(p[4], m["rows"][2, 3], atol=1e-5)  # path midpoint (0, 0) is the grid centre
    with pytest.raises(ValueError):
        latent.toy_manifold(G, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_gif_is_a_valid_animation(channels):
    frames = np.linspace(-1, 1, 6, dtype=np.float32)[:, None, None, None] * np.ones((6, channels, 8, 8), np.float32)
    data = imaging.gif_bytes(frames, fps=10, scale=2)
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF" and im.n_frames > 1 and im.size == (16, 16)
    assert im.info.get("loop") == 0
    im.seek(im.n_frames - 1)  # every frame decodes


def test_npz_and_png_zip():
    frames = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32)
    z = np.zeros((4, 3), np.float32)
    with np.load(io.BytesIO(imaging.frames_npz_bytes(frames, z=z))) as f:
        np.testing.assert_array_equal(f["frames"], frames)
        assert f["z"].shape == (4, 3)
    with zipfile.ZipFile(io.BytesIO(imaging.frames_png_zip_bytes(frames, scale=3))) as zf:
        names = zf.namelist()
        assert names == [f"frame_{i:03d}.png" for i in range(4)]
        img = Image.open(io.BytesIO(zf.read(names[1])))
        assert img.size == (24, 24)
        np.testing.assert_array_equal(np.asarray(img)[::3, ::3], imaging.to_uint8(frames[1:2])[0, :, :, 0])


def test_images_jpeg_grid_size():
    x = np.zeros((6, 1, 28, 28), np.float32)
    im = Image.open(io.BytesIO(imaging.images_jpeg(x, nrow=3, scale=2)))
    assert im.format == "JPEG" and im.size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))


def test_slider_rerender_is_interactive():
    """The Sliders mode's per-move work (one z through a DCGAN, one JPEG) stays far below 150 ms on a CPU."""
    import time

    torch.set_num_threads(1)
    G = _gen(z_dim=100, dcgan_width=32)  # the DCGAN paper's z, our default width
    z = latent.noise(0, 100)[0]
    times = []
    for i in range(21):
        z[0] = -3 + 0.3 * i
        t0 = time.perf_counter()
        jpeg = imaging.images_jpeg(latent.render(G, z), nrow=1, scale=8)
        times.append(time.perf_counter() - t0)
    assert jpeg[:2] == b"\xff\xd8"
    assert np.median(times[1:]) < 0.150


def test_a_vae_encoder_gives_codes_and_a_path_between_two_real_images():
    from ganlab.config import TrainConfig
    from ganlab.models import build

    torch.manual_seed(0)
    dec, enc = build(TrainConfig(data="mnist", model="vae", z_dim=6, dcgan_width=8), (1, 28, 28))
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    mu = latent.encode(enc, x)
    assert mu.shape == (3, 6) and mu.dtype == np.float32 and enc.training  # its mode is left as it was
    np.testing.assert_allclose(latent.encode(enc, x[:1]), mu[:1], atol=1e-5)  # a code does not depend on the batch
    frames, z = latent.encode_path(dec, enc, x[0], x[1], 5, "lerp")
    assert frames.shape == (5, 1, 28, 28) and z.shape == (5, 6)
    np.testing.assert_allclose(z[[0, -1]], mu[:2], atol=1e-5)  # the path starts and ends at the two codes
    np.testing.assert_allclose(frames[0], latent.render(dec, mu[0])[0], atol=1e-5)  # = the reconstruction of x0
