"""The heavy student and the teacher of `classroom.py --abuse heavy|heavy2` as websocket clients (the default;
`--probe browser` uses the Chromium tabs of benchmarks/abuse_browser.py instead).

A real class's browsers run on the students' and the teacher's own computers; Chromium on the server's two cores
took the classmates more than half their steps and delayed every page it drew, so its timings measured the
browser as much as the server. These clients speak Streamlit's websocket protocol like the classmates
(classroom.py's Student) and carry what a browser would:
  heavy student  an owner cookie (`ganlab_owner`, a fresh id), so its run is its own and the Latent space page,
                 opened with the same cookie, lists it under "My runs";
  teacher        a session of the Class page: types the passcode into the form and submits it, picks the heavy
                 run in "Stop one run" (the option's label, as the browser sends a selectbox's value) and clicks
                 "Stop this run".
What counts as an answer is the page's text as a student sees it (the same rules as the browser probe):
  Latent answers  a caption "weights from step N", or an error / exception
  stopped         the heavy run's line or its sidebar entry says "stopped" (its page refreshes at the live
                  view's interval, 0.5-0.8 s, which the figure includes, as a student's would)
  teacher told    the Class page's "Stopped run #N" message
"""
from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from benchmarks import classroom as cb
from benchmarks.abuse import ABUSER_ADDR, STATUS_WORDS, AbuseStudent

WEIGHTS = re.compile(r"weights from step \d+.*")
STOPPED_SAID = re.compile(r"Stopped run #\d+|no longer training|Only the teacher")
POLL_S = 0.05


@dataclass
class Scripted(AbuseStudent):
    """A student whose script is driven from outside (`act`), who remembers every widget by its label (form
    widgets too) and every text the page showed."""

    texts: list[tuple[float, str, str]] = field(default_factory=list)  # (time, kind, text): markdown, alerts
    by_label: dict[str, tuple[str, Any]] = field(default_factory=dict)  # label -> (kind, widget proto)
    forced: dict[str, Any] = field(default_factory=dict)  # widget id -> WidgetState this student keeps sending
    ready: asyncio.Event | None = None

    def _element(self, delta, now: float) -> None:
        super()._element(delta, now)
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind is None:
            return
        w = getattr(el, kind)
        if kind == "markdown":
            self.texts.append((now, kind, w.body))
        elif kind == "alert":
            self.texts.append((now, "alert", w.body))
        elif kind == "exception":
            self.texts.append((now, "error", f"{w.type}: {w.message}"))
        if hasattr(w, "label") and hasattr(w, "id") and w.id:
            self.by_label[w.label] = (kind, w)

    def _client_state(self, fragment_id: str = "", auto: bool = False):
        cs = super()._client_state(fragment_id, auto)
        held = {s.id: s for s in cs.widget_states.widgets}
        held.update(self.forced)
        del cs.widget_states.widgets[:]
        cs.widget_states.widgets.extend(held.values())
        return cs

    def said_since(self, t0: float, pattern: re.Pattern, kinds: tuple[str, ...] = ("markdown", "alert")
                   ) -> str | None:
        return next((text for t, k, text in self.texts if t >= t0 and k in kinds and pattern.search(text)), None)

    def errors_since(self, t0: float) -> list[str]:
        return [text for t, k, text in self.texts if t >= t0 and k == "error"]

    def set_value(self, label: str, value: str) -> None:
        """Hold `value` for the widget labelled `label` from now on: the text of a text input, or the shown
        label of a selectbox's or radio's option (what the browser sends for them)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        kind, w = self.by_label[label]
        if kind == "selectbox" or kind == "radio":
            value = next((o for o in w.options if o == value or o.startswith(value)), None)
            if value is None:
                raise KeyError(f"{label!r} has no option like that: {list(w.options)[:5]}")
        self.forced[w.id] = WidgetState(id=w.id, string_value=value)

    async def act(self, click: str | None = None) -> float:
        """A full rerun with the held values, pressing the button labelled `click` (None: just rerun); returns
        the time it was sent."""
        trigger = self.by_label[click][1].id if click is not None else None
        t0 = time.monotonic()
        await self._rerun(trigger=trigger)
        return t0

    async def _session(self, receiver: asyncio.Task, press_start: bool) -> None:
        if press_start:  # the heavy student: open the link and press Start like a classmate
            await cb.Student._session(self, receiver, press_start)
            return
        await self._rerun()  # open the page and stay until told to leave
        await self._until(self._full_done, receiver, self.load_timeout)
        self.ready.set()
        await self._until(None, receiver, self.seconds)


async def _wait_for(cond: Callable[[], Any], timeout: float) -> tuple[Any, float | None]:
    """(cond()'s first truthy value, seconds until then) or (None, None) after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = cond()
        if got:
            return got, round(time.monotonic() - t0, 3)
        await asyncio.sleep(POLL_S)
    return None, None


@dataclass
class WsHeavy:
    """One heavy student over the websocket, with the Browser probe's Heavy report."""
    query: str
    student: Scripted
    task: asyncio.Task
    admitted: bool = False
    job: int | None = None
    job_line: str | None = None
    message: str | None = None
    admit_s: float | None = None

    @property
    def status(self) -> str | None:
        return self.student.status.get("A")

    @property
    def steps(self) -> int:
        return self.student.last_step()

    def sidebar_status(self) -> str | None:
        line = self.student.jobs.get(self.job or -1)
        return next((w for w in STATUS_WORDS if f" · {w}" in f" · {line}"), None) if line else None

    def report(self) -> dict[str, Any]:
        return {"query": self.query, "admitted": self.admitted, "job": self.job, "job_line": self.job_line,
                "message": self.message, "admit_s": self.admit_s, "steps": self.steps, "status": self.status,
                "sidebar_status": self.sidebar_status(), "probe": "websocket"}


class WsPeople:
    """The websocket stand-in for abuse_browser.Browsers: the same calls, no browser on the server's cores."""

    def __init__(self, port: int):
        self.port = port
        self._open: list[tuple[Scripted, asyncio.Task]] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for s, task in self._open:
            s.leave.set()
        for s, task in self._open:
            try:
                await asyncio.wait_for(task, 15)
            except asyncio.TimeoutError:
                task.cancel()
        self._open = []

    def _stay(self, s: Scripted, press_start: bool = False) -> asyncio.Task:
        s.leave, s.ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(s.run(0.0, press_start=press_start))
        self._open.append((s, task))
        return task

    async def heavy_student(self, url: str, query: str, load_timeout: float, admit_timeout: float) -> WsHeavy:
        """Open the link with a fresh owner cookie and press Start; admitted once the sidebar lists the job,
        refused once an error shows with no job."""
        s = Scripted(-1 - len(self._open), self.port, query, 10**6, load_timeout, source=ABUSER_ADDR,
                     cookie=secrets.token_hex(12))
        h = WsHeavy(query, s, self._stay(s, press_start=True))
        got, _ = await _wait_for(lambda: s.t_start is not None or s.errors or h.task.done(), load_timeout)
        if s.t_start is None:
            h.message = (s.errors or [f"no Start button within {load_timeout:.0f} s of opening the link"])[0]
            return h
        t0 = s.t_start
        got, waited = await _wait_for(lambda: s.jobs or (s.errors and not s.jobs) or h.task.done(), admit_timeout)
        h.admit_s = round(time.monotonic() - t0, 2)
        if s.jobs:
            h.admitted, h.job = True, max(s.jobs)
            h.job_line = s.jobs[h.job]
        else:
            h.message = (s.errors or [f"neither a run nor a message within {admit_timeout:.0f} s of Start"])[0]
        return h

    async def freeze(self, h: WsHeavy, frozen: bool) -> None:
        """Nothing to freeze: a websocket student draws nothing on the server's cores (its page's refreshes
        still reach the server, as a real student's would)."""

    async def refresh_status(self, h: WsHeavy) -> None:
        if h.job in h.student.jobs:
            h.job_line = h.student.jobs[h.job]

    async def latent_probe(self, h: WsHeavy, url: str, timeout: float, pids: Callable[[], list[int]]
                           ) -> dict[str, Any]:
        """The heavy student opens Latent space (same cookie) and picks "My runs": seconds from that pick until
        the page shows the run's weights, or an error; the training process's pids before and after."""
        out: dict[str, Any] = {"pids_before": pids(), "probe": "websocket"}
        s = Scripted(-90, self.port, "", 10**6, 60.0, source=ABUSER_ADDR, cookie=h.student.cookie,
                     page_name="latent_space")
        task = self._stay(s)
        try:
            await asyncio.wait_for(s.ready.wait(), 60)
            s.set_value("Generator", "My runs")
            t0 = await s.act()
            got, waited = await _wait_for(
                lambda: s.said_since(t0, WEIGHTS) or next(iter(s.errors_since(t0)), None)
                or s.said_since(t0, re.compile(r"no runs yet|could not|refused"), ("alert",)), timeout)
            out["answer"] = (got or f"nothing within {timeout:.0f} s")[:300]
            out["answer_s"] = waited
        except Exception as e:  # the probe's own failure, reported as such
            out["answer"], out["answer_s"] = f"probe failed: {type(e).__name__}: {str(e)[:200]}", None
        finally:
            s.leave.set()
            await asyncio.wait([task], timeout=15)
        out["pids_after"] = pids()
        out["run_after"] = {"run_line": h.status, "sidebar": h.sidebar_status()}
        return out

    async def teacher_stop(self, url: str, passcode: str, h: WsHeavy, timeout: float) -> dict[str, Any]:
        """The teacher unlocks the Class page, picks the heavy run in "Stop one run" and clicks "Stop this run":
        seconds from the click until the heavy student's page shows the run stopped, and until the teacher is
        told."""
        out: dict[str, Any] = {"job": h.job, "stopped_s": None, "probe": "websocket",
                               "before": {"run_line": h.status, "sidebar": h.sidebar_status(), "steps": h.steps}}
        t = Scripted(-91, self.port, "", 10**6, 60.0, cookie=secrets.token_hex(12), page_name="class")
        task = self._stay(t)
        try:
            await asyncio.wait_for(t.ready.wait(), 60)
            t.set_value("Teacher passcode", passcode)
            t._full_done.clear()
            await t.act("Unlock")
            got, _ = await _wait_for(lambda: "Stop this run" in t.by_label, 30)
            if not got:
                raise RuntimeError(f"the teacher controls did not open: {[x[2][:80] for x in t.texts[-3:]]}")
            await _wait_for(lambda: any(o.startswith(f"#{h.job} ·") for o in t.by_label["Stop one run"][1].options),
                            10)
            t.set_value("Stop one run", f"#{h.job} ·")
            steps_at_click = h.steps
            t0 = await t.act("Stop this run")
            said = asyncio.create_task(_wait_for(lambda: t.said_since(t0, STOPPED_SAID, ("alert",)), timeout))

            def ended() -> str | None:
                status = h.student.status.get("A")
                if h.student.steps.get("A") and h.student.steps["A"][-1][0] >= t0 and status in (
                        "stopped", "error", "done", "diverged"):
                    return status
                line = h.student.jobs.get(h.job, "")
                return next((w for w in ("stopped", "error", "done", "diverged") if f" · {w}" in line), None)

            got, waited = await _wait_for(ended, timeout)
            if got is None:
                out["note"] = f"not shown stopped within {timeout:.0f} s of the click"
            else:
                out["ended_as"], out["ended_s"] = got, waited
                if got == "stopped":
                    out["stopped_s"] = waited
                else:
                    out["note"] = f"the run ended as {got!r}, not stopped"
            out["message"], out["message_s"] = await said
            await asyncio.sleep(2)  # the counter must not move after it showed stopped
            out["steps_at_click"], out["steps_2s_after"] = steps_at_click, h.steps
        except Exception as e:
            out["note"] = f"probe failed: {type(e).__name__}: {str(e)[:200]}"
        finally:
            t.leave.set()
            await asyncio.wait([task], timeout=15)
        out["after"] = {"run_line": h.status, "sidebar": h.sidebar_status()}
        return out
