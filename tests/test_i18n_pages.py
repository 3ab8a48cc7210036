"""Every page in 简体中文 (AppTest): `lang=zh` gives Chinese titles, buttons and the tutorials' terms, with no
English Start / Pause / Reset left; switching the language while a run trains keeps the run and every widget
value (option values are stable keys, only their labels change)."""
import re

import pytest
import torch

from ganlab import i18n, jobs

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_BUTTONS = {"Start", "Restart", "Pause", "Resume", "Step", "Reset"}


@pytest.fixture(scope="module", autouse=True)
def warm_engine():
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)


@pytest.fixture(autouse=True)
def english_test_thread():
    """The test's own thread speaks no language of its own before and after each test."""
    token = i18n._current.set(None)
    yield
    i18n._current.reset(token)


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _texts(at) -> str:
    kinds = ("title", "caption", "markdown", "info", "warning", "error")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def _labels(at) -> set[str]:
    return {b.label for b in at.button}


def _chinese_page(at, title: str, buttons: set[str] = frozenset()) -> None:
    _ok(at)
    assert at.title[0].value == title
    labels = _labels(at)
    assert buttons <= labels, labels
    assert not labels & ENGLISH_BUTTONS, labels & ENGLISH_BUTTONS
    assert all(CJK.search(c.value) for c in at.caption[:1])


def test_mode_collapse_lab_in_chinese(app_test):
    at = app_test(query={"lang": "zh", "preset": "ring-collapse"}).run()
    _chinese_page(at, "模式崩溃实验室", {"开始", "暂停", "单步", "重置"})
    text = _texts(at)
    for term in ("生成器", "判别器", "模式崩溃"):
        assert term in text
    assert "在 8 个高斯分布上训练标准（非饱和）GAN" in text  # the preset's lesson
    assert "非饱和" in at.selectbox(key="mc_a_loss").options  # option labels; the value stays "non_saturating"
    assert at.number_input(key="mc_z_dim").label == "z 的维度"


def test_image_gan_in_chinese(app_test):
    at = app_test("pages/image_gan.py", query={"lang": "zh", "preset": "mnist-dcgan"}).run()
    _chinese_page(at, "图像 GAN", {"开始", "暂停", "单步", "重置"})
    assert "生成器" in _texts(at) and "判别器" in _texts(at)
    assert at.selectbox(key="ig_loss").label == "损失函数"


def test_latent_space_in_chinese(app_test):
    at = app_test("pages/latent_space.py", query={"lang": "zh"}).run()
    _ok(at)
    assert at.title[0].value == "潜在空间"
    assert at.radio(key="lat_kind").label == "生成器"
    assert not _labels(at) & ENGLISH_BUTTONS


def test_theory_in_chinese(app_test):
    at = app_test("pages/theory.py", query={"lang": "zh"}).run()
    _chinese_page(at, "理论：一维的极小极大博弈", {"开始", "冻结生成器，把判别器训练到最优"})
    assert "最优判别器" in " ".join(b.help or "" for b in at.button) + _texts(at)


def test_class_page_in_chinese(app_test):
    at = app_test("pages/class_view.py", query={"lang": "zh"}).run()
    _ok(at)
    assert at.title[0].value == "课堂"
    assert "本服务器上共" in _texts(at) and "运行" in _texts(at)


def test_english_stays_the_default_and_keeps_its_wording(app_test):
    at = app_test().run()
    _ok(at)
    assert at.title[0].value == "Mode collapse lab"
    assert {"Start", "Pause", "Step", "Reset"} <= _labels(at)


def test_the_browser_language_is_the_default(app_test, monkeypatch):
    from ganlab.ui import lang

    monkeypatch.setattr(lang, "browser_language", lambda: "zh")
    at = app_test("pages/theory.py").run()
    _ok(at)
    assert at.title[0].value.startswith("理论")
    at = app_test("pages/theory.py", query={"lang": "en"}).run()  # a link's language wins
    assert at.title[0].value.startswith("Theory")


def test_switching_language_keeps_the_run_and_the_widget_values(app_test, wait_until):
    at = app_test(query={"preset": "ring-collapse"}).run()
    at.checkbox(key="mc_compare").uncheck().run()
    at.number_input(key="mc_a_d_lr").set_value(2e-4).run()  # a live setting: reaches the run, stays after
    at.button(key="mc_start").click().run()
    _ok(at)
    job = jobs.manager().get(at.session_state["mc_job"])
    wait_until(lambda: job.snapshots() and job.snapshots()[0].step > 0, 30, what="the run to step")
    at.run()
    assert any(m.value.startswith("Run A · step ") for m in at.markdown)
    before = {k: at.session_state[k] for k in ("mc_preset", "mc_a_loss", "mc_a_d_lr", "mc_z_dim", "mc_data",
                                              "mc_compare", "mc_steps")}
    step = job.snapshots()[0].step

    at.session_state["ganlab_lang"] = "zh"  # what the sidebar's selector does (its callback also sets the link)
    at.run()
    # AppTest (not the app) calls the widgets' format_func in the test's thread to find their values among the
    # options of the last run: that thread must speak the page's language too. A browser sends back an index.
    i18n.set_language("zh")
    _ok(at)
    assert at.session_state["mc_job"] == job.id and job.status == "running"
    assert {k: at.session_state[k] for k in before} == before
    assert at.title[0].value == "模式崩溃实验室"
    assert {"重新开始", "暂停", "单步", "重置"} <= _labels(at)
    wait_until(lambda: job.snapshots()[0].step > step, 30, what="the run to go on after the switch")
    at.run()
    line = next(m.value for m in at.markdown if m.value.startswith("运行 A · 第 "))
    assert re.match(r"运行 A · 第 \d+ / \d+ 步 · 运行中", line), line
    assert job.status == "running"

    at.session_state["ganlab_lang"] = "en"  # and back
    at.run()
    i18n.set_language("en")
    assert at.title[0].value == "Mode collapse lab"
    assert any(m.value.startswith("Run A · step ") for m in at.markdown)
    assert {k: at.session_state[k] for k in before} == before
    assert job.status == "running" and at.session_state["mc_job"] == job.id


def test_a_stale_rerun_with_the_old_link_does_not_switch_the_language_back(app_test):
    """Opened from a `lang=zh` link, a student picks English: the switch deletes `lang` from the address, but a
    rerun the browser sent before it saw that (a fragment tick, a watch rerun) still carries `lang=zh`. That stale
    link must not switch the page back to Chinese (seen in real Chromium: the run line turned English, then the
    whole page Chinese again)."""
    at = app_test(query={"lang": "zh", "preset": "ring-collapse"}).run()
    assert at.title[0].value == "模式崩溃实验室"
    i18n.set_language("zh")  # AppTest reads the selectbox's options in the test's thread (see above)
    at.selectbox(key="ganlab_lang").set_value("en").run()  # the sidebar's switch, its callback included
    i18n.set_language("en")
    assert at.title[0].value == "Mode collapse lab" and "lang" not in at.query_params
    at.query_params["lang"] = "zh"  # the stale rerun's address
    at.run()
    assert at.title[0].value == "Mode collapse lab" and at.session_state["ganlab_lang"] == "en"
