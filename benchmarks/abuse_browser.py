"""The browser half of `classroom.py --abuse heavy|heavy2` (benchmarks/abuse.py): Playwright Chromium tabs for
the heavy student (whose cookie makes the Latent space page list its run) and for the teacher (the Class page's
passcode form and "Stop one run" selectbox).

What counts as an answer, read from the page's text as a student sees it:
  admitted        the sidebar's "Your runs" lists a job ("#12 A: ... · running ...")
  refused         an alert shows and no job is listed
  Latent answers  the caption "weights from step N" under the run picker, or an error / exception on the page
  stopped         the heavy job's sidebar line says "stopped" (or its run line does)
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable

try:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the abuse modes without a browser still import this module's names
    PlaywrightTimeout = TimeoutError

CHROMIUM = "/usr/bin/chromium"
RUN_LINE = re.compile(r"(?m)^Run A · step (\d+) / (\d+) · (\w+)")
SIDEBAR_JOB = re.compile(r"(?m)^#(\d+) (.*)$")
POLL_S = 0.1
STATUS_WORDS = ("queued", "starting", "running", "paused", "done", "stopped", "diverged", "error")
POLL_MS = 100  # the in-page checks below run this often in the browser
# Latent space answered: the run's weights caption, else any new alert or exception (its text)
LATENT_JS = r"""(before) => {
  const m = document.body.innerText.match(/weights from step \d+[^\n]*/);
  if (m) return m[0];
  const said = [...document.querySelectorAll('[data-testid="stAlert"], [data-testid="stException"]')]
    .map(e => e.innerText.trim()).filter(x => x && !before.includes(x));
  return said.length ? 'error: ' + said[0] : false;
}"""
# the Class page's answer to the teacher's "Stop this run" (ganlab/ui/class_view/teacher_panel.py)
TEACHER_SAID_JS = r"""() => {
  const said = [...document.querySelectorAll('[data-testid="stAlert"]')].map(e => e.innerText.trim())
    .filter(x => /Stopped run #|no longer training|Only the teacher/.test(x));
  return said.length ? said[0] : false;
}"""
# the heavy run shown ended (stopped, or another end): its run line (the live fragment) or its sidebar entry (a
# full rerun); returns the status word
ENDED_JS = r"""(job) => {
  const t = document.body.innerText;
  const m = t.match(/^Run A · step \d+ \/ \d+ · (stopped|error|done|diverged)/m)
    || t.match(new RegExp('^#' + job + ' .*· (stopped|error|done|diverged)', 'm'));
  return m ? m[1] : false;
}"""


@dataclass
class Heavy:
    """One heavy student: its tab, and what the page said after Start."""
    query: str
    ctx: Any = None
    page: Any = None
    admitted: bool = False
    job: int | None = None
    job_line: str = ""
    message: str | None = None
    admit_s: float | None = None
    steps: int = 0
    status: str | None = None  # as its run line says (the live fragment: fresh)
    sidebar_status: str | None = None  # as its sidebar entry says (drawn by full reruns only)
    alerts: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {"query": self.query, "admitted": self.admitted, "message": self.message, "job": self.job,
                "admit_s": self.admit_s, "steps": self.steps, "status": self.status or self.sidebar_status,
                "run_line_status": self.status, "sidebar_status": self.sidebar_status, "job_line": self.job_line,
                "alerts": self.alerts[:5]}


async def _text(locator) -> str:
    try:
        return await locator.inner_text(timeout=2_000)
    except Exception:  # detached while Streamlit redraws, or not there yet
        return ""


async def _alerts(page) -> list[str]:
    out = []
    for kind in ("stAlert", "stException"):
        loc = page.get_by_test_id(kind)
        for i in range(await loc.count()):
            t = (await _text(loc.nth(i))).strip()
            if t:
                out.append(t)
    return out


def _job_lines(sidebar: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in SIDEBAR_JOB.finditer(sidebar)}


async def _teacher_message(page, t0: float, timeout: float) -> tuple[str | None, float | None]:
    """What the Class page told the teacher after "Stop this run" (shown once, by the live fragment), and when."""
    try:
        got = await page.wait_for_function(TEACHER_SAID_JS, polling=POLL_MS, timeout=timeout * 1000)
        return (await got.json_value())[:300], round(time.monotonic() - t0, 2)
    except Exception:  # nothing said within the timeout, or the page closed
        return None, None


class Browsers:
    """One Chromium, a context (cookie jar) per person: start(), then close() when done."""

    def __init__(self):
        self._pw = self.browser = None
        self._ctxs: list[Any] = []

    async def start(self) -> None:
        from playwright.async_api import async_playwright

        exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        if exe is None:
            raise SystemExit(f"--abuse heavy needs Chromium at {CHROMIUM}")
        self._pw = await async_playwright().start()
        self.browser = await self._pw.chromium.launch(executable_path=exe,
                                                      args=["--no-sandbox", "--disable-dev-shm-usage"])

    async def close(self) -> None:
        for ctx in self._ctxs:
            try:
                await ctx.close()
            except Exception:
                pass
        if self.browser is not None:
            await self.browser.close()
        if self._pw is not None:
            await self._pw.stop()
        self.browser = self._pw = None

    async def _tab(self):
        ctx = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self._ctxs.append(ctx)
        page = await ctx.new_page()
        page.set_default_timeout(30_000)
        return ctx, page

    async def heavy_student(self, url: str, query: str, load_timeout: float, admit_timeout: float) -> Heavy:
        """Open the link, press Start, wait until the sidebar lists the job (admitted) or an alert shows with no
        job (refused)."""
        h = Heavy(query)
        h.ctx, h.page = await self._tab()
        page = h.page
        await page.goto(f"{url}/?{query}")
        start = page.get_by_role("button", name="Start", exact=True)
        try:
            await start.wait_for(state="visible", timeout=load_timeout * 1000)
        except PlaywrightTimeout:
            h.alerts = await _alerts(page)
            h.message = f"no Start button within {load_timeout:.0f} s of opening the link: {h.alerts[:1]}"
            return h
        before = set(await _alerts(page))  # e.g. "ignored unknown link parameter(s)": not an answer to Start
        if await start.is_disabled():  # a page that refuses the setup before Start: what it says instead
            h.alerts = sorted(before)
            h.message = "the Start button is disabled" + (f": {h.alerts[0]}" if h.alerts else "")
            return h
        await start.click()
        t0 = time.monotonic()
        while time.monotonic() - t0 < admit_timeout:
            jobs = _job_lines(await _text(page.get_by_test_id("stSidebar")))
            alerts = [a for a in await _alerts(page) if a not in before]
            if jobs:
                h.admitted, h.job = True, max(jobs)
                h.job_line = jobs[h.job]
                break
            if alerts:
                h.message = alerts[0]
                break
            await page.wait_for_timeout(POLL_S * 1000)
        h.admit_s = round(time.monotonic() - t0, 2)
        h.alerts = [a for a in await _alerts(page) if a not in before]
        if not h.admitted and h.message is None:
            h.message = f"neither a run nor a message within {admit_timeout:.0f} s of Start"
        return h

    async def freeze(self, h: Heavy, frozen: bool) -> None:
        """Freeze (or wake) the heavy student's tab: Chromium stops its scripts and timers, so it asks the server
        for nothing and draws nothing, while its websocket (the student's session, and so the run) stays open."""
        if h.page is None:
            return
        cdp = await h.ctx.new_cdp_session(h.page)
        try:
            await cdp.send("Page.setWebLifecycleState", {"state": "frozen" if frozen else "active"})
        finally:
            await cdp.detach()

    async def refresh_status(self, h: Heavy) -> None:
        """The heavy run's step and status as its page shows them now."""
        body = await _text(h.page.locator("body"))
        m = RUN_LINE.search(body)
        if m:
            h.steps, h.status = int(m.group(1)), m.group(3)
        line = _job_lines(await _text(h.page.get_by_test_id("stSidebar"))).get(h.job or -1)
        if line is not None:
            h.job_line = line
            h.sidebar_status = next((w for w in STATUS_WORDS if f" · {w}" in line), None)

    async def latent_probe(self, h: Heavy, url: str, timeout: float, pids: Callable[[], list[int]]
                           ) -> dict[str, Any]:
        """The heavy student opens Latent space in a second tab and picks "My runs": seconds from that click
        until the page shows the run's weights (or an error); the training process's pids before and after."""
        out: dict[str, Any] = {"pids_before": pids()}
        page = await h.ctx.new_page()
        try:
            await page.goto(f"{url}/latent_space")
            await page.get_by_role("heading", name="Latent space").wait_for(timeout=30_000)
            before = set(await _alerts(page))
            mine = page.get_by_text("My runs", exact=True)
            t0 = time.monotonic()
            await mine.click()
            out["answer"], out["answer_s"] = f"nothing within {timeout:.0f} s", None
            try:
                got = await page.wait_for_function(LATENT_JS, arg=sorted(before), polling=POLL_MS,
                                                   timeout=timeout * 1000)
                out["answer_s"] = round(time.monotonic() - t0, 2)
                out["answer"] = (await got.json_value())[:300]
            except PlaywrightTimeout:
                pass
        except Exception as e:  # a page that never drew: the probe's own failure, reported as such
            out["answer"] = f"probe failed: {type(e).__name__}: {str(e)[:200]}"
        finally:
            await page.close()
        out["pids_after"] = pids()
        await self.refresh_status(h)
        out["run_after"] = {"run_line": h.status, "sidebar": h.sidebar_status}
        return out

    async def teacher_stop(self, url: str, passcode: str, h: Heavy, timeout: float) -> dict[str, Any]:
        """The teacher unlocks the Class page, picks the heavy run in "Stop one run" and clicks "Stop this run":
        seconds from that click until the heavy student's page shows the run stopped."""
        await self.refresh_status(h)
        out: dict[str, Any] = {"job": h.job, "stopped_s": None, "before": {"run_line": h.status,
                                                                            "sidebar": h.sidebar_status}}
        _, page = await self._tab()
        try:
            await page.goto(f"{url}/class")
            await page.get_by_text("Teacher controls").click()
            await page.get_by_label("Teacher passcode").fill(passcode)
            await page.get_by_role("button", name="Unlock").click()
            stop = page.get_by_role("button", name="Stop this run")
            await stop.wait_for(timeout=30_000)
            pick = page.get_by_test_id("stSelectbox").filter(has_text="Stop one run")
            await pick.click()
            await page.keyboard.type(f"#{h.job} ·")  # the list is virtualised: a long class hides later options
            await page.get_by_role("option", name=re.compile(rf"^#{h.job} ·")).click()
            await page.wait_for_timeout(300)  # the pick reaches the server before the click
            t0 = time.monotonic()
            await stop.click()
            said = asyncio.create_task(_teacher_message(page, t0, timeout))
            try:
                got = await h.page.wait_for_function(ENDED_JS, arg=h.job, polling=POLL_MS, timeout=timeout * 1000)
                out["ended_s"], out["ended_as"] = round(time.monotonic() - t0, 2), await got.json_value()
                if out["ended_as"] == "stopped":
                    out["stopped_s"] = out["ended_s"]
                else:
                    out["note"] = f"the run ended as {out['ended_as']!r}, not stopped"
            except PlaywrightTimeout:
                out["note"] = f"not shown stopped within {timeout:.0f} s of the click"
            out["message"], out["message_s"] = await said
        except Exception as e:
            out["note"] = f"probe failed: {type(e).__name__}: {str(e)[:200]}"
        await self.refresh_status(h)
        out["after"] = {"run_line": h.status, "sidebar": h.sidebar_status}
        return out
