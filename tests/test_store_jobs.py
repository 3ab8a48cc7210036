"""Every run saves into the run store (ganlab/jobs/saves.py): about every GANLAB_CHECKPOINT_S seconds of training
and at its end, in the server's threads, as a class-engine member and in the training process; a restart finds
the runs paused and Resume continues from the saved step; a student who left finds their runs paused."""
import numpy as np
import pytest

from ganlab.config import TrainConfig
from ganlab.jobs import Status
from ganlab.jobs import job_manager as jm
from ganlab.jobs.spec import RunSpec
from ganlab.store import RunStore
from tests.fakes import wait

CFG = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=100_000)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_CHECKPOINT_S", "0.2")
    return RunStore(tmp_path)


def manager(store, **kw):
    m = jm.JobManager(workers=1, snapshot_every_s=0.05, **kw)
    m.store = store
    return m


def saved_step(store, key) -> int:
    store.flush(5)
    rec = store.get(key)
    return rec.step if rec is not None and rec.saved else 0


@pytest.mark.parametrize("stacking", [False, True], ids=["thread", "class-engine member"])
def test_a_live_run_saves_every_few_seconds_and_at_its_end(store, stacking):
    m = manager(store, stacking=stacking)
    try:
        cfg = CFG.replace(steps=100_000)
        job = m.submit("s1", RunSpec((cfg,)), "A", page="mode_collapse", meta={"preset": "ring-collapse"})
        assert (job._group is not None) == stacking
        assert wait(lambda: saved_step(store, job.store_key) > 0, 30)
        first = saved_step(store, job.store_key)
        assert wait(lambda: saved_step(store, job.store_key) > first, 30)  # again, ~0.2 s of training later
        run = store.load(job.store_key, 0)
        assert run is not None and run.opt_g is not None
        assert stacking or run.step % cfg.log_every == 0  # a member is saved where it stands (no steps alone)
        rec = store.get(job.store_key)
        assert rec.page == "mode_collapse" and rec.preset == "ring-collapse" and rec.numbers[0]["n_modes"] == 8
        job.stop()
        assert job.join(30)
        store.flush(5)
        rec = store.get(job.store_key)
        assert rec.status == "stopped" and rec.step == job.progress()[0][0]  # the final save: nothing lost
    finally:
        m.shutdown(5)


def test_an_ab_job_saves_both_runs_at_the_same_step_and_ends_done(store):
    m = manager(store)
    try:
        a, b = CFG.replace(steps=60), CFG.replace(steps=60, pack=2)
        job = m.submit("s1", RunSpec((a, b)), "A vs B", page="mode_collapse")
        assert job.join(60) and job.status == "done"
        store.flush(5)
        rec = store.get(job.store_key)
        assert rec.status == "done" and rec.step == 60 and not rec.resumable
        assert store.load(job.store_key, 0).step == store.load(job.store_key, 1).step == 60
    finally:
        m.shutdown(5)


def test_after_a_crash_the_run_is_listed_paused_and_resume_continues_from_the_saved_step(store, tmp_path):
    m = manager(store)
    cfg = CFG.replace(steps=100_000)
    points = np.random.default_rng(0).normal(size=(64, 2))
    job = m.submit("s1", RunSpec((cfg.replace(data="csv"),), points), "A", page="mode_collapse")
    assert wait(lambda: saved_step(store, job.store_key) >= 20, 30)
    m._closed.set()  # a crash: no shutdown, no final save (the workers are left to the test's end)
    job.pause()
    job.join(0.1)
    after = RunStore(tmp_path)  # the restarted server's store
    rec = after.runs(owner="s1")[0]
    assert rec.interrupted and rec.shown_status == "paused" and rec.resumable
    run = after.load(rec.key, 0)
    assert run.step == rec.step
    fresh = manager(after)
    try:
        resumed = fresh.submit("s1", RunSpec((cfg.replace(data="csv", steps=rec.step + 20),),
                                             after.points(rec.key), resume=(run,)), "A", page="mode_collapse")
        assert resumed.join(60) and resumed.status == "done", resumed.error
        assert resumed.snapshots()[0].step == rec.step + 20
        assert len(resumed.snapshots()[0].history["d_loss"]) > 1  # the saved history goes on
    finally:
        fresh.shutdown(5)
        m._closed.clear()
        m.shutdown(5)


def test_a_student_who_left_finds_the_run_paused_and_it_resumes(store):
    m = manager(store)
    try:
        job = m.submit("s1", RunSpec((CFG,)), "A", page="mode_collapse")
        m.touch("s1", "tab")
        assert wait(lambda: job.status == Status.RUNNING and job.progress()[0][0] > 0, 30)
        m.release_owner("s1", grace_s=0.0, session="tab")  # the last tab closed, the grace period is over
        assert wait(lambda: job.status == Status.PAUSED, 10)
        step = job.progress()[0][0]
        m._reap()  # the reaper's next rounds leave it paused
        assert job.status == Status.PAUSED and job.progress()[0][0] == step
        m.touch("s1", "tab2")  # back (after 5 minutes, or 5 hours within away_keep_s)
        job.resume()
        assert wait(lambda: job.progress()[0][0] > step, 30)
    finally:
        m.shutdown(5)


def test_a_student_away_past_the_keep_time_is_stopped_but_stays_resumable(store):
    m = manager(store)
    m.away_keep_s = 0.0
    try:
        job = m.submit("s1", RunSpec((CFG,)), "A", page="mode_collapse")
        assert wait(lambda: job.progress() and job.progress()[0][0] > 0, 30)
        m.pause_owner("s1")
        assert wait(lambda: job.status == Status.PAUSED, 10)
        step = job.progress()[0][0]
        m._reap()
        assert job.join(10) and job.status == Status.STOPPED
        store.flush(5)
        rec = store.runs(owner="s1")[0]
        assert rec.status == "paused" and rec.resumable and rec.step == step
    finally:
        m.shutdown(5)


def test_left_runs_stop_keeps_the_old_behaviour(store, monkeypatch):
    monkeypatch.setenv("GANLAB_LEFT_RUNS", "stop")
    m = manager(store)
    try:
        job = m.submit("s1", RunSpec((CFG,)), "A", page="mode_collapse")
        assert wait(lambda: job.status == Status.RUNNING, 30)
        m.release_owner("s1", grace_s=0.0)
        assert job.join(10) and job.status == Status.STOPPED
    finally:
        m.shutdown(5)


def test_without_a_store_nothing_is_saved_and_runs_stop_when_their_student_left(tmp_path):
    m = jm.JobManager(workers=1)
    try:
        job = m.submit("s1", RunSpec((CFG,)), "A", page="mode_collapse")
        assert job.store_key is None and job.saves is None
        assert wait(lambda: job.status == Status.RUNNING, 30)
        m.release_owner("s1", grace_s=0.0)
        assert job.join(10) and job.status == Status.STOPPED
    finally:
        m.shutdown(5)


def test_a_refused_submit_leaves_no_row(store):
    m = manager(store, max_jobs_per_owner=1)
    try:
        m.submit("s1", RunSpec((CFG,)), "A")
        with pytest.raises(jm.JobLimitError):
            m.submit("s1", RunSpec((CFG,)), "A")
        assert len(store.runs(owner="s1")) == 1
    finally:
        m.shutdown(5)


def test_the_training_process_saves_its_runs_into_the_servers_store(store):
    from ganlab.jobs.polled import PolledJob as ProcJob
    from ganlab.jobs.train_process.manager import ProcessJobManager

    m = ProcessJobManager(workers=1, snapshot_every_s=0.05)
    m.store = store
    try:
        cfg = CFG.replace(steps=100_000)
        job = m.submit("s1", RunSpec((cfg,)), "A", page="mode_collapse")
        assert isinstance(job, ProcJob) and job.saves is None  # the child saves it
        assert wait(lambda: saved_step(store, job.store_key) > 0, 60)
        assert not store.get(job.store_key).interrupted  # the child writes as the server's boot: live
        job.away = True
        job.stop()
        assert job.join(30)
        assert wait(lambda: store.get(job.store_key).status == "paused", 10)  # the server writes the status
    finally:
        m.shutdown(5)


def test_resume_continues_the_same_row_and_only_for_its_owner(store, tmp_path):
    from ganlab.jobs import stored

    m = manager(store)
    cfg = CFG.replace(steps=100_000)
    job = m.submit("s1", RunSpec((cfg, cfg.replace(pack=2))), "A vs B", page="mode_collapse")
    assert wait(lambda: saved_step(store, job.store_key) >= 20, 30)
    job.stop()
    assert job.join(30)
    store.flush(5)
    key, step = job.store_key, store.get(job.store_key).step
    with pytest.raises(stored.NotResumable):
        stored.resume(m, "intruder", key)
    with pytest.raises(stored.NotResumable):
        stored.checkpoint_bytes(m, "intruder", key)
    again = stored.resume(m, "s1", key)
    try:
        assert again.store_key == key and again.page == "mode_collapse" and len(again.runners or [0, 0]) == 2
        assert wait(lambda: again.progress() and min(p[0] for p in again.progress()) > step, 30)
        assert [s.record.key for s in stored.saved(m, "s1")] == [key]
        assert stored.saved(m, "s1")[0].job is again
        with pytest.raises(stored.NotResumable):
            stored.resume(m, "s1", key)  # already going
        text = stored.samples_csv(m, "s1", key, 1, n=50)
        assert text.splitlines()[0] == "x,y" and len(text.splitlines()) == 51
        assert stored.checkpoint_bytes(m, "s1", key, 0)[:2] == b"PK"  # a torch zip: the page's upload takes it
    finally:
        m.shutdown(5)


def test_a_member_saved_mid_interval_resumes_from_that_step(store):
    m = manager(store, stacking=True)
    try:
        cfg = CFG.replace(log_every=50)
        job = m.submit("s1", RunSpec((cfg,)), "A")
        assert wait(lambda: saved_step(store, job.store_key) > 0, 30)
        run = store.load(job.store_key, 0)  # a periodic save (with Adam's moments), wherever the member stood
    finally:
        m.shutdown(5)
    assert run.opt_g is not None
    trainer = run.make_trainer(device="cpu")
    rows = len(trainer.history)
    trainer.step(60)
    assert trainer.step_count == run.step + 60 and len(trainer.history) > rows and trainer.status == "ready"
