"""benchmarks/classroom.py --lesson (benchmarks/lesson_class.py): the step's plan and its refusals (pure), and two
students following lesson 2 against a real `streamlit run app.py`: the teacher's pace reached the Class page, each
student's Lesson tab showed the step and recorded a prediction, the Class page's tally counts them, and the
students trained from the step's link."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from benchmarks import classroom as cb
from benchmarks import lesson_class as lc


def test_plan_of_lesson_2_step_1_is_a_normal_class_link():
    p = lc.plan("mode-collapse", 1)
    assert (p.lesson, p.step, p.page) == ("mode-collapse", 1, "")
    assert p.query == cb.DEFAULT_QUERY  # the comparison with a class without a lesson trains the same runs
    assert len(p.options) == 3 and p.n_steps >= 5


@pytest.mark.parametrize("lesson, step, says", [
    ("mode-collapse", 0, "1 to"), ("mode-collapse", 99, "1 to"), ("no-such-lesson", 1, "mode-collapse"),
    ("mode-collapse", 7, "steps that open a lab: [1, 2, 3, 4, 5, 6]"),  # step 7 opens the Class page
])
def test_plan_refuses_what_cannot_be_measured(lesson, step, says):
    with pytest.raises(ValueError) as e:
        lc.plan(lesson, step)
    assert says in str(e.value)


def test_lesson_and_another_link_are_refused_together(capsys):
    with pytest.raises(SystemExit):
        cb.main(["--lesson", "mode-collapse", "--ab"])
    assert "--lesson opens the step's own link" in capsys.readouterr().err


def test_two_students_follow_lesson_2(tmp_path):
    lesson = lc.LessonClass(lc.plan("mode-collapse", 1), "bench-test-passcode")
    logs: list[str] = []
    out: dict = {}

    async def go():
        return await cb.classroom(students=2, seconds=5, arrive_s=1, query=lesson.plan.query, warm_up=False,
                                  drain_s=1, lesson=lesson, log=logs.append)

    t0 = time.monotonic()
    # asyncio.run on a thread of its own (see tests/test_classroom_bench.py: Playwright's sync API)
    t = threading.Thread(target=lambda: out.update(r=asyncio.run(go())))
    t.start()
    t.join(120)
    if "r" not in out:
        pytest.fail(f"the lesson round did not finish: {logs[-5:]}")
    r = out["r"]
    assert r["lesson_paced"]["step"] == 1 and "step 1 of" in r["lesson_paced"]["class_page_said"]
    (rnd,) = r["per_round"]
    les = rnd["lesson"]
    assert les["errors_total"] == 0, les["errors_distinct"]
    assert les["tabs"] == les["recorded"] == les["on_step"] == 2  # every tab showed the teacher's step, recorded
    assert les["class_tally"]["predictions"] == 2, les["class_tally"]  # ... and the class holds both predictions
    for tab in les["per_tab"]:  # an open Lesson tab polls with one fragment (the banner's tick), nothing else:
        assert len(tab["fragment_runs"]) == 1, tab["fragment_runs"]  # 30 of them sit beside 30 labs in a class
    assert rnd["errors_total"] == 0 and rnd["students_started"] == 2, rnd["errors_distinct"]
    for student in rnd["per_student"]:
        assert student["runs"]["A"]["steps"] > 0, student  # trained from the step's link
    assert r["server_log_tracebacks"] == 0
    print(f"lesson round: {time.monotonic() - t0:.1f} s")
