"""Fair shares: every admitted job advances at once on a small worker pool; slices shrink as jobs are added;
paused jobs cost nothing; the pool's threads leave when idle."""
import threading
import time

from fakes import SlowRunner, wait

from ganlab.jobs import job_manager as jm
from ganlab.jobs.pool import MIN_SLICE_S, WorkerPool
from ganlab.jobs.spec import RunSpec


def SleepRunner() -> SlowRunner:
    """A run whose G step sleeps 2 ms (sleep releases the GIL, as torch kernels do)."""
    return SlowRunner(0.002, log_every=50, budget=10**9)


def test_thirty_jobs_on_two_workers_all_advance_evenly():
    m = jm.JobManager(workers=2, max_running_per_owner=1)
    runners = [SleepRunner() for _ in range(30)]
    try:
        jobs = [m.submit(f"s{i}", (lambda r=r: [r]), str(i)) for i, r in enumerate(runners)]
        assert all(j.status != "queued" for j in jobs)  # all admitted: the cap is a class, not the cores
        assert wait(lambda: min(r.step_count for r in runners) >= 150, 30)
        steps = sorted(r.step_count for r in runners)
        assert steps[0] >= 0.5 * steps[-1], steps  # round-robin: nobody starves (the first ones started first)
        assert m.stats()["workers"] == 2
        assert m._pool.threads() <= 2  # (other tests' managers may still have idle workers about to exit)
        assert all(j.progress()[0][0] == r.step_count for j, r in zip(jobs, runners))
    finally:
        m.shutdown()


def test_paused_job_is_not_scheduled_and_commands_wake_it():
    m = jm.JobManager(workers=1)
    r = SleepRunner()
    try:
        job = m.submit("a", lambda: [r], "p")
        assert wait(lambda: r.step_count > 0)
        job.pause()
        assert wait(lambda: job.status == "paused")
        s0 = r.step_count
        assert not wait(lambda: r.step_count != s0, 0.3)  # paused: no slices at all
        job.step_once()
        assert wait(lambda: r.step_count == s0 + 50)
        job.resume()
        assert wait(lambda: r.step_count > s0 + 50)
    finally:
        m.shutdown()


def test_slices_shrink_with_load_and_stay_bounded():
    pool = WorkerPool(workers=2)
    assert pool.slice_seconds() == 0.5  # alone: long slices

    class Busy:
        def run_slice(self, seconds):
            time.sleep(0.01)
            return True

    items = [Busy() for _ in range(100)]
    try:
        for it in items:
            pool.schedule(it)
        assert MIN_SLICE_S <= pool.slice_seconds() < 0.05
    finally:
        pool.close()


def test_workers_exit_when_idle():
    pool = WorkerPool(workers=2, idle_exit_s=0.2)
    done = threading.Event()

    class Once:
        def run_slice(self, seconds):
            done.set()
            return False

    pool.schedule(Once())
    assert done.wait(5)
    assert wait(lambda: pool.threads() == 0, 5)
    pool.schedule(Once())  # started again on demand
    pool.close()


def test_a_failing_slice_does_not_kill_the_worker():
    pool = WorkerPool(workers=1)
    ok = threading.Event()

    class Bad:
        def run_slice(self, seconds):
            raise RuntimeError("boom")

    class Good:
        def run_slice(self, seconds):
            ok.set()
            return False

    try:
        pool.schedule(Bad())
        pool.schedule(Good())
        assert ok.wait(5)
    finally:
        pool.close()


def test_runs_stay_while_another_tab_of_the_student_is_open():
    m = jm.JobManager(workers=1)
    r = SleepRunner()
    try:
        job = m.submit("kid", lambda: [r], "x", page="lab")
        m.touch("kid", session="tab1")
        m.touch("kid", session="tab2")
        m.release_owner("kid", grace_s=0, session="tab1")  # one tab closed
        assert wait(lambda: r.step_count > 0) and job.status == "running"
        assert m.latest("kid", "lab") is job and m.latest("kid", "other") is None
        m.release_owner("kid", grace_s=0, session="tab2")  # the last one closed: released
        assert job.join(10) and job.status == "stopped"
    finally:
        m.shutdown()


def test_process_exit_with_runs_training_is_clean(tmp_path):
    """A script that exits while two runs train: exit status 0, no abort (torch threads stopped first)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    code = ("import time\n"
            "from ganlab.jobs import manager\n"
            "from ganlab.engine.runner import TrainerRunner\n"
            "from ganlab.presets import get\n"
            "m = manager()\n"
            "jobs = [m.submit(f'o{i}', lambda: [TrainerRunner(get('ring-collapse').config)], 'x') for i in range(2)]\n"
            "end = time.monotonic() + 30\n"
            "while time.monotonic() < end and not all(j.progress() and j.progress()[0][0] > 0 for j in jobs):\n"
            "    time.sleep(0.05)\n"
            "print('training', flush=True)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(repo)})
    assert p.returncode == 0, p.stderr[-2000:]
    assert "training" in p.stdout and "terminate called" not in p.stderr and "Traceback" not in p.stderr


def test_single_toy_runs_share_a_class_engine_group_and_each_keeps_its_own_commands():
    from ganlab.config import TrainConfig
    from ganlab.engine.batched.runner import MemberRunner

    cfg = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=100_000)
    m = jm.JobManager(workers=1, snapshot_every_s=0.05)
    try:
        jobs = [m.submit(f"s{i}", RunSpec((cfg.replace(seed=i),)), str(i)) for i in range(3)]
        assert wait(lambda: all(j.progress() and j.progress()[0][0] > 20 for j in jobs), 30)
        assert all(isinstance(j.runners[0], MemberRunner) for j in jobs)
        assert len({id(j._group) for j in jobs}) == 1  # one stacked group steps all three
        jobs[0].pause()
        assert wait(lambda: jobs[0].status == "paused")
        s0 = jobs[0].progress()[0][0]
        s1 = jobs[1].progress()[0][0]
        assert wait(lambda: jobs[1].progress()[0][0] > s1 + 20)
        assert jobs[0].progress()[0][0] == s0  # the paused member sits out
        jobs[0].step_once()
        assert wait(lambda: jobs[0].progress()[0][0] == s0 + 10)
        assert wait(lambda: jobs[0].snapshots()[0].step == s0 + 10)
        jobs[1].apply(0, loss="hinge")
        assert wait(lambda: jobs[1].snapshots()[0].config.loss == "hinge")
        assert jobs[2].snapshots()[0].config.loss == "non_saturating"
        jobs[2].stop()
        assert jobs[2].join(10) and jobs[2].status == "stopped"
        assert wait(lambda: jobs[1].progress()[0][0] > 200)  # the others go on
    finally:
        m.shutdown()


def test_runs_the_class_engine_refuses_run_alone():
    from ganlab.config import TrainConfig

    cfg = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, optimizer="rmsprop", steps=50)
    m = jm.JobManager(workers=1)
    try:
        job = m.submit("a", RunSpec((cfg,)), "x")  # a single toy run, placed TOY: it trains alone
        assert job.join(20) and job.status == "done" and job._group is None
    finally:
        m.shutdown()
