"""The class as a whole: nicknames, the announcement, one row per run with its lesson number, class commands."""

from fakes import FakeRunner, wait

from ganlab.config import TrainConfig
from ganlab.engine.runner import TrainerRunner
from ganlab.jobs import job_manager as jm
from ganlab.jobs.classroom import Classroom, current_jobs, lesson_number

FAST = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=100_000)




def test_nicknames_are_cleaned_and_default_to_an_anonymous_label():
    c = Classroom()
    assert c.nickname("x") == "student 1" and c.nickname("y") == "student 2" and c.nickname("x") == "student 1"
    assert c.set_nickname("x", "  Ada\x00  Lovelace\n") == "Ada Lovelace"
    assert c.set_nickname("y", "z" * 100) == "z" * 24
    assert c.set_nickname("x", "   ") == "student 1" and not c.has_nickname("x")


def test_asking_whether_someone_has_a_nickname_gives_them_no_anonymous_number():
    c = Classroom()
    assert not c.has_nickname("visitor")  # a sidebar drawn for a visitor who never trains
    assert c.nickname("first") == "student 1"  # the first student the class sees is still student 1


def test_announcement_replaces_and_clears():
    c = Classroom()
    a = c.announce("Look at the ring!", "/?preset=ring-fixed")
    assert c.announcement() == a and a.link == "/?preset=ring-fixed"
    b = c.announce("Now the grid")
    assert b.id > a.id and c.announcement().text == "Now the grid"
    assert c.announce("  ") is None and c.announcement() is None


def test_rows_pause_resume_and_stop_all():
    m = jm.JobManager(workers=1, snapshot_every_s=0.05)
    c = Classroom()
    c.set_nickname("s1", "Ada")
    try:
        j1 = m.submit("s1", lambda: [TrainerRunner(FAST)], "one", page="mode_collapse", meta={"preset": "ring"})
        j2 = m.submit("s2", lambda: [TrainerRunner(FAST), TrainerRunner(FAST)], "pair", page="mode_collapse")
        assert wait(lambda: all(r.step > 10 for r in c.rows(m)) and len(c.rows(m)) == 3)
        rows = {(r.nickname, r.run): r for r in c.rows(m)}
        assert set(rows) == {("Ada", ""), ("student 1", "A"), ("student 1", "B")}
        ada = rows[("Ada", "")]
        assert ada.preset == "ring" and ada.budget == 100_000 and ada.status == "running"
        assert wait(lambda: lesson_number(j1.snapshots()[0]).startswith("modes "))
        assert Classroom.pause_all(m) == 2
        assert wait(lambda: j1.status == "paused" and j2.status == "paused")
        assert Classroom.resume_all(m) == 2
        assert wait(lambda: j1.status == "running" and j2.status == "running")
        assert Classroom.stop_all(m) == 2
        assert j1.join(10) and j2.join(10) and j1.status == j2.status == "stopped"
    finally:
        m.shutdown()


def test_current_jobs_keep_active_runs_and_each_students_newest_per_page():
    m = jm.JobManager(workers=1)
    try:
        old = m.submit("s1", lambda: [FakeRunner(budget=10)], "old", page="mode_collapse")
        assert old.join(10)
        new = m.submit("s1", lambda: [FakeRunner(budget=10)], "new", page="mode_collapse")
        other_page = m.submit("s1", lambda: [FakeRunner(budget=10)], "theory", page="theory")
        other_student = m.submit("s2", lambda: [FakeRunner(budget=10)], "x", page="mode_collapse")
        assert all(j.join(10) for j in (new, other_page, other_student))
        assert [j.id for j in current_jobs(m)] == [new.id, other_page.id, other_student.id]
        assert {r.job_id for r in Classroom().rows(m, current_only=True)} == {new.id, other_page.id, other_student.id}
        assert {r.job_id for r in Classroom().rows(m)} == {old.id, new.id, other_page.id, other_student.id}
    finally:
        m.shutdown()
