"""The teacher unlocking the Class page's controls in a real browser tab (Playwright's sync API): shared by the
browser tests and the README's lesson screenshots (docs/screenshots/lesson.py)."""
from __future__ import annotations


def unlock(tab, url: str, passcode: str, first_load_ms: int = 60_000) -> None:
    """Open `url`/class in `tab`, type the passcode, and wait until the teacher's controls are drawn."""
    from playwright.sync_api import expect

    tab.goto(url + "/class")
    expect(tab.get_by_text("Teacher controls")).to_be_visible(timeout=first_load_ms)  # a fresh server imports torch
    if tab.get_by_text("Page not found").is_visible():  # Streamlit's notice on a fresh server's first /class
        tab.keyboard.press("Escape")
    tab.get_by_text("Teacher controls").click()
    tab.get_by_label("Teacher passcode").fill(passcode)
    tab.get_by_role("button", name="Unlock").click()
    expect(tab.get_by_role("button", name="Pause all runs")).to_be_visible()
