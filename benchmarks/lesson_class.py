"""`classroom.py --lesson ID [--lesson-step K]`: the simulated class follows a lesson the teacher paces.

Before the students come, a teacher (a websocket client of the Class page, like abuse_ws.py's) types the passcode,
picks the lesson, presses "Start lesson" and "Next step" until the class is on step K (1-based, as the pages say
"Step K of N"). Each student then has two tabs under one owner cookie, so the prediction and the run are the same
student's:
  lesson tab  the Lesson page: it must show step K under the teacher's pace; the student picks an answer (the
              radio), presses "Record my prediction", sees "Your prediction: ..." and keeps the tab open, which
              reruns as an open Lesson tab does (its poll fragment, the banner) until the student leaves;
  lab tab     classroom.Student on the step's link (`?preset=ring-collapse&compare=0` for lesson 2's step 1, the
              same link as a class without a lesson), opened once the prediction is recorded: Start, train,
              leave. Its numbers are the round's per-student numbers, the same as without a lesson.
After the students leave, a visitor of the Class page reads the class's tally there ("N of M predicted ...;
R of J runs ended there"), the class-level record of the predictions and of what the runs did.
"""
from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from benchmarks import classroom as cb
from benchmarks.abuse_ws import Scripted, _wait_for

PASSCODE_ENV = "GANLAB_TEACHER_PASSCODE"  # ganlab/ui/teacher.py
LAB_PAGES = ("", "image_gan")  # pages with a Start button and a `Run A · step N / M` line
STEP_SHOWN = re.compile(r"\*\*Step (\d+) of (\d+)\*\*")  # the Lesson page's header (ganlab/ui/lesson/header.py)
PACED = re.compile(r"your teacher moves the class")
CLASS_STEP = re.compile(r"step (\d+) of (\d+):")  # the Class page's lesson line (ganlab/ui/lesson/tally_view.py)
PREDICTED = re.compile(r"(\d+) of (\d+) predicted")
RUNS_THERE = re.compile(r"(\d+) of (\d+) runs ended there")
RECORDED = re.compile(r"^\*\*Your prediction:\*\*")
RADIO, RECORD = "Your prediction", "Record my prediction"


@dataclass(frozen=True)
class Plan:
    """Lesson `lesson`'s step `step` (1-based) and the lab link it opens."""
    lesson: str
    title: str
    step: int
    n_steps: int
    page: str  # the link's url path ("" is the Mode collapse lab)
    query: str
    options: tuple[str, ...]  # the question's answers (English)


def plan(lesson_id: str, step: int) -> Plan:
    """The plan for `--lesson lesson_id --lesson-step step`; ValueError saying what to change otherwise."""
    from ganlab import lessons

    try:
        lesson = lessons.get(lesson_id)
    except KeyError as e:
        raise ValueError(str(e).strip("'\"")) from None
    n = len(lesson.steps)
    if not 1 <= step <= n:
        raise ValueError(f"--lesson-step must be 1 to {n} for lesson {lesson_id!r}, got {step}")
    s = lesson.steps[step - 1]
    if s.link.page not in LAB_PAGES:
        ok = [k for k, x in enumerate(lesson.steps, 1) if x.link.page in LAB_PAGES]
        raise ValueError(f"step {step} of {lesson_id!r} opens the {s.link.page!r} page, where students do not train; "
                         f"steps that open a lab: {ok}")
    return Plan(lesson.id, lesson.title.en, step, n, s.link.page, urlencode(s.link.params),
                tuple(o.en for o in s.question.options))


@dataclass
class LessonTab(Scripted):
    """A student's open Lesson page: what it showed and how the prediction went."""
    choice: int = 0
    shown_step: int | None = None
    paced: bool = False
    recorded_s: float | None = None  # from opening the page until it said "Your prediction: ..."
    failure: str | None = None
    t_open: float = field(default_factory=time.monotonic)

    def _element(self, delta, now: float) -> None:
        super()._element(delta, now)
        el = delta.new_element
        if el.WhichOneof("type") == "markdown":
            if m := STEP_SHOWN.search(el.markdown.body):
                self.shown_step = int(m.group(1))
                self.paced = bool(PACED.search(el.markdown.body))

    def lesson_report(self) -> dict[str, Any]:
        r = self.report()
        return {"student": self.idx, "shown_step": self.shown_step, "paced": self.paced, "choice": self.choice,
                "recorded": self.recorded_s is not None, "recorded_s": self.recorded_s, "failure": self.failure,
                "page_load_s": r["page_load_s"], "reruns_sent": r["reruns_sent"], "fragment_runs": r["fragment_runs"],
                "errors": r["errors"]}


async def _rerun_and_wait(tab: Scripted, click: str | None, timeout: float) -> float:
    tab._full_done.clear()
    t0 = await tab.act(click)
    await asyncio.wait_for(tab._full_done.wait(), timeout)
    return t0


async def predict(tab: LessonTab, task: asyncio.Task, timeout: float) -> None:
    """Pick the tab's `choice` and record it, as a student clicks: the radio (a rerun that enables the button),
    then the button. Failures are noted on the tab, not raised."""
    try:
        await _wait_for(lambda: tab.ready.is_set() or task.done(), timeout)
        if not tab.ready.is_set():
            raise RuntimeError(f"the Lesson page did not load within {timeout:.0f} s")
        if RADIO not in tab.by_label:
            raise RuntimeError("the Lesson page shows no prediction to make")
        tab.set_value(RADIO, tab.by_label[RADIO][1].options[tab.choice])
        await _rerun_and_wait(tab, None, timeout)
        t0 = await _rerun_and_wait(tab, RECORD, timeout)
        if tab.said_since(t0, RECORDED, ("markdown",)) is None:
            raise RuntimeError("no 'Your prediction: ...' after 'Record my prediction': "
                               + "; ".join(tab.errors_since(t0) or [t[2][:80] for t in tab.texts[-2:]]))
        tab.recorded_s = round(time.monotonic() - tab.t_open, 3)
    except Exception as e:  # the student's failure, in the report
        tab.failure = f"{type(e).__name__}: {str(e)[:200]}"
    finally:
        tab.forced.clear()  # the radio is gone once the prediction is recorded: the browser drops its state


class LessonClass:
    """The lesson side of a classroom round: the teacher's pace before it, the students' lesson tabs in it, the
    Class page's tally after it."""

    def __init__(self, plan_: Plan, passcode: str, seed: int = 0):
        self.plan, self.passcode = plan_, passcode
        self.tabs: list[LessonTab] = []
        self.seed = seed

    @property
    def env(self) -> dict[str, str]:
        return {PASSCODE_ENV: self.passcode}

    def cookie(self) -> str:
        return secrets.token_hex(12)  # an owner id (ganlab/ui/identity.py): 24 hex digits

    async def pace(self, port: int, timeout: float = 60.0) -> dict[str, Any]:
        """The teacher starts the lesson and moves the class to step K; seconds it took and what the Class page
        said. Raises when the class is not on step K at the end (a lesson round without the lesson measures
        nothing)."""
        p = self.plan
        t = Scripted(-80, port, "", 10**6, timeout, cookie=self.cookie(), page_name="class")
        t.leave, t.ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(t.run(0.0, press_start=False))
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(t.ready.wait(), timeout)
            t.set_value("Teacher passcode", self.passcode)
            await _rerun_and_wait(t, "Unlock", timeout)
            if "Start lesson" not in t.by_label:
                raise RuntimeError(f"the teacher's lesson controls did not open: {[x[2][:80] for x in t.texts[-3:]]}")
            t.set_value("Lesson", p.title)
            at = await _rerun_and_wait(t, "Start lesson", timeout)
            for _ in range(p.step - 1):
                at = await _rerun_and_wait(t, "Next step", timeout)
            line = t.said_since(at, CLASS_STEP, ("markdown",))
            m = CLASS_STEP.search(line or "")
            if not m or int(m.group(1)) != p.step:
                raise RuntimeError(f"the Class page does not show step {p.step} of the lesson: {line!r}; "
                                   f"{t.errors_since(t0)}")
            return {"lesson": p.lesson, "step": p.step, "n_steps": p.n_steps,
                    "paced_s": round(time.monotonic() - t0, 2), "class_page_said": line[:200]}
        finally:
            t.leave.set()
            await asyncio.wait([task], timeout=15)

    async def attend(self, student: cb.Student, delay: float) -> None:
        """One student: arrive after `delay`, open the Lesson page and record a prediction, then open the step's
        link in the lab tab (student.run) while the Lesson tab stays open; both leave together."""
        await asyncio.sleep(delay)
        tab = LessonTab(student.idx, student.port, "", 10**6, student.load_timeout, cookie=student.cookie,
                        page_name="lesson",
                        choice=random.Random(self.seed * 10_000 + student.idx).randrange(len(self.plan.options)))
        tab.leave, tab.ready = asyncio.Event(), asyncio.Event()
        self.tabs.append(tab)
        task = asyncio.create_task(tab.run(0.0, press_start=False))
        try:
            await predict(tab, task, student.load_timeout)
            await student.run(0.0)
        finally:
            tab.leave.set()
            await asyncio.wait([task], timeout=15)

    async def tally(self, port: int, timeout: float = 60.0) -> dict[str, Any]:
        """What the Class page says of the step now: predictions recorded, runs judged."""
        v = Scripted(-81, port, "", 10**6, timeout, cookie=self.cookie(), page_name="class")
        v.leave, v.ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(v.run(0.0, press_start=False))
        out: dict[str, Any] = {}
        try:
            await asyncio.wait_for(v.ready.wait(), timeout)
            said = v.said_since(0.0, PREDICTED, ("markdown",))
            out["class_page_said"] = (said or "").replace("\n", " ")[:300] or None
            if said and (m := PREDICTED.search(said)):
                out["predicted_right"], out["predictions"] = int(m.group(1)), int(m.group(2))
            if said and (m := RUNS_THERE.search(said)):
                out["runs_there"], out["runs_judged"] = int(m.group(1)), int(m.group(2))
            out["errors"] = v.errors_since(0.0)
        except Exception as e:
            out["failure"] = f"{type(e).__name__}: {str(e)[:200]}"
        finally:
            v.leave.set()
            await asyncio.wait([task], timeout=15)
        return out

    def summary(self) -> dict[str, Any]:
        """The round's lesson tabs, summed (their reruns are not in the round's latencies); the next round starts
        with none. The Class page's tally is the class's: with --rounds, it counts every round's predictions."""
        reports = [t.lesson_report() for t in self.tabs]
        lat = [v for t in self.tabs for _, v in t.latencies]
        self.tabs = []
        errors = [e for r in reports for e in r["errors"]] + [f"prediction: {r['failure']}" for r in reports
                                                              if r["failure"]]
        counts = [0] * len(self.plan.options)
        for r in reports:
            if r["recorded"]:
                counts[r["choice"]] += 1
        return {"lesson": self.plan.lesson, "step": self.plan.step, "link": self.plan.query, "tabs": len(reports),
                "recorded": sum(1 for r in reports if r["recorded"]), "chosen": dict(zip(self.plan.options, counts)),
                "on_step": sum(1 for r in reports if r["shown_step"] == self.plan.step and r["paced"]),
                "recorded_s": cb.spread([r["recorded_s"] for r in reports if r["recorded_s"] is not None], 2),
                "latency_s": cb.spread(lat), "errors_total": len(errors),
                "errors_distinct": sorted({e[:160] for e in errors})[:10],
                "fragment_runs": cb._add_counts(r["fragment_runs"] for r in reports), "per_tab": reports}


def round_line(lesson: dict[str, Any]) -> str:
    t = lesson.get("class_tally", {})
    lat = lesson["latency_s"]
    return (f"  lesson {lesson['lesson']} step {lesson['step']}: {lesson['recorded']}/{lesson['tabs']} predictions "
            f"recorded, {lesson['on_step']} tabs on the teacher's step; lesson tabs' rerun latency p50/p95 "
            f"{lat['p50']}/{lat['p95']} s, errors {lesson['errors_total']}; Class page: "
            f"{t.get('class_page_said') or t.get('failure')}")
