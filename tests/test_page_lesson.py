"""AppTest of the Lesson page and the teacher's pacing on the Class page: a student alone moves through a lesson
(Previous / Next), predicts before the link and the reveal appear (the prediction recorded in the class); the
teacher starts lesson 2 and moves the class, a student's page (also one opened late) shows the teacher's step;
the Class page counts the predictions against the runs; a student sees no pacing control; and a page whose run
is paused notes it, so the banner's tick reruns it once the run trains again (ganlab/ui/watch.py).

Runs are fake runners (no torch) whose history logs modes_captured, like the lab's.
"""
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import FakeRunner

from ganlab import jobs, lessons
from ganlab.jobs import classroom
from ganlab.ui import teacher

PASSCODE = "open sesame"
LESSON = "mode-collapse"


class ModesRunner(FakeRunner):
    """A lab run whose history says how many of the 8 ring modes it captured."""

    def __init__(self, modes: int, budget: int = 100_000):
        super().__init__(budget)
        self.modes = modes

    def step(self, n):
        return super().step(min(n, 5))

    def snapshot(self):
        return SimpleNamespace(step=self.step_count, config=SimpleNamespace(steps=self.budget), diverged_at=None,
                               status="ready", seconds=1.0, fake=np.zeros((4, 2), np.float32), centers=np.zeros((8, 2)),
                               extent=(-3.0, 3.0, -3.0, 3.0), history={"modes_captured": np.array([8, self.modes])},
                               grid_jpeg=None)


@pytest.fixture(autouse=True)
def fresh_class(monkeypatch):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    classroom._CLASSROOM = None
    teacher.forget_tries()
    yield
    classroom._CLASSROOM = None


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def _lesson_page(app_test, owner: str | None = None):
    at = app_test()
    if owner:
        at.session_state["_ganlab_owner"] = owner
    _ok(at.run())
    at.switch_page("pages/lesson.py")
    return _ok(at.run())


def _owner(at) -> str:
    from ganlab.ui.session import OWNER_KEY

    return at.session_state[OWNER_KEY]


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _step_heading(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("#### "))


def test_a_student_alone_predicts_before_the_link_and_the_reveal_and_moves_on(app_test):
    at = _lesson_page(app_test)
    first = lessons.all_lessons()[0]
    assert _step_heading(at) == f"#### 1. {first.steps[0].title.en}"
    assert any("no class lesson is running" in c.value for c in at.caption)
    assert not at.get("link_button") and not at.get("popover")  # no link, no reveal before the prediction
    assert _button(at, "Record my prediction").disabled  # nothing chosen yet

    at.radio[0].set_value(1).run()
    _button(at, "Record my prediction").click().run()
    _ok(at)
    assert classroom.classroom().pacing.answer_of(_owner(at), first.id, first.steps[0].id) == 1
    option = first.steps[0].question.options[1].en
    assert not at.radio and f"**Your prediction:** {option}" in [m.value for m in at.markdown]  # it stands
    (link,) = at.get("link_button")
    assert link.proto.url == "./" + first.steps[0].link.url()
    assert at.get("popover")[0].proto.popover.label == "Reveal: what happened"

    _button(at, "Next").click().run()
    assert _step_heading(_ok(at)) == f"#### 2. {first.steps[1].title.en}"
    assert not at.get("link_button")  # a new question: predict again first
    _button(at, "Previous").click().run()
    assert _step_heading(_ok(at)).startswith("#### 1.") and f"**Your prediction:** {option}" in [
        m.value for m in at.markdown]


def test_the_lesson_page_in_chinese(app_test):
    at = _ok(app_test("pages/lesson.py", query={"lang": "zh"}).run())
    first = lessons.all_lessons()[0]
    assert _step_heading(at) == f"#### 1. {first.steps[0].title.zh}"
    assert any(b.label == "记录我的预测" for b in at.button)


def _teacher(app_test):
    at = app_test("pages/class_view.py")
    _ok(at.run())
    at.text_input(key="class_passcode").input(PASSCODE)
    _button(at, "Unlock").click().run()
    return _ok(at)


def test_the_teacher_paces_lesson_2_and_the_class_page_counts_predictions_against_runs(app_test, wait_until):
    lesson = lessons.get(LESSON)
    ada = _lesson_page(app_test)
    t = _teacher(app_test)
    t.selectbox(key="class_lesson_pick").set_value(LESSON).run()
    _button(t, "Start lesson").click().run()
    _ok(t)
    _ok(ada.run())  # what the page's poll does when the lesson's version moved
    assert _step_heading(ada) == f"#### 1. {lesson.steps[0].title.en}"
    assert any("your teacher moves the class" in m.value for m in ada.markdown)
    assert not any(b.label in ("Next", "Previous") for b in ada.button)  # the teacher moves the class

    # Ada predicts "0 to 2" (the right answer); her run and a classmate's run train on the lab
    ada.radio[0].set_value(2).run()
    _button(ada, "Record my prediction").click().run()
    classroom.classroom().set_nickname(_owner(ada), "Ada")
    runs = [jobs.manager().submit(o, lambda m=m: [ModesRunner(m)], "ring", page="mode_collapse")
            for o, m in ((_owner(ada), 1), ("bob", 8))]
    wait_until(lambda: all(j.snapshots() and j.snapshots()[0] is not None for j in runs), 10, what="snapshots")
    _ok(t.run())
    said = " ".join(m.value for m in t.markdown)
    assert "1 of 1 predicted “0 to 2”; 1 of 2 runs ended there" in said
    table = t.table[-1].value  # the lesson's tally (the runs' table comes first)
    assert table.loc["✓ 0 to 2", "Predicted"] == 1 and table.loc["✓ 0 to 2", "Who predicted it"] == "Ada"
    assert table.loc["All 8", "Runs"] == "1"

    # the teacher moves on: Ada's page follows; a student who opens the page now lands on the same step
    _button(t, "Next step").click().run()
    _ok(ada.run())
    assert _step_heading(ada) == f"#### 2. {lesson.steps[1].title.en}"
    late = _lesson_page(app_test, owner="late-student")
    assert _step_heading(late) == f"#### 2. {lesson.steps[1].title.en}"
    assert classroom.classroom().pacing.current().first_job == max(j.id for j in runs)  # step 2 judges newer runs
    lab = _ok(app_test().run())  # any other page: the banner's one line names the teacher's step
    said = " ".join(a.value for a in lab.info)
    assert f"**Lesson:** {lesson.title.en} · step 2 of {len(lesson.steps)}: {lesson.steps[1].title.en}" in said
    csv = next(b for b in t.get("download_button")).proto  # the teacher's export: one row per prediction
    assert csv.label == "Predictions (CSV)"

    _button(t, "End lesson").click().run()
    _ok(ada.run())
    assert any("no class lesson is running" in c.value for c in ada.caption)


def test_a_student_sees_no_pacing_control_on_the_class_page(app_test):
    at = app_test("pages/class_view.py")
    _ok(at.run())
    assert not {"Start lesson", "Next step", "Previous step", "End lesson"} & {b.label for b in at.button}


def test_a_paused_run_is_noted_so_the_banner_tick_reruns_the_page_when_it_trains_again(app_test, wait_until):
    """The refresh bug: a page whose run was paused had no timer left, so "Resume all runs" never reached it."""
    at = app_test()
    _ok(at.run())
    job = jobs.manager().submit(_owner(at), lambda: [ModesRunner(1)], "ring", page="mode_collapse")
    wait_until(lambda: job.snapshots() and job.snapshots()[0] is not None, 10, what="a snapshot")
    job.pause()
    wait_until(lambda: job.status == jobs.Status.PAUSED, 10, what="paused")
    _ok(at.run())
    drawn, _probe = at.session_state["_ganlab_watch"]["run:mc_job"]
    assert drawn is False  # the page drew a run that is not live: nothing of its own refreshes it
    assert at.session_state["_ganlab_watch"]["sidebar"][0] is False
