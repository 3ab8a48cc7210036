"""ExecutorService (ganlab/jobs/service.py), the other end of every transport: a job reported done (finished, or
failed to build its runners) answers a second poll with the same final report, so a poller whose answer was lost
on the way (a Ray ActorUnavailableError) still sees the job end, never 'starting' again."""
from __future__ import annotations

from fakes import wait

from ganlab.jobs.executor import Executor
from ganlab.jobs.service import ExecutorService
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.status import Status
from ganlab.presets import PRESETS

RING = PRESETS["ring-collapse"].config.replace(batch_size=64, log_every=10, steps=20)


def _broken():
    raise ValueError("data 'csv' needs uploaded points")


def test_a_final_report_is_given_again_to_a_poll_that_asks_again():
    service = ExecutorService(Executor(workers=1, stacking=False))
    try:
        service.submit(1, RunSpec((RING,)), "A")
        service.submit(2, _broken, "B")
        reports: dict = {}
        assert wait(lambda: reports.update(service.poll({1: -1})) or reports[1].done, 60), reports
        first = reports[1]
        assert (first.status, first.progress[0][0], first.snapshots is not None) == (str(Status.DONE), 20, True)
        assert 1 not in service.members()  # forgotten: its runners are freed
        assert service.poll({1: -1})[1] == first  # the answer was lost: asked again, the same final report
        failed = service.poll({2: -1})[2]
        assert failed.done and failed.status == str(Status.ERROR) and "uploaded points" in failed.error
        assert service.poll({2: -1})[2] == failed
        assert not service.poll({3: -1})[3].done  # an id never submitted: starting
    finally:
        service.close()


def test_a_report_never_reads_paused_with_the_snapshot_from_before_the_pause():
    """Pausing publishes the paused step's snapshot, then the job reads paused (Job._drain); a report reads the
    status before the snapshot version (report.of). So a poll that falls between the two never reports 'paused'
    with an older snapshot: a page would show a step the run has left, and its Step would seem to skip a chunk."""
    from ganlab.jobs.report import of

    class PausedMidReport:  # the worker's pause lands right after the report's first read
        runners, error = (), None

        def __init__(self):
            self.paused = False

        def _read(self, before, after):
            value = after if self.paused else before
            self.paused = True
            return value

        @property
        def status(self):
            return self._read(Status.RUNNING, Status.PAUSED)

        @property
        def version(self):
            return self._read(1, 2)  # 2: the snapshot of the paused step, published before "paused"

        def join(self, timeout):
            return False

        def progress(self):
            return ((120, "ready"),)

        def snapshots(self):
            return ("snapshot 2",) if self.paused else ("snapshot 1",)

    rep = of(PausedMidReport(), 1)
    assert not (rep.status == str(Status.PAUSED) and rep.version == 1), rep
