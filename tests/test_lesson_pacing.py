"""The class's lesson without a page: outcomes in lesson files (validated by the loader), the teacher's pace,
students' predictions (only one of the step's options, the first answer stands), the tally of predictions
against runs, and the watch that brings an open page up to date (ganlab/ui/watch.py)."""
import copy
import math
import tomllib
from types import SimpleNamespace

import numpy as np
import pytest

from ganlab import lessons
from ganlab.lessons import LESSONS_DIR, LessonError
from ganlab.lessons.loader import parse
from ganlab.lessons.pacing import MAX_ANSWERS, AnswerRefused, Pacing, run_value, tally
from ganlab.ui import watch

LESSON2 = LESSONS_DIR / "02-mode-collapse.toml"


def _raw() -> dict:
    with LESSON2.open("rb") as f:
        return tomllib.load(f)


def _fails(data: dict, *words: str) -> None:
    with pytest.raises(LessonError) as e:
        parse(data, "lesson.toml")
    assert all(w in str(e.value) for w in words), str(e.value)


def test_lesson_2_judges_its_run_questions_by_modes_captured():
    lesson = lessons.get("mode-collapse")
    judged = {s.id: s.outcome for s in lesson.steps if s.outcome is not None}
    assert set(judged) == {"collapse", "unrolled", "r1", "grid", "wgan-gp"}
    for step in lesson.steps:
        if step.outcome is not None:
            assert step.outcome.metric == "modes_captured" and step.link.page == ""
            assert step.outcome.ranges[step.question.correct] is not None  # the right answer can be observed
    collapse = judged["collapse"]
    assert collapse.run == 0 and collapse.judge(1) == 2 and collapse.judge(8) == 0 and collapse.judge(3) is None


def test_the_loader_refuses_outcomes_it_cannot_judge():
    data = _raw()
    step = data["step"][0]  # "collapse": the lab, run A, three ranged options
    bad = copy.deepcopy(data)
    del bad["step"][0]["outcome"]
    _fails(bad, "step 1 'collapse'", "question.option 1.range", "needs [step.outcome]")
    bad = copy.deepcopy(data)
    bad["step"][0]["outcome"]["metric"] = "fid"
    _fails(bad, "outcome.metric", "'fid' is not logged there")
    bad = copy.deepcopy(data)
    bad["step"][0]["outcome"]["run"] = "C"
    _fails(bad, "outcome.run")
    bad = copy.deepcopy(data)
    bad["step"][0]["question"]["option"][1]["range"] = [6, 4]
    _fails(bad, "question.option 2.range", "low <= high")
    bad = copy.deepcopy(data)
    bad["step"][0]["question"]["option"][1]["range"] = [True, 4]
    _fails(bad, "question.option 2.range")
    bad = copy.deepcopy(data)
    for o in bad["step"][0]["question"]["option"]:
        o.pop("range")
    _fails(bad, "no option has a range")
    bad = copy.deepcopy(data)
    bad["step"][-1]["outcome"] = dict(step["outcome"])  # the census step opens the Class page: nothing trains
    _fails(bad, "step 7 'census'", "trains no run")


def test_predictions_take_only_one_of_the_steps_options_and_the_first_answer_stands():
    lesson = lessons.get("mode-collapse")
    p = Pacing()
    for option in (True, -1, 3, "2", 2.0, None):
        with pytest.raises(AnswerRefused, match="Choose one of the 3 answers"):
            p.answer("ada", lesson, "collapse", option)
    with pytest.raises(AnswerRefused, match="not in this lesson"):
        p.answer("ada", lesson, "no-such-step", 0)
    with pytest.raises(AnswerRefused, match="no student id"):
        p.answer("", lesson, "collapse", 0)
    assert p.answer("ada", lesson, "collapse", 2) == 2
    assert p.answer("ada", lesson, "collapse", 0) == 2  # changed mind after the reveal: the prediction stands
    assert p.answer("bob", lesson, "collapse", 0) == 0
    assert p.answers("mode-collapse", "collapse") == {"ada": 2, "bob": 0}
    assert p.answer_of("ada", "mode-collapse", "unrolled") is None


def test_a_flood_of_forged_students_stops_at_the_cap():
    lesson = lessons.get("mode-collapse")
    p = Pacing()
    for i in range(MAX_ANSWERS):
        p.answer(f"s{i}", lesson, "collapse", 0)
    with pytest.raises(AnswerRefused):
        p.answer("one-more", lesson, "collapse", 0)


def test_the_teachers_pace_moves_its_version_and_ignores_a_stale_lessons_click():
    two, one = lessons.get("mode-collapse"), lessons.all_lessons()[0]
    p = Pacing()
    assert p.current() is None and p.version == 0
    pace = p.start(two, first_job=7)
    assert (pace.lesson, pace.step, pace.first_job) == ("mode-collapse", 0, 7) and p.version == 1
    assert p.goto(two, 1, first_job=9).step == 1 and p.version == 2
    assert p.goto(two, 1, first_job=12).first_job == 9 and p.version == 2  # the same step: nothing moves
    assert p.goto(two, 99, first_job=12).step == len(two.steps) - 1  # clamped
    assert p.goto(one, 0, first_job=12) is None  # not the lesson running
    p.stop()
    assert p.current() is None and p.version == 4


def _snaps(*histories):
    return [SimpleNamespace(history=h) for h in histories]


def test_the_tally_counts_predictions_and_judges_runs_by_the_steps_outcome():
    lesson = lessons.get("mode-collapse")
    unrolled = lesson.step("unrolled")  # run B's modes: [0, 2] / [3, 5] / [8, 8]
    runs = [_snaps({"modes_captured": np.array([1.0])}, {"modes_captured": np.array([2.0, 8.0])}),  # B: 8
            _snaps({}, {"modes_captured": np.array([8.0, 7.0, math.nan])}),  # B's last finite: 7, in no range
            _snaps({"modes_captured": np.array([1.0])}),  # no run B: not judged
            _snaps({"modes_captured": np.array([1.0])}, {"modes_captured": np.array([1.0])})]  # B collapsed
    t = tally(unrolled, {"ada": 2, "bob": 2, "cy": 0}, runs)
    assert t.predicted == (1, 0, 2) and t.answered == 3
    assert t.runs == (1, 0, 1) and t.judged == 3 and t.elsewhere == 1
    assert run_value(runs[1], unrolled.outcome) == 7.0
    census = lesson.step("census")  # no outcome: predictions only
    assert tally(census, {"ada": 1}, runs).runs == (0, 0, 0)


def test_watch_reruns_once_per_change(monkeypatch):
    fake = SimpleNamespace(session_state={}, rerun=lambda: reruns.append(1))
    reruns = []
    monkeypatch.setattr(watch, "st", fake)
    status = {"live": False}
    watch.reset()
    watch.note("run", False, lambda: status["live"])
    watch.tick()
    assert reruns == []  # nothing changed: the tick costs one probe
    status["live"] = True  # the teacher's "Resume all runs"
    watch.tick()
    assert reruns == [1]
    watch.tick()
    assert reruns == [1]  # one change, one rerun (even if the rerun did not note it again)


def test_lesson_tabs_poll_less_often_in_a_full_class():
    """30 Lesson tabs polling at 1.5 s beside 30 labs cost a class of 30 a quarter of its steps (README, "A class
    following a lesson"): past 20 open tabs the poll slows in proportion, to at most 4.5 s."""
    from ganlab.jobs.job_manager import JobManager
    from ganlab.ui.class_view.banner import lesson_poll_s

    assert lesson_poll_s(1) == lesson_poll_s(20) == 1.5  # a small class follows the teacher within ~1.5 s
    assert lesson_poll_s(40) == 3.0 and lesson_poll_s(60) == lesson_poll_s(500) == 4.5
    m = JobManager(workers=1)
    try:
        m.touch("ada", session="lab")
        m.touch("ada", session="lesson")
        m.touch("bo", session="lab")
        assert m.open_tabs() == 3
        m.release_owner("ada", grace_s=60, session="lab")  # one of Ada's tabs closed
        assert m.open_tabs() == 2
    finally:
        m.shutdown(5)


def test_a_busy_server_never_slows_the_lesson_poll_past_its_maximum(monkeypatch):
    """The load's scaling (ganlab/ui/live.py, up to 4x) on top of the class size's once made Lesson tabs poll
    every 12-17 s in a full class: the teacher's step took that long to arrive."""
    from ganlab.ui import live
    from ganlab.ui.class_view import banner

    monkeypatch.setattr(live, "load_factor", lambda: 8.0)  # a very busy server
    seen = []
    real_fragment = banner.st.fragment
    monkeypatch.setattr(banner.st, "fragment", lambda run_every=None: seen.append(run_every) or real_fragment(
        run_every=run_every))
    banner.banner("lesson")  # outside a script run (bare mode): only the interval it asks for matters here
    assert seen and seen[-1] <= banner.LESSON_POLL_MAX_S, seen
