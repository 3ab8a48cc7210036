"""The job manager steps a slow run in chunks shorter than a logging interval (so a DCGAN on a CPU still
publishes a snapshot about every jobs.CHUNK_S), advances runners together, and Step is one full interval.

The fake runners record what the worker did (chunk sizes, the step of each snapshot), so the assertions are
about the worker's decisions, not about when this thread happened to look."""
import itertools

from fakes import SlowRunner

from ganlab.jobs import job_manager as jobs
from ganlab.jobs.runner import Runner

SLOW_MACHINE_S = 30  # generous: conditions are polled, never waited for a fixed time


def test_the_fake_satisfies_the_runner_contract():
    assert isinstance(SlowRunner(0.0), Runner)


def test_slow_runs_publish_within_a_logging_interval_and_step_is_one_interval(wait_until):
    m = jobs.JobManager(snapshot_every_s=0.1)
    a, b = SlowRunner(0.01), SlowRunner(0.02)  # an interval of 100 steps: 1 s for A, 2 s for B
    try:
        job = m.submit("t", lambda: [a, b], "slow")
        wait_until(lambda: a.step_count > 100, SLOW_MACHINE_S, every=0.02, what="the first logging interval")
        # several snapshots were published inside the first logging interval (chunks of ~CHUNK_S, not 100 steps)
        assert sum(0 < s < 100 for s in a.snapped) >= 3, a.snapped
        job.pause()
        wait_until(lambda: job.status == "paused", SLOW_MACHINE_S, every=0.02, what="the pause")
        assert a.chunks == b.chunks and a.step_count == b.step_count  # the runners advance together
        # one step to measure, then chunks of about CHUNK_S at the pair's speed (at least 0.03 s a step)
        assert a.chunks[0] == 1 and max(a.chunks) <= jobs.CHUNK_S / 0.03 * 1.5
        assert 100 in itertools.accumulate(a.chunks)  # chunks end on logging steps (the timeline's frames)
        before = a.step_count
        job.step_once()
        wait_until(lambda: a.step_count == before + 100, SLOW_MACHINE_S, every=0.02, what="one whole interval")
    finally:
        m.shutdown()


def test_fast_runs_keep_whole_logging_intervals():
    m = jobs.JobManager(snapshot_every_s=0.1)
    r = SlowRunner(0.0, log_every=50, budget=2000)
    try:
        job = m.submit("t", lambda: [r], "fast")
        assert job.join(SLOW_MACHINE_S) and job.status == "done"
        assert r.chunks[:3] == [1, 49, 50] and set(r.chunks[2:]) == {50}  # whole intervals, aligned
    finally:
        m.shutdown()
