"""One behaviour over every transport (issue 19): the same scenario against the server's own Executor ("thread"),
the training process ("process") and Ray ("ray", skipped where Ray is not installed). A student's single toy run
is commanded before it has even started and then live; a link's hidden widths next to the preset's runs."""
from __future__ import annotations

import os

import pytest
from fakes import wait

from ganlab.jobs.job_manager import JobManager
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.status import Status
from ganlab.presets import PRESETS

RING = PRESETS["ring-collapse"].config.replace(batch_size=64, log_every=10)
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def ray_up():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-ray.txt)")
    from ganlab.jobs.ray_backend.connect import connect

    address = os.environ.pop("RAY_ADDRESS", None)  # a Ray of our own, never a cluster someone runs
    connect(num_cpus=2)
    yield
    ray.shutdown()
    if address is not None:
        os.environ["RAY_ADDRESS"] = address


@pytest.fixture(params=["thread", "process", "ray"])
def manager(request) -> JobManager:
    if request.param == "thread":
        m = JobManager(workers=2, snapshot_every_s=0.05, stacking=True)
    elif request.param == "process":
        from ganlab.jobs.train_process.manager import ProcessJobManager

        m = ProcessJobManager(workers=2, snapshot_every_s=0.05, stacking=True)
    else:
        request.getfixturevalue("ray_up")
        from ganlab.jobs.ray_backend.manager import RayJobManager

        m = RayJobManager(shared=False, spares=0, snapshot_every_s=0.05, stacking=True)
    yield m
    m.shutdown(10)


def steps(job) -> int:
    p = job.progress()
    return p[0][0] if p else 0


def test_commands_before_the_start_and_while_live_act_the_same_everywhere(manager):
    job = manager.submit("s", RunSpec((RING.replace(steps=100_000),)), "A")
    job.pause()  # before the run reached where it trains: kept, then applied first (not one step unpaused)
    assert wait(lambda: job.status == Status.PAUSED, 90), job.status
    assert steps(job) == 0
    job.step_once()  # one logging interval
    assert wait(lambda: steps(job) == 10, 30), steps(job)
    job.apply(0, loss="hinge")
    assert wait(lambda: job.snapshots() and job.snapshots()[0].config.loss == "hinge", 30)
    job.resume()
    assert wait(lambda: steps(job) > 50, 60), steps(job)
    job.stop()
    assert job.join(30) and job.status == Status.STOPPED and job.error is None


def test_a_hidden_widths_run_next_to_the_presets_runs_all_train_everywhere(manager):
    """`?preset=ring-collapse&compare=0&g_widths=128` first, then three classmates on the preset."""
    budget = 40
    jobs = [manager.submit("link", RunSpec((RING.replace(steps=budget, g_widths="128"),)), "A")]
    jobs += [manager.submit(f"s{i}", RunSpec((RING.replace(steps=budget, seed=i),)), "A") for i in range(3)]
    for job in jobs:
        assert job.join(120), (job.label, job.status)
    assert [(j.status, j.error, steps(j)) for j in jobs] == [(Status.DONE, None, budget)] * 4


def test_a_pair_ends_with_its_weights_and_a_run_that_cannot_start_says_why_everywhere(manager):
    """The lab's A vs B (placed TOY) to its budget: each runner's weights for the Latent space page and its
    checkpoint for the download, at the final step. A csv run whose points are missing: an error, not a hang."""
    from ganlab import checkpoint

    budget = 30
    pair = manager.submit("p", RunSpec((RING.replace(steps=budget), RING.replace(steps=budget, seed=1))), "A vs B")
    broken = manager.submit("b", RunSpec((RING.replace(steps=budget, data="csv"),)), "A")
    assert pair.join(120) and broken.join(120), (pair.status, broken.status)
    assert (pair.status, pair.error, [r.step_count for r in pair.runners]) == (Status.DONE, None, [budget] * 2)
    for r in pair.runners:
        assert r.holds_networks()
        w = r.weights()
        assert w is not None and w.step == budget and w.config.seed == r.config.seed
        assert checkpoint.load(r.checkpoint(), max_bytes=512 * 2**20).step == budget
    assert broken.status == Status.ERROR and "needs uploaded points" in broken.error


def test_the_owner_cap_queues_a_run_until_the_first_ends_everywhere(manager):
    """Admission is the server's, wherever runs train: a student's second run waits in the queue (position 1)
    while the first trains, and starts, and finishes, once the first is stopped."""
    manager.max_running_per_owner = 1
    first = manager.submit("s", RunSpec((RING.replace(steps=100_000),)), "A")
    second = manager.submit("s", RunSpec((RING.replace(steps=20, seed=1),)), "A")
    assert wait(lambda: steps(first) > 0, 90), first.status
    assert second.status == Status.QUEUED and second.queue_position() == 1
    first.stop()
    assert first.join(30) and second.join(90), (first.status, second.status)
    assert (first.status, second.status, steps(second)) == (Status.STOPPED, Status.DONE, 20)


def test_a_run_that_turns_nan_reads_diverged_and_a_student_who_left_has_their_runs_stopped_everywhere(manager):
    """Uploaded points that are not numbers: the run stops as diverged at its first logging step, with the first
    bad step in its snapshot. A student whose last tab closed (left_runs=stop): their runs stop and are forgotten."""
    import numpy as np

    nan = manager.submit("n", RunSpec((RING.replace(steps=200, data="csv"),), points=np.full((64, 2), np.nan)), "A")
    assert nan.join(90) and nan.status == "diverged", (nan.status, nan.error)
    assert nan.snapshots()[0].diverged_at == 1  # the first step whose numbers were not finite
    manager.left_runs = "stop"
    runs = [manager.submit("gone", RunSpec((RING.replace(steps=100_000, seed=s),)), "A") for s in range(2)]
    assert wait(lambda: all(steps(j) > 0 for j in runs), 90), [j.status for j in runs]
    manager.release_owner("gone", grace_s=0)
    assert all(j.join(30) for j in runs) and {j.status for j in runs} == {Status.STOPPED}
    assert manager.jobs_of("gone") == []
