"""Real browser (Playwright + /usr/bin/chromium) against `streamlit run app.py` (conftest.streamlit_server):
pick ring-collapse, Start, see the step counter and the field plot advance, Reset; widget values survive a
visit to another page. Polls with Playwright's waits, never waits for the script to go idle (run_every)."""
import re

import pytest

pytestmark = pytest.mark.browser

# The generated points of the field figure ("generated" trace), read from the plot's public `data` (the spec
# the page sent: a binary typed-array spec {dtype, bdata}, or a plain array).
FAKE_POINTS_JS = """() => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const t = gd && gd.data && gd.data.find(d => d.name === 'generated');
  if (!t || !t.x) return null;
  if (t.x.bdata !== undefined) return t.x.bdata.slice(0, 96);
  return Array.from(t.x.slice(0, 8)).map(v => v.toFixed(4)).join(',');
}"""


def _step(page) -> int:
    text = page.get_by_text(re.compile(r"^Run A · step \d+")).first.inner_text()
    return int(re.search(r"step (\d+)", text).group(1))


def test_start_advances_the_step_counter_and_the_plot(streamlit_server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(f"{streamlit_server}/?preset=ring-collapse&compare=0")  # a share link picks the preset, run A only
    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.get_by_text("The standard (non-saturating) GAN on 8 Gaussians")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^Run B starts as"))).to_have_count(0)
    start = page.get_by_role("button", name="Start", exact=True)
    expect(start).to_be_enabled()
    start.click()

    expect(page.get_by_text(re.compile(r"^Run A · step [1-9]\d* / \d+ · running"))).to_be_visible(timeout=25_000)
    page.wait_for_function(f"({FAKE_POINTS_JS})() !== null")
    first, points = _step(page), page.evaluate(FAKE_POINTS_JS)
    page.wait_for_function(  # the fragment redraws on its own: a later step and moved generated points
        """([first, points]) => {
          const el = Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
            .find(e => /^Run A · step \\d+/.test(e.innerText));
          const step = el ? parseInt(el.innerText.match(/step (\\d+)/)[1]) : 0;
          return step > first && (""" + FAKE_POINTS_JS + """)() !== points;
        }""", arg=[first, points], timeout=20_000)
    assert _step(page) > first
    expect(page.get_by_test_id("stMetric").filter(has_text="modes captured")).to_contain_text(" / 8")

    # force: skip the "stable" wait (the live view below redraws at 2 Hz); the text check proves the click
    page.get_by_role("button", name="Reset", exact=True).click(force=True)
    expect(page.get_by_text(re.compile(r"and press Start"))).to_be_visible(timeout=15_000)
    expect(page.get_by_text(re.compile(r"^Run A · step"))).to_have_count(0)


def test_widget_values_survive_a_visit_to_another_page(streamlit_server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(streamlit_server)
    expect(page.get_by_role("heading", name="Mode collapse lab")).to_be_visible(timeout=30_000)
    z = page.get_by_role("spinbutton", name="z dimension")
    z.fill("7")
    z.press("Enter")
    expect(page).to_have_url(re.compile(r"z_dim=7"))  # the share link follows the widgets
    page.get_by_test_id("stSidebarNav").get_by_text("Theory").click()
    expect(page).to_have_url(re.compile(r"/theory"))
    page.get_by_test_id("stSidebarNav").get_by_text("Mode collapse lab").click()
    expect(page.get_by_role("spinbutton", name="z dimension")).to_have_value("7", timeout=15_000)
