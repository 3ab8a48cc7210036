"""AppTest of the run store's page parts: the sidebar's "Saved runs" (a run from before a restart, listed paused,
with its downloads and Resume, which continues it on its page) and the Class page's "Runs saved today" with the
class's CSV; and `python -m ganlab runs`, which lists the same store."""
import pytest

from ganlab import checkpoint, jobs
from ganlab.cli.main import main
from ganlab.config import TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.jobs import classroom, job_manager
from ganlab.store import RunStore, export
from ganlab.ui import identity

CFG = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=40)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA_DIR", str(tmp_path))
    if job_manager._MANAGER is not None:
        job_manager._MANAGER.shutdown()  # the next jobs.manager() opens the store of this test's folder
    classroom._CLASSROOM = None
    yield tmp_path
    classroom._CLASSROOM = None


def stored_before_restart(root, owner: str, nick: str = "") -> str:
    """A run of `owner` saved at step 20 of 40 by a server that was then killed (another boot, still 'running')."""
    old = RunStore(root, boot="killed-server")
    if nick:
        old.set_nickname(owner, nick)
    key = old.create(owner, "mode_collapse", "ring-collapse", "A: ring", [CFG], status="running")
    t = Trainer(CFG)
    t.step(20)
    old.write(key, (checkpoint.to_bytes(t),), 20, [{"modes_captured": 2.0, "n_modes": 8.0}])
    return key


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_after_a_restart_the_student_finds_the_run_paused_and_resume_continues_it(app_test, data_dir, wait_until):
    owner = identity.new_id()  # the student's cookie, from before the restart
    key = stored_before_restart(data_dir, owner)
    stored_before_restart(data_dir, "another-student")  # never listed for this one
    at = app_test()
    at.session_state["ganlab_owner"] = owner  # the browser sends the cookie back (AppTest: the sidebar shows in
    at.run()  # the tree of the first run only, see tests/test_app_shell.py)
    _ok(at)
    saved = [e for e in at.sidebar.expander if e.label.startswith("Saved runs")]
    assert [e.label for e in saved] == ["Saved runs (1)"]
    text = " ".join(m.value for m in saved[0].markdown)
    assert "paused" in text and "step 20 / 40" in text
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Checkpoint" in labels and "Samples (CSV)" in labels
    resume = [b for b in at.sidebar.button if b.label == "Resume"]
    assert len(resume) == 1
    resume[0].click().run()
    _ok(at)
    job = wait_until(lambda: next((j for j in jobs.manager().jobs_of(owner) if j.store_key == key), None), 10,
                     what="the resumed job")
    assert job.page == "mode_collapse" and at.session_state["mc_job"] == job.id  # its page shows it
    wait_until(lambda: job.join(0) and job.status == "done", 60, what="the resumed run to finish")
    assert job.snapshots()[0].step == 40
    jobs.manager().store.flush(5)
    rec = jobs.manager().store.get(key)
    assert rec.status == "done" and rec.step == 40 and not rec.interrupted


def test_the_class_page_lists_the_days_runs_from_the_store_with_their_numbers(app_test, data_dir):
    stored_before_restart(data_dir, "ada-cookie", nick="Ada")
    stored_before_restart(data_dir, "bob-cookie")
    at = app_test("pages/class_view.py")
    at.run()
    _ok(at)
    saved = [e for e in at.expander if e.label.startswith("Runs saved today")]
    assert [e.label for e in saved] == ["Runs saved today (2)"]
    table = saved[0].dataframe[0].value
    assert list(table["Student"]) == ["Ada", "–"] and list(table["Steps"]) == ["20 / 40", "20 / 40"]
    assert list(table["Modes captured"]) == ["2 / 8", "2 / 8"] and list(table["Status"]) == ["paused", "paused"]
    assert any(b.proto.label == "Download the class's results (CSV)" for b in at.get("download_button"))


def test_the_cli_lists_the_store_and_prints_the_class_pages_csv(data_dir, capsys):
    stored_before_restart(data_dir, "ada-cookie", nick="Ada")
    assert main(["runs", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Ada" in out and "ring-collapse" in out and "step 20/40" in out and "1 runs in" in out
    assert main(["runs", "--csv", "--today"]) == 0  # GANLAB_DATA_DIR
    text = capsys.readouterr().out
    assert text == export.to_csv(RunStore(data_dir).runs())
    assert text.splitlines()[1].startswith("Ada,mode_collapse,ring-collapse,,ring,mlp,")


def test_the_cli_says_when_there_is_no_store(tmp_path, capsys):
    assert main(["runs", "--data-dir", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: no run store at")
