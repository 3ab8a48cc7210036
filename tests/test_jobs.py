"""Job manager: caps, queue, pause/resume/step/stop, live changes, cleanup (no thread left alive)."""
import threading
import time

import pytest

from ganlab.config import TrainConfig
from ganlab.jobs import JobLimitError, JobManager
from ganlab.engine.runner import TrainerRunner

FAST = TrainConfig(data="ring", z_dim=2, g_width=32, d_width=32, batch_size=64, log_every=10, steps=100_000)


def wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def job_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ganlab-")]


@pytest.fixture
def mgr():
    m = JobManager(max_running=2, max_running_per_owner=1, max_jobs_per_owner=3, snapshot_every_s=0.05)
    yield m
    m.shutdown()
    assert wait(lambda: not job_threads(), 5), job_threads()


def runner(**changes):
    return lambda: [TrainerRunner(FAST.replace(**changes))]


def test_runs_to_budget_and_publishes(mgr):
    job = mgr.submit("a", runner(steps=60), "short")
    assert job.join(20) and job.status == "done"
    (snap,) = job.snapshots()
    assert snap.step == 60 and snap.history["step"][-1] == 60


def test_per_owner_cap_queues_and_total_cap_refuses(mgr):
    j1 = mgr.submit("a", runner(), "1")
    j2 = mgr.submit("a", runner(), "2")
    assert j2.status == "queued" and j2.queue_position() == 1
    mgr.submit("a", runner(), "3")
    with pytest.raises(JobLimitError, match="limit is 3"):
        mgr.submit("a", runner(), "4")
    j1.stop()
    assert wait(lambda: j2.status in ("starting", "running"))


def test_global_cap_across_owners(mgr):
    jobs = [mgr.submit(o, runner(), o) for o in ("a", "b", "c")]
    assert wait(lambda: jobs[0].status == "running" and jobs[1].status == "running")
    assert jobs[2].status == "queued" and mgr.stats()["running"] == 2


def test_pause_step_resume_stop(mgr):
    job = mgr.submit("a", runner(), "p")
    assert wait(lambda: job.snapshots() and job.snapshots()[0].step > 0)
    job.pause()
    assert wait(lambda: job.status == "paused")
    time.sleep(0.2)
    s0 = job.snapshots()[0].step
    time.sleep(0.3)
    assert job.snapshots()[0].step == s0
    job.step_once()
    assert wait(lambda: job.snapshots()[0].step == s0 + 10)
    job.resume()
    assert wait(lambda: job.snapshots()[0].step > s0 + 10)
    job.stop()
    assert job.join(10) and job.status == "stopped"


def test_live_apply_and_bad_value_reported(mgr):
    job = mgr.submit("a", lambda: [TrainerRunner(FAST), TrainerRunner(FAST)], "ab")
    assert wait(lambda: len(job.snapshots()) == 2)
    job.apply(1, loss="hinge")
    assert wait(lambda: job.snapshots()[1].config.loss == "hinge")
    assert job.snapshots()[0].config.loss == "non_saturating"
    job.apply(0, d_lr=-1.0)
    assert wait(lambda: job.error is not None and "d_lr" in job.error)
    assert job.status == "running"


def test_diverged_status(mgr):
    def bad():
        r = TrainerRunner(FAST)
        r.trainer.data.x[:] = float("nan")
        return [r]

    job = mgr.submit("a", bad, "nan")
    assert job.join(10) and job.status == "diverged"
    assert job.snapshots()[0].diverged_at == 1


def test_factory_error_is_reported_not_raised(mgr):
    def broken():
        raise ValueError("data 'csv' needs uploaded points")

    job = mgr.submit("a", broken, "x")
    assert job.join(10) and job.status == "error" and "uploaded points" in job.error


def test_session_release_stops_and_frees(mgr):
    jobs = [mgr.submit("gone", runner(), str(i)) for i in range(2)]
    assert wait(lambda: jobs[0].status == "running")
    mgr.release_owner("gone", grace_s=0)
    assert all(j.join(10) for j in jobs)
    assert mgr.jobs_of("gone") == []
    assert all(j.runners == [] for j in jobs)


def test_release_grace_cancelled_by_touch(mgr):
    job = mgr.submit("blip", runner(), "x")
    mgr.release_owner("blip", grace_s=0.5)
    mgr.touch("blip")  # the browser reconnected
    time.sleep(2.5)  # the reaper runs every 2 s
    assert job.status == "running"


def test_idle_owner_is_reaped():
    m = JobManager(idle_timeout_s=0.1)
    try:
        job = m.submit("idle", runner(), "x")
        assert job.join(8) and job.status == "stopped"
    finally:
        m.shutdown()
