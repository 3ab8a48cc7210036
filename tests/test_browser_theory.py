"""Real browser: on the Theory page, "Freeze G, train D to optimum" (which starts a paused run), then Step, and
see the figure follow: D-only steps counted, the figure's title goes from step 0 to step 25, the curves move.

`streamlit run app.py` (conftest.streamlit_server: headless, no file watcher) driven by Playwright's Chromium.
"""
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (make chromium)"),
]


@pytest.mark.timeout(180)
def test_step_updates_the_game_figure(streamlit_server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(streamlit_server)
    page.wait_for_selector('[data-testid="stApp"]')
    # Through app.py's st.navigation. Until app.py's first run reaches st.navigation, Streamlit shows its
    # automatic pages/ list (lower-case "theory"), whose link would run the page without app.py's set-up.
    expect(page.get_by_text("Your runs")).to_be_visible(timeout=60_000)
    page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(r"Theory$")).click()
    expect(page.get_by_role("heading", name=re.compile("Theory: the minimax game"))).to_be_visible(timeout=30_000)
    # "Freeze G, train D to optimum" with no run yet: starts one paused at step 0 and trains D alone
    steps = page.get_by_role("spinbutton", name="D steps for 'train D to optimum'")
    steps.fill("300")
    steps.press("Enter")
    expect(steps).to_have_value("300")
    page.get_by_role("button", name="Freeze G, train D to optimum").click()
    expect(page.get_by_text("D-only steps 300")).to_be_visible(timeout=60_000)
    title = page.locator(".js-plotly-plot .gtitle").first  # the game figure's title: "step N"
    expect(title).to_have_text("step 0")  # G was frozen
    err = page.get_by_test_id("stMetric").filter(has_text="max |D − D*|").get_by_test_id("stMetricValue")
    assert float(err.text_content()) < 0.1  # D went to D* (0.51 at the start; 0.041 measured for seed 0)

    # Step: one logging interval of G and D, and the figure follows
    step_button = page.get_by_role("button", name="Step", exact=True)
    expect(step_button).to_be_enabled(timeout=20_000)
    lines = page.locator(".js-plotly-plot").first.locator("path.js-line")
    before = [lines.nth(i).get_attribute("d") for i in range(lines.count())]
    step_button.click()
    expect(title).to_have_text("step 25", timeout=30_000)
    expect(page.get_by_text(re.compile(r"^step 25 · D-only steps 300"))).to_be_visible()
    after = [lines.nth(i).get_attribute("d") for i in range(lines.count())]
    assert len(after) == len(before) >= 4 and after != before  # the drawn curves moved with training
