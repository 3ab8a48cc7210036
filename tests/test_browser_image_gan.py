"""Real browser: open the Image GAN page from a share link of a small, fast setup (the tutorials' MLP GAN on
the 8x8 digits), press Start, and see the sample grid appear and the step counter advance; Reset stops the run.

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

STEP = re.compile(r"^Step (\d+) / (\d+) · ")


def _link() -> str:
    from ganlab.presets import PRESETS

    c = PRESETS["mnist-mlp"].config.replace(data="digits", z_dim=16, g_width=64, d_width=64, batch_size=32,
                                            steps=100_000, log_every=20)
    return urlencode({"preset": "mnist-mlp", **c.to_query()})


def _step(page) -> int:
    return int(STEP.match(page.get_by_text(STEP).first.inner_text()).group(1))


@pytest.mark.timeout(120)
def test_start_shows_the_grid_and_the_step_advances(streamlit_server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    # The app's root first: on a fresh server, a first request straight to /image_gan would run the page
    # without app.py (Streamlit's pages/-folder mode) until someone has opened "/".
    page.goto(streamlit_server)
    expect(page.get_by_role("link", name="Image GAN")).to_be_visible(timeout=60_000)
    page.goto(f"{streamlit_server}/image_gan?{_link()}")
    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.get_by_role("heading", name="Image GAN")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()

    expect(page.get_by_text(re.compile(r"^Step [1-9]\d* / 100000 · running"))).to_be_visible(timeout=45_000)
    grid = page.locator('[data-testid="stImage"] img').first
    expect(grid).to_be_visible()
    # a decoded JPEG, not a broken link (the fragment may swap the element while it loads: poll)
    page.wait_for_function(
        """() => { const i = document.querySelector('[data-testid="stImage"] img');
                   return i && i.complete && i.naturalWidth > 0; }""", timeout=20_000)
    expect(page.get_by_text(re.compile(r"^generated at step \d+: fixed noise"))).to_be_visible()
    expect(page.get_by_text("real images from the training data")).to_be_visible()

    first, src = _step(page), grid.get_attribute("src")
    page.wait_for_function(  # the live fragment redraws: a later step and a new grid image
        """([first, src]) => {
            const t = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] p')]
                .map(p => p.innerText).find(s => /^Step \\d+ \\/ /.test(s));
            const img = document.querySelector('[data-testid="stImage"] img');
            return t && parseInt(t.split(' ')[1]) > first && img && img.getAttribute('src') !== src;
        }""", arg=[first, src], timeout=30_000)
    assert _step(page) > first

    page.get_by_role("button", name="Reset", exact=True).click()  # stops the run
    expect(page.get_by_text(re.compile(r"press \*?\*?Start"))).to_be_visible(timeout=20_000)
