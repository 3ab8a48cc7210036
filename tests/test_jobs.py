"""Job manager: caps, queue, pause/resume/step/stop, live changes, cleanup (no thread left alive).

No test assumes a speed: they wait on conditions with generous timeouts (`wait_until`), and what must NOT
happen while paused is checked across commands the paused worker handles one loop at a time."""
import threading
import time

import pytest

from ganlab.config import TrainConfig
from ganlab.engine.runner import TrainerRunner
from ganlab.jobs import JobLimitError, JobManager

FAST = TrainConfig(data="ring", z_dim=2, g_width=32, d_width=32, batch_size=64, log_every=10, steps=100_000)
SLOW_MACHINE_S = 30  # a condition that takes ~0.1 s on a quiet machine may take seconds on a loaded one


def job_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ganlab-")]


@pytest.fixture
def mgr(wait_until):
    m = JobManager(max_running=2, max_running_per_owner=1, max_jobs_per_owner=3, snapshot_every_s=0.05)
    yield m
    m.shutdown()
    wait_until(lambda: not job_threads(), SLOW_MACHINE_S, every=0.02, what=f"job threads to end: {job_threads()}")


def runner(**changes):
    return lambda: [TrainerRunner(FAST.replace(**changes))]


def test_runs_to_budget_and_publishes(mgr):
    job = mgr.submit("a", runner(steps=60), "short")
    assert job.join(SLOW_MACHINE_S) and job.status == "done"
    (snap,) = job.snapshots()
    assert snap.step == 60 and snap.history["step"][-1] == 60


def test_per_owner_cap_queues_and_total_cap_refuses(mgr, wait_until):
    j1 = mgr.submit("a", runner(), "1")
    j2 = mgr.submit("a", runner(), "2")
    assert j2.status == "queued" and j2.queue_position() == 1
    mgr.submit("a", runner(), "3")
    with pytest.raises(JobLimitError, match="limit is 3"):
        mgr.submit("a", runner(), "4")
    j1.stop()
    wait_until(lambda: j2.status in ("starting", "running"), SLOW_MACHINE_S, every=0.02, what="the queued job")


def test_global_cap_across_owners(mgr, wait_until):
    jobs = [mgr.submit(o, runner(), o) for o in ("a", "b", "c")]
    wait_until(lambda: jobs[0].status == "running" and jobs[1].status == "running", SLOW_MACHINE_S, every=0.02,
               what="two running jobs")
    assert jobs[2].status == "queued" and mgr.stats()["running"] == 2


def test_pause_step_resume_stop(mgr, wait_until):
    job = mgr.submit("a", runner(), "p")
    wait_until(lambda: job.snapshots() and job.snapshots()[0].step > 0, SLOW_MACHINE_S, every=0.02, what="steps")
    job.pause()
    wait_until(lambda: job.status == "paused", SLOW_MACHINE_S, every=0.02, what="the pause")
    r = job.runners[0]
    s0 = r.step_count  # fixed from now on: the worker only steps when it is not paused
    wait_until(lambda: job.snapshots()[0].step == s0, SLOW_MACHINE_S, every=0.02, what="the paused step's snapshot")
    for lr in (5e-4, 6e-4):  # the paused worker handles each command in one pass of its loop and publishes
        v = job.version
        job.apply(g_lr=lr)
        wait_until(lambda: job.version > v, SLOW_MACHINE_S, every=0.02, what="the command to be handled")
    assert r.step_count == s0 and job.snapshots()[0].step == s0  # two passes while paused: no G step
    job.step_once()
    wait_until(lambda: job.snapshots()[0].step == s0 + 10, SLOW_MACHINE_S, every=0.02, what="one logging interval")
    job.resume()
    wait_until(lambda: job.snapshots()[0].step > s0 + 10, SLOW_MACHINE_S, every=0.02, what="steps after resume")
    job.stop()
    assert job.join(SLOW_MACHINE_S) and job.status == "stopped"


def test_live_apply_and_bad_value_reported(mgr, wait_until):
    job = mgr.submit("a", lambda: [TrainerRunner(FAST), TrainerRunner(FAST)], "ab")
    wait_until(lambda: len(job.snapshots()) == 2, SLOW_MACHINE_S, every=0.02, what="two snapshots")
    job.apply(1, loss="hinge")
    wait_until(lambda: job.snapshots()[1].config.loss == "hinge", SLOW_MACHINE_S, every=0.02, what="the new loss")
    assert job.snapshots()[0].config.loss == "non_saturating"
    job.apply(0, d_lr=-1.0)
    wait_until(lambda: job.error is not None and "d_lr" in job.error, SLOW_MACHINE_S, every=0.02, what="the error")
    assert job.status == "running"


def test_diverged_status(mgr):
    def bad():
        r = TrainerRunner(FAST)
        r.trainer.data.x[:] = float("nan")
        return [r]

    job = mgr.submit("a", bad, "nan")
    assert job.join(SLOW_MACHINE_S) and job.status == "diverged"
    assert job.snapshots()[0].diverged_at == 1


def test_factory_error_is_reported_not_raised(mgr):
    def broken():
        raise ValueError("data 'csv' needs uploaded points")

    job = mgr.submit("a", broken, "x")
    assert job.join(SLOW_MACHINE_S) and job.status == "error" and "uploaded points" in job.error


def test_session_release_stops_and_frees(mgr, wait_until):
    jobs = [mgr.submit("gone", runner(), str(i)) for i in range(2)]
    wait_until(lambda: jobs[0].status == "running", SLOW_MACHINE_S, every=0.02, what="running")
    mgr.release_owner("gone", grace_s=0)
    assert all(j.join(SLOW_MACHINE_S) for j in jobs)
    assert mgr.jobs_of("gone") == []
    assert all(j.runners == [] for j in jobs)


def test_release_grace_cancelled_by_touch(mgr, wait_until):
    kept = mgr.submit("blip", runner(), "x")
    gone = mgr.submit("left", runner(), "y")
    wait_until(lambda: kept.status == gone.status == "running", SLOW_MACHINE_S, every=0.02, what="both running")
    mgr.release_owner("blip", grace_s=0.05)
    mgr.release_owner("left", grace_s=0.05)
    mgr.touch("blip")  # the browser reconnected within the grace period; "left" did not
    time.sleep(0.1)  # past both grace periods (a deadline, not a speed assumption)
    mgr._reap()  # the reaper's pass, here and now instead of on its 2 s timer
    assert gone.join(SLOW_MACHINE_S) and gone.status == "stopped"
    assert kept.status == "running"


def test_idle_owner_is_reaped():
    m = JobManager(idle_timeout_s=0.1)
    try:
        job = m.submit("idle", runner(), "x")
        assert job.join(SLOW_MACHINE_S) and job.status == "stopped"  # the reaper looks every 2 s
    finally:
        m.shutdown()
