"""Real browser, in 简体中文: each page opened with `lang=zh` shows Chinese titles, navigation and buttons with the
tutorials' terms; switching the language in the sidebar keeps a live run running (and back).

`streamlit run app.py` (conftest.streamlit_server) driven by Playwright's Chromium; polls with Playwright's
waits, never waits for the script to go idle (run_every)."""
import re

import pytest

pytestmark = pytest.mark.browser


def _open(page, url: str, heading: str):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')
    # A cold or busy server takes a while before app.py reaches st.navigation (until then Streamlit lists pages/)
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=90_000)
    nav = page.get_by_test_id("stSidebarNav")
    for title in ("模式崩溃实验室", "图像 GAN", "潜在空间", "理论", "课堂"):
        expect(nav.get_by_text(title, exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text(re.compile(r"^\*?\*?你的运行"))).to_be_visible(timeout=20_000)
    return expect


def _no_english_controls(page, expect):
    for name in ("Start", "Pause", "Reset"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)


def _pick_language(page, name: str) -> None:
    """The sidebar's switch. force: skip the "stable" wait (the live view and the sidebar redraw at 2 Hz); a
    redraw may also close the open list, so try again until the choice shows."""
    box = page.get_by_role("combobox", name="Language / 语言")
    for _ in range(5):
        try:
            box.click(force=True, timeout=5_000)
            page.get_by_role("option", name=name, exact=True).click(force=True, timeout=3_000)
            page.wait_for_function("(name) => Array.from(document.querySelectorAll('[role=combobox]'))"
                                   ".some(e => (e.value || e.innerText || '').includes(name))", arg=name,
                                   timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the list closed under a redraw
            page.keyboard.press("Escape")
    raise AssertionError(f"could not pick {name} in the language switch")


def _step(page, pattern: str) -> int:
    return int(re.search(r"(\d+) /", page.get_by_text(re.compile(pattern)).first.inner_text()).group(1))


@pytest.mark.timeout(200)  # ~15 s on a quiet machine
def test_lab_in_chinese_and_switching_keeps_the_run(streamlit_server, page):
    expect = _open(page, f"{streamlit_server}/?lang=zh&preset=ring-collapse&compare=0&steps=100000", "模式崩溃实验室")
    expect(page.get_by_text("判别器").first).to_be_visible()
    expect(page.get_by_text(re.compile("模式崩溃。$")).first).to_be_visible()  # the preset's lesson
    _no_english_controls(page, expect)
    start = page.get_by_role("button", name="开始", exact=True)
    expect(start).to_be_enabled(timeout=45_000)  # a busy machine draws the form slowly
    start.click()
    zh_line = r"^运行 A · 第 \d+ / \d+ 步 · 运行中"
    expect(page.get_by_text(re.compile(zh_line))).to_be_visible(timeout=25_000)
    first = _step(page, zh_line)

    _pick_language(page, "English")
    en_line = r"^Run A · step \d+ / \d+ · running"
    expect(page.get_by_text(re.compile(en_line))).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Mode collapse lab")).to_be_visible()
    expect(page.get_by_role("button", name="Restart", exact=True)).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"lang=zh"))
    page.wait_for_function(  # the same run goes on after the switch
        """(first) => {
          const el = Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
            .find(e => /^Run A · step \\d+/.test(e.innerText));
          return el && parseInt(el.innerText.match(/step (\\d+)/)[1]) > first;
        }""", arg=first, timeout=20_000)

    _pick_language(page, "简体中文")
    expect(page.get_by_text(re.compile(zh_line))).to_be_visible(timeout=20_000)
    expect(page).to_have_url(re.compile(r"lang=zh"))  # the address bar is a link in this language
    page.get_by_role("button", name="重置", exact=True).click(force=True)
    expect(page.get_by_text(re.compile(zh_line))).to_have_count(0, timeout=15_000)


@pytest.mark.timeout(150)  # a few seconds on a quiet machine
def test_image_gan_in_chinese(streamlit_server, page):
    expect = _open(page, f"{streamlit_server}/image_gan?lang=zh", "图像 GAN")
    expect(page.get_by_role("button", name="开始", exact=True)).to_be_enabled()
    expect(page.get_by_text("生成器把 100 个随机数变成一张图片", exact=False)).to_be_visible()
    expect(page.get_by_text("损失函数", exact=True).first).to_be_visible()
    _no_english_controls(page, expect)


@pytest.mark.timeout(150)  # a few seconds on a quiet machine
def test_latent_space_in_chinese(streamlit_server, page):
    expect = _open(page, f"{streamlit_server}/latent_space?lang=zh", "潜在空间")
    expect(page.get_by_text("生成器", exact=True).first).to_be_visible(timeout=20_000)  # the source picker
    expect(page.get_by_text("内置演示", exact=True).first).to_be_visible(timeout=20_000)


@pytest.mark.timeout(150)  # a few seconds on a quiet machine
def test_theory_in_chinese(streamlit_server, page):
    expect = _open(page, f"{streamlit_server}/theory?lang=zh", "理论：一维的极小极大博弈")
    expect(page.get_by_role("button", name="冻结生成器，把判别器训练到最优")).to_be_visible()
    expect(page.get_by_text("**为什么需要非饱和损失。**", exact=False)).to_have_count(0)  # Markdown rendered
    expect(page.get_by_text("为什么需要非饱和损失", exact=False)).to_be_visible()
    _no_english_controls(page, expect)


@pytest.mark.timeout(150)  # a few seconds on a quiet machine
def test_class_page_in_chinese(streamlit_server, page):
    expect = _open(page, f"{streamlit_server}/class?lang=zh", "课堂")
    expect(page.get_by_text(re.compile("本服务器上共"))).to_be_visible()
    expect(page.get_by_text("教师控制", exact=False).first).to_be_visible()
