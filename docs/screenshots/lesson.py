"""Screenshots for the README's "Running a lesson", at 1366x768: the teacher's lesson controls and the class's tally
on the Class page, the census below them, and a student's Lesson page after their prediction.

    python docs/screenshots/lesson.py [--port 8501]   # starts `streamlit run app.py`, writes lesson-*.png here

A real short class: the teacher unlocks the Class page and starts lesson 2 (`mode-collapse`); three students
(Ada, Bo, Cy: one browser context each) open the Lesson page, record a prediction and start the step's run
from its link; once the Class page counts their predictions and runs, the shots are taken. Needs Playwright
and Chromium at /usr/bin/chromium (as the browser tests); English only.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PASSCODE = "screenshot-teacher"
SIZE = {"width": 1366, "height": 768}
PICKS = (("Ada", "0 to 2"), ("Bo", "0 to 2"), ("Cy", "4 to 6"))


def person(browser):
    ctx = browser.new_context(viewport=SIZE)
    tab = ctx.new_page()
    tab.set_default_timeout(60_000)
    return ctx, tab


def teacher_starts_lesson_2(browser, url: str):
    from benchmarks.teacher_tab import unlock

    ctx, tab = person(browser)
    unlock(tab, url, PASSCODE, first_load_ms=120_000)
    tab.get_by_role("combobox", name="Lesson").click()
    tab.keyboard.type("Mode collapse")
    tab.keyboard.press("Enter")
    tab.get_by_role("button", name="Start lesson").click()
    expect(tab.get_by_text(re.compile(r"step 1 of 7: Mode collapse on the ring"))).to_be_visible()
    return ctx, tab


def student_predicts_and_runs(browser, url: str, name: str, pick: str):
    ctx, tab = person(browser)
    tab.goto(url + "/lesson")
    expect(tab.get_by_role("heading", name=re.compile(r"^1\. "))).to_be_visible(timeout=60_000)
    box = tab.get_by_test_id("stSidebar").get_by_role("textbox", name="Nickname")
    box.fill(name)
    box.press("Enter")
    expect(box).to_have_value(name)
    tab.get_by_role("radiogroup").get_by_text(pick, exact=True).click()
    tab.get_by_role("button", name="Record my prediction").click()
    link = tab.get_by_role("link", name="Open the page with this setup")
    expect(link).to_be_visible()
    lab = ctx.new_page()  # the link opens the lab in a second tab; the lesson stays open
    lab.goto(url + "/" + link.get_attribute("href").split("/")[-1])
    start = lab.get_by_role("button", name="Start", exact=True)
    expect(start).to_be_enabled()
    start.click()
    return ctx, tab


def to_top(tab, locator, above: int) -> None:
    """Scroll the page so that `locator` sits `above` pixels below the top of the window."""
    locator.evaluate("(el, above) => { el.scrollIntoView({block: 'start'}); let p = el.parentElement;"
                     " while (p && p.scrollHeight <= p.clientHeight) p = p.parentElement;"
                     " (p || document.scrollingElement).scrollBy(0, -above); }", above)


def shoot(tab, stem: str) -> Path:
    tab.mouse.move(SIZE["width"] - 5, SIZE["height"] - 5)  # no tooltip of the last button clicked
    tab.wait_for_timeout(500)
    out = OUT / f"{stem}.png"
    tab.screenshot(path=str(out))
    print(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=None, help="the server's port (default: a free one)")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.classroom import Server

    expect.set_options(timeout=60_000)  # a loaded 2-core server may take a while for each page

    store = tempfile.mkdtemp(prefix="ganlab-screenshots-")  # the run store: this class only, removed after
    env = {"GANLAB_TEACHER_PASSCODE": PASSCODE, "GANLAB_DATA_DIR": store}
    with Server(a.port, env=env, start_timeout=120) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            _, teacher = teacher_starts_lesson_2(browser, server.url)
            students = [student_predicts_and_runs(browser, server.url, n, p) for n, p in PICKS]
            expect(teacher.get_by_text("2 of 3 predicted “0 to 2”")).to_be_visible()
            expect(teacher.get_by_text(re.compile(r"of 3 runs ended there"))).to_be_visible()
            # the teacher's row of lesson controls at the top of the screen, the tally below the class's runs
            to_top(teacher, teacher.get_by_role("button", name="Start lesson"), 110)
            teacher.wait_for_timeout(500)
            shoot(teacher, "lesson-class-en")
            census = teacher.get_by_role("heading", name=re.compile(r"^Census"))
            to_top(teacher, census, 20)
            teacher.wait_for_timeout(3000)  # the census chart draws once it is on screen
            shoot(teacher, "lesson-census-en")
            ada = students[0][1]
            ada.bring_to_front()
            ada.wait_for_timeout(500)
            shoot(ada, "lesson-student-en")
        finally:
            browser.close()
    shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
