"""AppTest of the Class page (pages/class_view.py) and of what the class shares across pages: rows for the jobs in
the manager, the gallery, no controls without the passcode, the teacher's controls after unlocking, stop-one for
the teacher only, links that try to command a run, the announcement as a banner on another page, and a page
that finds the student's run again after a reload (jobs tagged with their page).

Runs here are fake runners (no torch): the rows and the gallery only read snapshots and job.progress().
"""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import FakeRunner
from streamlit.testing.v1 import AppTest

from ganlab import jobs
from ganlab.jobs import classroom
from ganlab.ui import identity, teacher
from ganlab.ui.class_view import teacher_panel

PAGE = "pages/class_view.py"
PASSCODE = "open sesame"
CENTERS = np.array([[2 * np.cos(a), 2 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)],
                   np.float32)


class ToyRunner(FakeRunner):
    """A fake runner with a toy snapshot (points near one mode: a collapsed ring) every chunk."""

    def __init__(self, budget=100_000, steps=5, modes=1):
        super().__init__(budget)
        self.steps, self.modes = steps, modes

    def step(self, n):
        return super().step(min(n, self.steps))

    def snapshot(self):
        fake = CENTERS[0] + 0.05 * np.random.default_rng(self.step_count).standard_normal((50, 2)).astype(np.float32)
        return SimpleNamespace(step=self.step_count, config=SimpleNamespace(steps=self.budget), diverged_at=None,
                               status="ready", seconds=0.5 + self.step_count / 100, fake=fake, centers=CENTERS,
                               extent=(-3.0, 3.0, -3.0, 3.0), history={"modes_captured": np.array([self.modes])},
                               grid_jpeg=None)


@pytest.fixture(autouse=True)
def fresh_class(monkeypatch):
    """A new classroom (nicknames, announcement) and no remembered passcode tries for each test; no passcode."""
    monkeypatch.delenv(teacher.ENV, raising=False)
    classroom._CLASSROOM = None
    teacher.forget_tries()
    yield
    classroom._CLASSROOM = None


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _two_students(wait_until):
    """Ada's toy run on the lab (collapsed: 1 of 8 modes) and an anonymous student's A/B pair (8 of 8)."""
    classroom.classroom().set_nickname("ada", "Ada")
    ada = jobs.manager().submit("ada", lambda: [ToyRunner(modes=1)], "ring", page="mode_collapse",
                                meta={"preset": "ring-collapse"})
    bob = jobs.manager().submit("bob", lambda: [ToyRunner(modes=8), ToyRunner(modes=8)], "pair",
                                page="mode_collapse", meta={"preset": "ring-fixed"})
    wait_until(lambda: all(j.snapshots() and j.snapshots()[0].step > 0 for j in (ada, bob)), 10, what="steps")
    return ada, bob


def _rows(at) -> list[dict]:
    return at.table[0].value.to_dict("records")


def _unlock(at, typed=PASSCODE):
    at.text_input(key="class_passcode").input(typed)
    next(b for b in at.button if b.label == "Unlock").click().run()
    _ok(at)
    return at


def _buttons(at) -> set[str]:
    return {b.label for b in at.button}


def test_rows_for_every_run_and_the_gallery_without_any_control(app_test, wait_until):
    ada, bob = _two_students(wait_until)
    at = app_test(PAGE).run()
    _ok(at)
    assert at.title[0].value == "Class"
    rows = _rows(at)
    assert [(r["Student"], r["Run"], r["Preset"]) for r in rows] == [
        ("Ada", f"#{ada.id}", "ring-collapse"), ("student 1", f"#{bob.id} A", "ring-fixed"),
        ("student 1", f"#{bob.id} B", "ring-fixed")]
    assert {r["Page"] for r in rows} == {"Mode collapse lab"} and {r["Status"] for r in rows} == {"running"}
    assert rows[0]["Lesson"] == "modes 1 / 8" and rows[1]["Lesson"] == "modes 8 / 8"
    assert rows[0]["Step"].endswith(" / 100000")
    first = int(rows[0]["Step"].split(" / ")[0])
    wait_until(lambda: ada.progress()[0][0] > first + 20, 10, what="Ada's run to advance")
    at.run()  # what the fragment's 2 s tick does in a browser
    assert int(_rows(at)[0]["Step"].split(" / ")[0]) > first  # steps are live (job.progress)

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = {a["text"]: a["font"]["color"] for a in spec["layout"]["annotations"]}  # one panel per toy run
    assert list(titles) == ["Ada · modes 1 / 8", "student 1 A · modes 8 / 8", "student 1 B · modes 8 / 8"]
    assert titles["Ada · modes 1 / 8"] == "#c0392b" != titles["student 1 A · modes 8 / 8"]  # collapsed: red

    # no passcode set: no control of any kind, and the page says how to set one
    assert not at.button and not at.selectbox and not at.text_input
    assert any("GANLAB_TEACHER_PASSCODE" in i.value for i in at.info)


def test_a_passcode_shows_only_the_passcode_box_until_it_is_right(app_test, wait_until, monkeypatch):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    ada, _ = _two_students(wait_until)
    at = app_test(PAGE).run()
    _ok(at)
    assert _buttons(at) == {"Unlock"} and not at.selectbox  # a student sees the passcode box only
    _unlock(at, "guess")
    assert any("not right" in e.value for e in at.error)
    assert _buttons(at) == {"Unlock"} and at.session_state["class_passcode"] == ""  # the typed text is not kept
    _unlock(at)
    assert {"Pause all runs", "Resume all runs", "Yes, stop every run", "Leave teacher mode", "Post",
            "Stop this run"} <= _buttons(at)
    assert at.session_state["class_passcode"] == ""

    at.button(key="class_pause_all").click().run()
    wait_until(lambda: all(j.status == "paused" for j in jobs.manager().all_jobs()), 10, what="all paused")
    at.button(key="class_resume_all").click().run()
    wait_until(lambda: all(j.status == "running" for j in jobs.manager().all_jobs()), 10, what="all running")

    at.button(key="class_lock").click().run()
    assert _buttons(at) == {"Unlock"}


def test_too_many_wrong_passcodes_lock_the_student_out_even_after_a_reload(app_test, monkeypatch):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    at = app_test(PAGE).run()
    for _ in range(teacher.MAX_TRIES):
        _unlock(at, "wrong")
    owner = at.session_state["ganlab_owner"]
    again = app_test(PAGE)
    again.session_state["ganlab_owner"] = owner  # a reload: a new session of the same student
    again.run()
    _unlock(again)  # even the right passcode waits now
    assert any("Too many wrong passcodes" in e.value for e in again.error)
    assert _buttons(again) == {"Unlock"}


def test_the_teacher_stops_one_run_and_a_student_cannot(app_test, wait_until, monkeypatch):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    ada, bob = _two_students(wait_until)
    student = app_test(PAGE).run()
    assert not any(b.label == "Stop this run" for b in student.button)
    assert not any(s.key == "class_stop_pick" for s in student.selectbox)

    # a student's session that calls the teacher's stop command anyway (what a forged widget event would reach)
    def forged():
        import streamlit as st

        from ganlab.ui.class_view import teacher_panel
        teacher_panel.stop_run(st.session_state["target"])
        teacher_panel._show_message()

    at = AppTest.from_function(forged, default_timeout=30)
    at.session_state["target"] = ada.id
    at.run()
    assert [e.value for e in at.error] == [teacher_panel.NOT_TEACHER]
    assert ada.status == "running"

    t = _unlock(app_test(PAGE).run())
    t.selectbox(key="class_stop_pick").set_value(ada.id)
    t.button(key="class_stop_one").click().run()
    _ok(t)
    assert any(f"Stopped run #{ada.id} of Ada" in s.value for s in t.success)
    wait_until(lambda: ada.status == "stopped", 10, what="Ada's run to stop")
    assert bob.status == "running"


@pytest.mark.parametrize("query", [{"stop": "ID"}, {"job": "ID", "action": "stop"}, {"passcode": PASSCODE}])
def test_a_link_never_commands_a_run(app_test, wait_until, monkeypatch, query):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    ada, _ = _two_students(wait_until)
    query = {k: (str(ada.id) if v == "ID" else v) for k, v in query.items()}
    at = app_test(PAGE, query=query).run()
    _ok(at)
    assert any("takes no commands from its address" in e.value for e in at.error)
    assert _buttons(at) == {"Unlock"}  # a passcode in the link unlocks nothing
    assert not at.query_params  # dropped from the address bar
    lab = app_test(query={"stop": str(ada.id)}).run()  # the lab reads links as a setup only
    _ok(lab)
    assert any("ignored unknown link parameter(s): stop" in w.value for w in lab.warning)
    assert ada.status == "running" and not ada._cmds.qsize()


def test_the_announcement_shows_as_a_banner_on_another_page(app_test, monkeypatch):
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    t = _unlock(app_test(PAGE).run())
    t.text_input(key="class_announce_text").input("Everyone: open ring-fixed")
    t.selectbox(key="class_announce_preset").set_value("ring-fixed")
    next(b for b in t.button if b.label == "Post").click().run()
    _ok(t)
    a = classroom.classroom().announcement()
    assert a.text == "Everyone: open ring-fixed" and a.link == "./?preset=ring-fixed"

    student = app_test().run()  # app.py: the lab, another session
    _ok(student)
    banner = [i.value for i in student.info if i.value.startswith("**Teacher:**")]
    assert banner == ["**Teacher:** Everyone: open ring-fixed · [Open the preset](./?preset=ring-fixed)"]

    t.button(key="class_announce_clear").click().run()
    assert classroom.classroom().announcement() is None
    student.run()
    assert not [i for i in student.info if i.value.startswith("**Teacher:**")]


def test_a_reloaded_page_shows_the_students_run_and_never_another_students(app_test, wait_until):
    first = app_test().run()
    owner = first.session_state["ganlab_owner"]
    first.checkbox(key="mc_compare").uncheck().run()
    first.button(key="mc_start").click().run()
    _ok(first)
    job = jobs.manager().get(first.session_state["mc_job"])
    assert job.page == "mode_collapse" and job.meta == {"preset": "ring-collapse"}
    wait_until(lambda: job.snapshots() and job.snapshots()[0].step > 0, 30, what="the run to step")

    address = {k: v[-1] if isinstance(v, list) else v for k, v in first.query_params.items()}  # the setup
    reloaded = app_test(query=address)  # a reload: a new session that the browser's cookie gives the same owner
    reloaded.session_state["ganlab_owner"] = owner
    reloaded.run()
    _ok(reloaded)
    assert reloaded.session_state["mc_job"] == job.id
    assert any(m.value.startswith("Run A · step ") for m in reloaded.markdown)
    assert reloaded.session_state["mc_job__applied"] is not None  # live changes still reach the run

    other = app_test().run()  # another browser: another student
    _ok(other)
    assert other.session_state["ganlab_owner"] != owner and other.session_state["mc_job"] is None
    other.session_state["mc_job"] = job.id  # even a slot that names the job: not theirs
    other.run()
    assert not any(m.value.startswith("Run A · step ") for m in other.markdown)
    assert other.button(key="mc_reset").disabled  # nothing of the other student's run to reset
    assert job.status != "stopped"


def test_the_owner_cookie_is_written_once_per_session_and_only_with_our_own_id(app_test):
    at = app_test().run()
    owner = at.session_state["ganlab_owner"]
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert len(scripts) == 1 and f"ganlab_owner={owner};" in scripts[0] and "SameSite=Strict" in scripts[0]
    assert at.get("html")[0].proto.unsafe_allow_javascript
    at.run()
    assert not [h for h in at.get("html") if "document.cookie" in h.proto.body]  # once per session
    assert identity.valid(identity.new_id()) and not identity.valid("'; alert(1); '") and not identity.valid(None)

    named = app_test()
    named.session_state["ganlab_owner"] = "not-a-cookie-id"  # an id we did not make is never written out
    named.run()
    _ok(named)
    assert not [h for h in named.get("html") if "document.cookie" in h.proto.body]
