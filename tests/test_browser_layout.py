"""Real browser: the live view is on screen right after Start, without scrolling (issue #13), on a 1366x768
laptop and a 1920x1080 projector: at least 60 % of the first live figure's area (the Mode collapse lab's first
field figure; the Image GAN's sample grid) lies inside the viewport. The Theory page draws its figure before
Start. Run with `-s` to see the measured fractions.

`streamlit run app.py` (conftest.streamlit_server: headless, no file watcher) driven by Playwright's Chromium.
"""
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (make chromium)"),
]

VIEWPORTS = ((1366, 768), (1920, 1080))  # a laptop, a projector: each test measures at both (the tab resized)
MIN_VISIBLE = 0.6
FIGURE = '[data-testid="stPlotlyChart"] .js-plotly-plot'  # the first Plotly figure on the page
GRID = '[data-testid="stImage"] img'  # the first image: the Image GAN's sample grid

# Once the first element matching the selector is drawn (an image: loaded), scroll every scrolled element back
# to the top (the page as it stands after Start, without scrolling) and measure the share of the element's area
# inside the viewport.
VISIBLE_JS = """([selector, text]) => {
  // the first match (whose text includes `text`, when given: while the live view swaps a figure, the first
  // Plotly figure in the page can briefly be another one further down)
  const el = Array.from(document.querySelectorAll(selector)).find(e => !text || e.textContent.includes(text));
  if (!el || (el.tagName === 'IMG' && !(el.complete && el.naturalWidth > 0))) return null;
  window.scrollTo(0, 0);
  for (const e of document.querySelectorAll('*')) if (e.scrollTop > 0) e.scrollTop = 0;
  const r = el.getBoundingClientRect();
  if (r.height < 50) return null;  // not laid out yet (a figure or image being swapped by the live view)
  const w = Math.max(0, Math.min(r.right, window.innerWidth) - Math.max(r.left, 0));
  const h = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
  return {fraction: (w * h) / (r.width * r.height), top: r.top, height: r.height, viewport: window.innerHeight};
}"""


@pytest.fixture
def sized_page(browser):
    """A tab of the first viewport size; `_at_every_size` resizes it to the others."""
    width, height = VIEWPORTS[0]
    ctx = browser.new_context(viewport={"width": width, "height": height})
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    yield p
    ctx.close()


def _at_every_size(page, selector: str, what: str, text: str = "") -> list[float]:
    """`_visible` at each viewport size in turn (the page lays itself out again after each resize)."""
    fractions = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        fractions.append(_visible(page, selector, what, text))
    page.set_viewport_size({"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})
    return fractions


def _visible(page, selector: str, what: str, text: str = "") -> float:
    """The share of the first element matching `selector` (and containing `text`) inside the viewport, with
    nothing scrolled."""
    page.wait_for_timeout(300)  # let the fragment's last redraw settle (layout only; the numbers are asserted)
    m = page.wait_for_function(VISIBLE_JS, arg=[selector, text], timeout=20_000).json_value()
    vp = page.viewport_size
    print(f"\n{what} at {vp['width']}x{vp['height']}: {100 * m['fraction']:.0f} % visible "
          f"(top {m['top']:.0f} px, height {m['height']:.0f} px, viewport {m['viewport']} px)")
    return m["fraction"]


def _open(page, url: str, base: str, expect) -> None:
    # The app's root first: on a fresh server, a first request straight to a page's path would run the page
    # without app.py (Streamlit's pages/-folder mode) until someone has opened "/".
    page.goto(base)
    expect(page.get_by_text("Your runs")).to_be_visible(timeout=60_000)
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')


def _reset(page, expect) -> None:
    """Stop the run. A click that lands while the live fragment swaps the button row is lost, so click again
    (at most three times) until the idle hint shows."""
    hint = page.get_by_text(re.compile(r"[Pp]ress \*?\*?Start"))
    for _ in range(3):
        page.get_by_role("button", name="Reset", exact=True).click(force=True)
        try:
            expect(hint).to_be_visible(timeout=8_000)
            return
        except AssertionError:
            continue
    expect(hint).to_be_visible(timeout=8_000)


@pytest.mark.timeout(90)
def test_mode_collapse_first_figure_on_screen_after_start(streamlit_server, sized_page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = sized_page
    _open(page, f"{streamlit_server}/?preset=ring-collapse", streamlit_server, expect)  # runs A and B
    expect(page.get_by_text("The standard (non-saturating) GAN on 8 Gaussians")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Run A · step [1-9]\d* / \d+ · running"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^Run B · step \d+ / \d+ · running"))).to_be_visible()
    field = page.get_by_test_id("stPlotlyChart").first
    expect(field).to_be_visible(timeout=20_000)
    fractions = _at_every_size(page, FIGURE, "Mode collapse lab, run A's field figure", text="mode centres")
    assert min(fractions) >= MIN_VISIBLE, fractions
    # the setup folded into its summary; a click opens it again, with the live settings (run A's loss)
    loss = page.get_by_text("Loss", exact=True).first
    expect(loss).not_to_be_visible()
    page.get_by_text(re.compile(r"^Setup: ring-collapse · Ring: 8 Gaussians")).click()
    expect(loss).to_be_visible()
    _reset(page, expect)
    expect(page.get_by_text("Setup: data, networks, optimiser")).to_be_visible()  # open again, for the next run
    expect(loss).to_be_visible()


@pytest.mark.timeout(90)
def test_image_gan_sample_grid_on_screen_after_start(streamlit_server, sized_page):
    from ganlab.presets import PRESETS

    expect = pytest.importorskip("playwright.sync_api").expect
    page = sized_page
    c = PRESETS["mnist-mlp"].config.replace(data="digits", z_dim=16, g_width=64, d_width=64, batch_size=32,
                                            steps=100_000, log_every=20)  # small and fast
    _open(page, f"{streamlit_server}/image_gan?{urlencode({'preset': 'mnist-mlp', **c.to_query()})}",
          streamlit_server, expect)
    expect(page.get_by_role("heading", name="Image GAN")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Step [1-9]\d* / 100000 · running"))).to_be_visible(timeout=45_000)
    fractions = _at_every_size(page, GRID, "Image GAN, the sample grid")
    assert min(fractions) >= MIN_VISIBLE, fractions
    _reset(page, expect)


@pytest.mark.timeout(90)
def test_theory_draws_its_figure_before_start_and_keeps_it_on_screen(streamlit_server, sized_page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = sized_page
    _open(page, f"{streamlit_server}/theory", streamlit_server, expect)
    expect(page.get_by_role("heading", name=re.compile("Theory: the minimax game"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"[Pp]ress \*?\*?Start"))).to_be_visible()
    title = page.locator(".js-plotly-plot .gtitle").first  # the game figure's title: "step N"
    expect(title).to_have_text("step 0", timeout=20_000)  # before Start: the initial state
    lines = page.locator(".js-plotly-plot").first.locator("path.js-line")
    expect(lines.nth(3)).to_be_attached()  # p_data, p_g, D and D* (V below) are drawn, not an empty frame
    expect(page.get_by_test_id("stMetric").filter(has_text="V(D*, G)")).to_be_visible()
    _at_every_size(page, FIGURE, "Theory, the game figure before Start")

    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text(re.compile(r"^step [1-9]\d* · D-only steps 0 · running"))).to_be_visible(timeout=30_000)
    fractions = _at_every_size(page, FIGURE, "Theory, the game figure after Start")
    assert min(fractions) >= MIN_VISIBLE, fractions
    _reset(page, expect)
