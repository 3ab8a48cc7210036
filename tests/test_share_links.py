"""Share links of the Theory and Latent space pages (issue 22, item 5), as the training pages have them:
the link a page shows opens, in a fresh session, the same widget values; a bad link keeps the defaults and says
why, escaped; a link never names a student's run or a path; `lang=zh` keeps working; the lessons' links open the
setups their steps describe."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganlab import jobs, latent_link, lessons
from ganlab.config import TrainConfig
from ganlab.text import md
from ganlab.theory import link as theory_link

ROOT = Path(__file__).resolve().parents[1]
THEORY = str(ROOT / "pages" / "theory.py")
LATENT = str(ROOT / "pages" / "latent_space.py")
ASSETS = ROOT / "assets"
needs_demos = pytest.mark.skipif(not all((ASSETS / f).is_file() for _l, f in latent_link.SOURCES.values()),
                                 reason="the bundled demo checkpoints (assets/demo-mnist-*.pt) are not installed")
TH_KEYS = ["th_" + k for k in theory_link.DEFAULTS]


def _open(page: str, query: dict[str, str] | None = None, owner: str | None = None) -> AppTest:
    at = AppTest.from_file(page, default_timeout=60)
    if owner:
        at.session_state["ganlab_owner"] = owner
    if query:
        at.query_params.update(query)
    at.run()
    _ok(at)
    return at


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _shown_link(at) -> str:
    """The link in the "Share this ..." expander (no browser: relative, `?...`)."""
    return next(c.value for c in at.code if c.value.startswith("?"))


def _query(link: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(link.lstrip("?")))


# ---- Theory --------------------------------------------------------------------------------------------------
def test_theory_link_round_trips_every_setting():
    at = _open(THEORY)
    assert dict(at.query_params) == {} and _shown_link(at) == "?"  # the defaults: a bare link
    at.selectbox(key="th_data").set_value("custom").run()
    at.text_input(key="th_means").set_value("-3, 0.5, 2").run()
    at.text_input(key="th_stds").set_value("0.4").run()
    at.text_input(key="th_weights").set_value("2, 1, 1").run()
    at.radio(key="th_loss").set_value("minimax").run()
    at.select_slider(key="th_g_lr").set_value(5e-4).run()
    at.select_slider(key="th_d_lr").set_value(2e-3).run()
    at.number_input(key="th_d_steps").set_value(3).run()
    at.number_input(key="th_steps").set_value(5000).run()
    at.number_input(key="th_seed").set_value(7).run()
    at.selectbox(key="th_z_dist").set_value("uniform").run()
    at.number_input(key="th_z_dim").set_value(2).run()
    at.number_input(key="th_dopt_steps").set_value(1000).run()
    _ok(at)
    link = _shown_link(at)
    assert _query(link) == dict(at.query_params) == {
        "data": "custom", "means": "-3, 0.5, 2", "stds": "0.4", "weights": "2, 1, 1", "loss": "minimax",
        "g_lr": "0.0005", "d_lr": "0.002", "d_steps": "3", "steps": "5000", "z_dist": "uniform", "z_dim": "2",
        "seed": "7", "dopt_steps": "1000"}  # the address bar is the link too
    again = _open(THEORY, _query(link))
    assert not again.warning
    assert {k: again.session_state[k] for k in TH_KEYS} == {k: at.session_state[k] for k in TH_KEYS}
    assert again.text_input(key="th_means").value == "-3, 0.5, 2"
    assert not again.button(key="th_start").disabled  # a valid setup, ready to Start


def test_the_steps_budget_reaches_the_run(wait_until):
    at = _open(THEORY, {"steps": "40", "d_steps": "2"})
    at.button(key="th_start").click().run()
    job = jobs.manager().get(at.session_state["th_job"])
    assert job.runners[0].config.steps == 40 and job.runners[0].config.d_steps == 2
    assert job.join(60) and job.snapshots()[0].step == 40


@pytest.mark.parametrize("query, reason", [
    ({"d_steps": "50"}, "d_steps must be between 1 and 10; got 50"),  # TheoryConfig allows 50; the widget, 10
    ({"g_lr": "0.003"}, "g_lr: '0.003' is not one of the page's learning rates"),
    ({"loss": "wgan"}, "loss 'wgan' is not a minimax game"),
    ({"data": "custom", "stds": "9"}, "stds must be in [0.05, 3]; got [9.0]"),
    ({"means": "1, 2"}, "means only apply with data=custom"),
    ({"seed": "-1"}, "seed must be between 0 and 2147483647; got -1"),
    ({"steps": "1e9"}, "steps must be between 1 and 1000000; got 1000000000"),
    ({"dopt_steps": "75"}, "dopt_steps must be between 50 and 5000, in steps of 50; got 75"),
    ({"z_dim": "abc"}, "z_dim: expected a whole number, got 'abc'"),
])
def test_a_bad_theory_link_keeps_the_defaults_and_says_why(query, reason):
    values, warnings = theory_link.restore(query)
    assert values == theory_link.DEFAULTS and len(warnings) == 1 and reason in warnings[0], warnings


def test_a_bad_theory_link_on_the_page_is_escaped():
    evil = "[re-enter the passcode](https://evil.example)"
    at = _open(THEORY, {evil: "1", "data": "trimodal", "loss": "$x$ **bold**"})
    shown = [w.value for w in at.warning]
    assert len(shown) == 2 and all(w.startswith("Share link: ") for w in shown)
    assert shown[0] == "Share link: " + md(f"ignored unknown link parameter(s): {evil}")  # no live link
    assert r"\[re-enter the passcode\]" in shown[0] and r"\$x\$ \*\*bold\*\*" in shown[1]
    assert at.selectbox(key="th_data").value == "gaussian"  # one bad value: the whole link is refused
    assert dict(at.query_params) == {}  # and the address bar shows the setup the page really has


def test_theory_link_in_chinese():
    at = _open(THEORY, {"lang": "zh", "d_steps": "4", "z_dim": "x"})
    assert at.title[0].value.startswith("理论") and len(at.warning) == 1
    assert at.warning[0].value.startswith("分享链接：") and "z_dim" in at.warning[0].value
    assert dict(at.query_params) == {"lang": "zh"}  # the refused link's setting is gone, the language stays
    at = _open(THEORY, {"lang": "zh", "d_steps": "4"})
    assert not at.warning and at.number_input(key="th_d_steps").value == 4
    assert dict(at.query_params) == {"d_steps": "4", "lang": "zh"}  # the link keeps the reader's language
    assert _query(_shown_link(at)) == {"d_steps": "4", "lang": "zh"}
    assert any(e.label == "分享这组设置" for e in at.expander)


def test_the_lessons_theory_links_open_the_setups_their_steps_describe():
    want = {"training-loop": ("th_d_steps", 5), "non-saturating": ("th_loss", "minimax"),
            "unstable-game": ("th_data", "bimodal")}
    found = {}
    for s in lessons.get("the-game").steps:
        if s.link.query:
            at = _open(THEORY, s.link.query)
            assert not at.warning
            key, value = want[s.id]
            assert at.session_state[key] == value
            found[s.id] = s.link.url()
    assert set(found) == set(want), found


# ---- Latent space ----------------------------------------------------------------------------------------------
@needs_demos
def test_latent_link_round_trips_the_demo_mode_and_view():
    at = _open(LATENT)
    assert dict(at.query_params) == {"source": "mnist-dcgan", "mode": "interpolation"}
    at.number_input(key="lat_i_a").set_value(12).run()
    at.number_input(key="lat_i_b").set_value(34).run()
    at.radio(key="lat_i_mode").set_value("lerp").run()
    at.slider(key="lat_i_n").set_value(6).run()
    _ok(at)
    link = _shown_link(at)
    assert _query(link) == dict(at.query_params) == {"source": "mnist-dcgan", "mode": "interpolation",
                                                      "seed_a": "12", "seed_b": "34", "path": "lerp", "frames": "6"}
    keys = ["lat_kind", "lat_bundled", "lat_mode", "lat_i_a", "lat_i_b", "lat_i_mode", "lat_i_n"]
    again = _open(LATENT, _query(link))
    assert not again.warning
    assert {k: again.session_state[k] for k in keys} == {k: at.session_state[k] for k in keys}
    assert any(c.startswith("lerp: 6 frames") for img in again.get("image") for c in img.captions)

    at.selectbox(key="lat_bundled").set_value("MNIST conditional GAN (demo)").run()
    at.radio(key="lat_mode").set_value("conditional").run()
    at.slider(key="lat_c_styles").set_value(5).run()
    at.number_input(key="lat_c_seed").set_value(9).run()
    at.selectbox(key="lat_c_to").set_value(7).run()
    _ok(at)
    assert dict(at.query_params) == {"source": "mnist-cgan", "mode": "conditional", "styles": "5", "seed": "9",
                                     "class_to": "7"}
    again = _open(LATENT, _query(_shown_link(at)))
    assert not again.warning and again.selectbox(key="lat_bundled").value == "MNIST conditional GAN (demo)"
    assert (again.radio(key="lat_mode").value, again.slider(key="lat_c_styles").value,
            again.selectbox(key="lat_c_to").value) == ("conditional", 5, 7)


@needs_demos
def test_latent_sliders_seed_is_in_the_link_and_a_vae_link_opens_encode():
    at = _open(LATENT, {"source": "mnist-dcgan", "mode": "sliders", "seed": "5"})
    assert not at.warning and at.number_input(key="lat_s_seed").value == 5
    at.number_input(key="lat_s_seed").set_value(6).run()  # inside the Sliders fragment
    assert dict(at.query_params) == {"source": "mnist-dcgan", "mode": "sliders", "seed": "6"}
    at = _open(LATENT, {"source": "mnist-vae", "mode": "encode", "class_a": "1", "class_b": "7", "path": "slerp"})
    assert not at.warning and at.radio(key="lat_mode").value == "encode"
    assert (at.selectbox(key="lat_e_ca").value, at.selectbox(key="lat_e_cb").value) == (1, 7)
    assert any(c.startswith("slerp from the code of A") for img in at.get("image") for c in img.captions)


def test_a_latent_link_never_names_a_students_run(wait_until):
    """A run of the student's own: the link gives the mode and view, no run id, owner or path, and says so."""
    from ganlab.engine.factory import make_trainer
    from ganlab.engine.runner import TrainerRunner

    config = TrainConfig(data="ring", model="mlp", z_dim=4, g_width=32, d_width=32, batch_size=64, steps=2,
                         log_every=1, device="cpu")
    job = jobs.manager().submit("share-owner", lambda: [TrainerRunner(None, trainer=make_trainer(config))],
                                label="my-secret-run")
    assert job.join(60) and job.status == "done", job.error
    at = _open(LATENT, owner="share-owner")
    at.radio(key="lat_kind").set_value("runs").run()
    at.number_input(key="lat_t_a").set_value(3).run()
    _ok(at)
    q = dict(at.query_params)
    assert q == {"mode": "toy_manifold", "seed_a": "3"}
    assert _query(_shown_link(at)) == q  # nothing of the run: no id, owner, label or path
    assert any("stay yours" in c.value for c in at.caption)


@pytest.mark.parametrize("query, reason", [
    ({"source": "/etc/passwd"}, "source '/etc/passwd' is not a bundled demo"),
    ({"source": "run:3:0"}, "source 'run:3:0' is not a bundled demo"),
    ({"mode": "walk"}, "mode 'walk' is not a Latent space mode"),
    ({"source": "mnist-dcgan", "mode": "encode"}, "mode 'encode' is not a mode of mnist-dcgan"),
    ({"mode": "sliders", "seed_a": "3"}, "ignored seed_a: not settings of the sliders view"),
    ({"seed_a": "-1"}, "seed_a must be a whole number from 0 to 2147483647; got '-1'"),
    ({"path": "curve"}, "path: 'curve' is not one of slerp, lerp"),
    ({"frames": "100"}, "frames must be a whole number from 4 to 32; got '100'"),
    ({"mode": "toy_manifold", "grid": "6"}, "grid must be a number from 5 to 21 in steps of 2; got '6'"),
    ({"mode": "conditional", "styles": "4", "column": "5"}, "column 5 is not among the 4 styles (0 to 3)"),
])
def test_a_bad_latent_link_says_why(query, reason):
    source, mode, values, warnings = latent_link.restore(query)
    assert any(reason in w for w in warnings), warnings
    assert source in (None, *latent_link.SOURCES) and mode in (None, *latent_link.MODES)
    if "could not be used" in " ".join(warnings):
        assert values == {}  # the view's defaults are kept


@needs_demos
def test_a_bad_latent_link_on_the_page_is_escaped_and_keeps_the_defaults():
    at = _open(LATENT, {"source": "https://evil.example/x.pt", "mode": "sliders", "seed": "`rm -rf`"})
    shown = [w.value for w in at.warning]
    assert shown == ["Share link: " + md("source 'https://evil.example/x.pt' is not a bundled demo; choose one of "
                                         "mnist-dcgan, mnist-cgan, mnist-vae"),
                     "Share link: " + md("the link's view settings could not be used (seed must be a whole number "
                                         "from 0 to 2147483647; got '`rm -rf`'); their defaults are kept")]
    assert "https://" not in shown[0] and r"\`rm" in shown[1]
    assert at.radio(key="lat_mode").value == "sliders" and at.number_input(key="lat_s_seed").value == 0
    assert dict(at.query_params) == {"source": "mnist-dcgan", "mode": "sliders"}


@needs_demos
def test_latent_link_in_chinese_and_the_lessons_latent_links():
    at = _open(LATENT, {"lang": "zh", "mode": "sliders"})
    assert at.title[0].value == "潜在空间" and not at.warning
    assert dict(at.query_params) == {"source": "mnist-dcgan", "mode": "sliders", "lang": "zh"}
    steps = [s for s in lessons.get("images-and-latent-space").steps if s.link.page == "latent_space"]
    assert [s.link.url() for s in steps] == ["latent_space?source=mnist-dcgan&mode=interpolation&path=lerp",
                                             "latent_space?source=mnist-dcgan&mode=sliders"]
    at = _open(LATENT, steps[0].link.query)
    assert not at.warning and at.radio(key="lat_i_mode").value == "lerp"
    assert at.selectbox(key="lat_bundled").value == "MNIST DCGAN (demo)"


# ---- in a real browser -----------------------------------------------------------------------------------------
def _url_is(page, path: str, query: dict[str, str], timeout: float = 15.0) -> None:
    """Wait until the page's address is `path` with exactly `query` (in any order)."""
    from urllib.parse import parse_qsl, urlsplit

    deadline = time.monotonic() + timeout
    while True:
        u = urlsplit(page.url)
        if u.path == path and dict(parse_qsl(u.query)) == query:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"address {page.url}, expected {path} with {query}")
        page.wait_for_timeout(200)


def _nav(page, name: str) -> None:
    """Click a page in the sidebar once the current run has finished (a click mid-run interrupts it)."""
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=30_000)
    page.get_by_test_id("stSidebarNav").get_by_text(name).click()


@needs_demos
def test_links_in_the_browser_open_the_setup_and_survive_a_page_switch(streamlit_server, page):
    """A lesson's Theory link opened in Chromium sets the widgets and the address bar; the sidebar's pages do not
    carry one page's link to another (no warnings), and coming back keeps the values and the link."""
    expect = pytest.importorskip("playwright.sync_api").expect
    # A fresh server's very first session on a page's address runs that page alone (Streamlit takes pages/ as a
    # plain multipage app until app.py has called st.navigation once); open the app itself first.
    page.goto(streamlit_server)
    expect(page.get_by_role("heading", name="Mode collapse lab")).to_be_visible(timeout=30_000)
    page.goto(streamlit_server + "/theory?d_steps=5&loss=minimax")
    d_steps = page.get_by_role("spinbutton", name="D steps per G step")
    expect(d_steps).to_have_value("5", timeout=30_000)
    _url_is(page, "/theory", {"d_steps": "5", "loss": "minimax"})
    _nav(page, "Latent space")
    _url_is(page, "/latent_space", {"source": "mnist-dcgan", "mode": "interpolation"}, 30)
    seed_a = page.get_by_role("spinbutton", name="Seed A")
    seed_a.fill("12")
    seed_a.press("Enter")
    _url_is(page, "/latent_space", {"source": "mnist-dcgan", "mode": "interpolation", "seed_a": "12"})
    _nav(page, "Theory")
    expect(page.get_by_role("spinbutton", name="D steps per G step")).to_have_value("5", timeout=15_000)
    _url_is(page, "/theory", {"d_steps": "5", "loss": "minimax"})
    _nav(page, "Latent space")
    expect(page.get_by_role("spinbutton", name="Seed A")).to_have_value("12", timeout=30_000)
    expect(page.get_by_test_id("stAlertContentWarning")).to_have_count(0)
