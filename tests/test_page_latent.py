"""AppTest of pages/latent_space.py: every mode, each generator source, slider re-render, refused uploads.

Generators come from tiny runs trained here for a few steps through the job manager (as a student's runs
would), so the tests do not depend on the bundled demo checkpoints; one test opens the bundled asset when
it is installed.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ganlab.ui.latent_space.source as ui_latent
from ganlab import jobs, latent
from ganlab.config import TrainConfig
from ganlab.engine.runner import TrainerRunner

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "latent_space.py")
OWNER = "latent-page-test"
TINY = dict(z_dim=16, dcgan_width=8, batch_size=32, steps=4, log_every=2, device="cpu", seed=0)
CONFIGS = {
    "dcgan": TrainConfig(data="mnist", model="dcgan", **TINY),
    "cgan": TrainConfig(data="mnist", model="dcgan", conditional=True, **TINY),
    "toy": TrainConfig(data="ring", model="mlp", z_dim=4, g_width=32, d_width=32, batch_size=64, steps=4,
                       log_every=2, device="cpu"),
    "vae": TrainConfig(data="mnist", model="vae", **TINY),
}


class QuietRunner(TrainerRunner):
    """A real training run whose snapshots are skipped (this page reads the generator, not snapshots)."""

    def snapshot(self):
        return None


@pytest.fixture(scope="module")
def trained():
    """name -> checkpoint bytes of a run trained for a few steps (trained once per module)."""
    from ganlab import checkpoint
    from ganlab.engine.factory import make_trainer

    torch.set_num_threads(1)
    out = {}
    for name, cfg in CONFIGS.items():
        t = make_trainer(cfg)
        t.step(cfg.steps)
        out[name] = checkpoint.to_bytes(t, optimizers=False)
    return out


@pytest.fixture
def runs(trained):
    """The trained runs as finished jobs of OWNER in the job manager (conftest resets it after each test)."""
    from ganlab import checkpoint

    m = jobs.manager()
    out = {name: m.submit(OWNER, lambda b=b: [QuietRunner(None, trainer=checkpoint.load(b).make_trainer("cpu"))],
                          label=f"test-{name}") for name, b in trained.items()}
    for job in out.values():
        assert job.join(60) and job.status == "done", job.error
    return out


def _app(owner):
    """A fresh page whose browser session owns `owner`'s runs (ganlab.ui.session keeps the id in session_state)."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["ganlab_owner"] = owner
    return at


@pytest.fixture
def at():
    return _app(OWNER)


def _no_errors(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _open_run(at, name, runs):
    at.run()
    at.radio(key="lat_kind").set_value("runs").run()
    sel = at.selectbox(key="lat_run")
    assert any(o.startswith(f"#{runs[name].id} test-{name} (done, step") for o in sel.options)
    sel.set_value((runs[name].id, 0)).run()
    _no_errors(at)
    return at


def _images(at):
    return at.get("image")


def test_no_runs_says_what_to_do():
    at = _app("nobody-here").run()
    at.radio(key="lat_kind").set_value("runs").run()
    _no_errors(at)
    assert any("no runs yet" in i.value for i in at.info)
    assert not _images(at)


def test_interpolation_mode(at, runs):
    _open_run(at, "dcgan", runs)
    assert at.radio(key="lat_mode").options == ["Interpolation", "Sliders", "Conditional"]
    assert at.radio(key="lat_mode").value == "interpolation"
    caps = [c for img in _images(at) for c in img.captions]
    assert any(c.startswith("slerp: 10 frames") for c in caps) and any("animation" in c for c in caps)
    assert [b.label for b in at.get("download_button")] == ["GIF", "Frames (NPZ)", "Frames (PNG zip)"]
    spec = at.get("plotly_chart")[0].proto.spec
    assert "lerp" in spec and "slerp" in spec
    strip = _images(at)[0].value
    at.radio(key="lat_i_mode").set_value("lerp").run()
    _no_errors(at)
    assert _images(at)[0].value != strip  # a different path gives different frames
    at.radio(key="lat_i_how").set_value("samples").run()
    _no_errors(at)
    assert len(_images(at)[0].value) == 16  # the candidate sheet
    at.selectbox(key="lat_i_pb").set_value(5).run()
    _no_errors(at)


def test_sliders_mode_rerenders_on_move_and_resets(at, runs):
    at.query_params["mode"] = "sliders"  # a link can name the mode
    at.run()
    assert at.radio(key="lat_mode").value == "sliders"  # on the bundled generator the page opens with
    _open_run(at, "dcgan", runs)
    at.radio(key="lat_mode").set_value("sliders").run()
    assert at.radio(key="lat_mode").value == "sliders"
    sliders = [s for s in at.slider if s.key and s.key.startswith("lat_d")]
    assert len(sliders) == 12
    z = np.round(np.clip(latent.noise(0, 16)[0], -3, 3), 2)
    assert at.slider(key="lat_d3").value == pytest.approx(z[3], abs=1e-6)
    before = _images(at)[0].value
    assert "rendered in" in _images(at)[0].captions[0]
    at.slider(key="lat_d3").set_value(2.5).run()
    _no_errors(at)
    assert _images(at)[0].value != before
    at.button(key="lat_s_reset").click().run()
    assert at.slider(key="lat_d3").value == pytest.approx(z[3], abs=1e-6)
    assert _images(at)[0].value == before  # same z, same image
    at.button(key="lat_s_rand").click().run()
    _no_errors(at)
    seed = at.number_input(key="lat_s_seed").value
    assert seed != 0 and _images(at)[0].value != before
    assert at.slider(key="lat_d3").value == pytest.approx(np.round(np.clip(latent.noise(seed, 16)[0][3], -3, 3), 2))
    # choose which dims to expose: 8 of them
    at.multiselect(key="lat_s_dims_16").set_value([0, 2, 4, 6, 8, 10, 12, 14]).run()
    _no_errors(at)
    assert sorted(s.key for s in at.slider if s.key.startswith("lat_d")) == sorted(
        f"lat_d{k}" for k in (0, 2, 4, 6, 8, 10, 12, 14))
    sweep = _images(at)[1]
    assert "z[0] from -3 to 3" in sweep.captions[0]
    at.selectbox(key="lat_s_sweep").set_value(7).run()
    assert "z[7]" in _images(at)[1].captions[0]


def test_conditional_mode(at, runs):
    _open_run(at, "dcgan", runs)
    at.radio(key="lat_mode").set_value("conditional").run()
    assert any("not conditional" in i.value for i in at.info)
    _open_run(at, "cgan", runs)
    at.radio(key="lat_mode").set_value("conditional").run()
    _no_errors(at)
    caps = [c for img in _images(at) for c in img.captions]
    assert any(c.startswith("rows: classes") for c in caps)
    assert any("blended from 0 to 1" in c for c in caps)
    at.selectbox(key="lat_c_to").set_value(7).run()
    at.slider(key="lat_c_styles").set_value(4).run()
    _no_errors(at)
    assert any("blended from 0 to 7" in c for img in _images(at) for c in img.captions)
    # the class picker appears in the other modes for a conditional model
    at.radio(key="lat_mode").set_value("sliders").run()
    at.selectbox(key="lat_s_class").set_value(3).run()
    _no_errors(at)


def test_toy_mode(at, runs):
    _open_run(at, "toy", runs)
    assert at.radio(key="lat_mode").options == ["Toy manifold"]
    spec = at.get("plotly_chart")[0].proto.spec
    assert "noise space" in spec and "data space" in spec and "interpolation path" in spec
    assert "real data" in spec and "mode centres" in spec
    at.radio(key="lat_t_rest").set_value("seed").run()
    at.radio(key="lat_t_mode").set_value("slerp").run()
    at.slider(key="lat_t_grid").set_value(7).run()
    _no_errors(at)


def test_a_live_run_is_copied_and_refreshed_on_request(at, wait_until):
    cfg = CONFIGS["toy"].replace(steps=1_000_000)
    job = jobs.manager().submit(OWNER, lambda: [QuietRunner(cfg)], label="live")
    wait_until(lambda: job.status == "running" and job.runners and job.runners[0].trainer.step_count > 0,
               what="the live run to start")
    at.run()
    at.radio(key="lat_kind").set_value("runs").run()
    _no_errors(at)
    assert any("still training" in c.value for c in at.caption)
    src = at.session_state["lat_run_cache"][f"run:{job.id}:0"]
    assert src.G is not job.runners[0].trainer.G  # a private copy: the worker keeps training the original
    first = src.key
    wait_until(lambda: job.runners[0].trainer.step_count > int(first.rsplit(":", 1)[1]), what="more steps")
    at.run()
    assert at.session_state["lat_run_cache"][f"run:{job.id}:0"].key == first  # kept until asked
    at.button(key="lat_refresh").click().run()
    _no_errors(at)
    assert at.session_state["lat_run_cache"][f"run:{job.id}:0"].key != first
    job.stop()


def test_upload_refuses_garbage_and_keeps_the_last_good_one(at, trained):
    at.run()
    at.radio(key="lat_kind").set_value("upload").run()
    assert any("Upload a checkpoint" in i.value for i in at.info)
    at.file_uploader(key="lat_upload").set_value(("junk.pt", b"not a checkpoint at all", "application/octet-stream"))
    at.run()
    assert not at.exception
    assert any("refused" in e.value and "junk.pt" in e.value.replace("\\", "") for e in at.error)
    assert not _images(at)
    at.file_uploader(key="lat_upload").set_value(("tiny.pt", trained["dcgan"], "application/octet-stream"))
    at.run()
    _no_errors(at)
    good = _images(at)[0].value
    at.file_uploader(key="lat_upload").set_value(("bad.pt", b"\x80\x02garbage", "application/octet-stream"))
    at.run()
    assert any("refused" in e.value and "bad.pt" in e.value.replace("\\", "") for e in at.error)
    assert _images(at)[0].value == good  # nothing changed


def _fresh_app_on_latent_page(app_test):
    """A fresh app (app.py, st.navigation) switched to the Latent space page: no run, no upload."""
    at = app_test("app.py").run()
    at.switch_page("pages/latent_space.py").run()
    _no_errors(at)
    assert at.radio(key="lat_kind").value == "bundled"
    # Interpolation opens first: a strip of generated digits and its animation
    assert any(c.startswith("slerp: 10 frames") for img in _images(at) for c in img.captions)
    return at


def test_bundled_source_opens_by_default(trained, tmp_path, monkeypatch, app_test):
    """The bundled-checkpoint path on stand-in assets (the real ones are checked below once installed)."""
    for name, file in (("dcgan", "demo-mnist-dcgan.pt"), ("cgan", "demo-mnist-cgan.pt"), ("vae", "demo-mnist-vae.pt")):
        (tmp_path / file).write_bytes(trained[name])
    monkeypatch.setattr(ui_latent, "ASSETS", tmp_path)
    at = _fresh_app_on_latent_page(app_test)
    assert at.selectbox(key="lat_bundled").options == list(ui_latent.BUNDLED)
    at.selectbox(key="lat_bundled").set_value("MNIST conditional GAN (demo)").run()
    at.radio(key="lat_mode").set_value("conditional").run()
    _no_errors(at)
    assert any(c.startswith("rows: classes") for img in _images(at) for c in img.captions)


@pytest.mark.skipif(not (ui_latent.ASSETS / "demo-mnist-dcgan.pt").is_file(), reason="bundled demo not built yet")
def test_fresh_app_shows_digits_from_the_bundled_checkpoint(app_test):
    at = _fresh_app_on_latent_page(app_test)
    assert "dcgan on mnist" in " ".join(c.value for c in at.caption)
    at.radio(key="lat_mode").set_value("sliders").run()
    before = _images(at)[0].value
    at.slider(key="lat_d0").set_value(-2.0).run()
    _no_errors(at)
    assert _images(at)[0].value != before


def test_vae_encodes_two_real_digits_and_walks_between_them(at, runs):
    _open_run(at, "vae", runs)
    assert at.radio(key="lat_mode").options == ["Interpolation", "Sliders", "Conditional",
                                                 "Encode two real digits (VAE)"]
    at.radio(key="lat_mode").set_value("encode").run()
    _no_errors(at)
    captions = [c for img in _images(at) for c in img.captions]
    assert any(c.startswith("real A, its reconstruction") for c in captions)
    assert any(c.startswith("lerp from the code of A to the code of B: 10 decoded frames") for c in captions), captions
    first = _images(at)[0].value  # real A, the two reconstructions, real B
    at.selectbox(key="lat_e_cb").set_value(1).run()  # another digit B
    at.radio(key="lat_e_mode").set_value("slerp").run()
    _no_errors(at)
    assert _images(at)[0].value != first
    assert any("slerp from the code of A" in c for img in _images(at) for c in img.captions)
