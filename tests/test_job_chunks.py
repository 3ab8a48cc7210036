"""The job manager steps a slow run in chunks shorter than a logging interval (so a DCGAN on a CPU still
publishes a snapshot about every jobs.CHUNK_S), advances runners together, and Step is one full interval."""
import itertools
import time

from ganlab.jobs import job_manager as jobs


class SlowRunner:
    """A fake runner: each G step takes `step_s` seconds; records the chunk sizes it was asked for."""

    def __init__(self, step_s: float, log_every: int = 100, budget: int = 10_000):
        self.step_s, self.log_every, self.budget = step_s, log_every, budget
        self.step_count, self.status, self.chunks = 0, "ready", []

    def step(self, n: int) -> dict:
        self.chunks.append(n)
        time.sleep(n * self.step_s)
        self.step_count += n
        return {}

    def snapshot(self) -> int:
        return self.step_count

    def apply(self, **changes) -> None:
        pass

    def park(self) -> None:
        pass

    def release(self) -> None:
        pass


def _wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_slow_runs_publish_within_a_logging_interval_and_step_is_one_interval():
    m = jobs.JobManager(snapshot_every_s=0.1)
    a, b = SlowRunner(0.01), SlowRunner(0.02)  # an interval of 100 steps: 1 s for A, 2 s for B
    try:
        job = m.submit("t", lambda: [a, b], "slow")
        assert _wait(lambda: job.version >= 6, 5), job.version  # several snapshots within ~1.5 s
        assert job.snapshots()[0] < 100  # ... all of them inside the first logging interval
        assert _wait(lambda: a.step_count > 100, 5)
        job.pause()
        assert _wait(lambda: job.status == "paused", 5)
        assert a.chunks == b.chunks and a.step_count == b.step_count  # the runners advance together
        # one step to measure, then chunks of about CHUNK_S at the pair's speed (0.03 s a step)
        assert a.chunks[0] == 1 and max(a.chunks) <= jobs.CHUNK_S / 0.03 * 1.5
        assert 100 in itertools.accumulate(a.chunks)  # chunks end on logging steps (the timeline's frames)
        before = a.step_count
        job.step_once()
        assert _wait(lambda: a.step_count == before + 100, 10)  # Step: one whole logging interval
    finally:
        m.shutdown()


def test_fast_runs_keep_whole_logging_intervals():
    m = jobs.JobManager(snapshot_every_s=0.1)
    r = SlowRunner(0.0, log_every=50, budget=2000)
    try:
        job = m.submit("t", lambda: [r], "fast")
        assert job.join(10) and job.status == "done"
        assert r.chunks[:3] == [1, 49, 50] and set(r.chunks[2:]) == {50}  # whole intervals, aligned
    finally:
        m.shutdown()
