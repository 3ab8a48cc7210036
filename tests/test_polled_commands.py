"""A job that trains in another process keeps the commands made before it got there and sends them first, each
once, in order, whatever thread commands it meanwhile (ganlab/jobs/polled.py, for every remote transport)."""
from __future__ import annotations

import threading

from ganlab.jobs.polled import PolledJob


class _Transport:
    """Records what it is sent (ganlab/jobs/transport.py's `send`)."""

    where, weights_on_request = "a test", False

    def __init__(self):
        self.sent: list[tuple] = []
        self._lock = threading.Lock()

    def send(self, job, cmd: tuple) -> None:
        with self._lock:
            self.sent.append(cmd)


class _Manager:
    store = None

    def __init__(self):
        self.transport = _Transport()


class _Job(PolledJob):
    def __init__(self):
        super().__init__(_Manager(), "s", lambda: [], "x", 0.25)
        self.sent = self.transport.sent

    def _wake(self) -> None:  # no pool here
        pass


def test_commands_before_arrival_wait_and_go_first_in_order():
    job = _Job()
    job.pause()
    job.apply(0, loss="hinge")
    assert job.sent == []
    early = job.arrived()
    assert early == [("pause",), ("apply", 0, {"loss": "hinge"})]
    job.resume()
    assert job.sent == [("resume",)] and job.arrived() == []  # later ones go straight; a second arrival: none


def test_no_command_is_lost_or_doubled_when_the_job_arrives_meanwhile():
    job = _Job()
    n, threads = 2000, 4
    go = threading.Barrier(threads + 1)

    def command(t: int) -> None:
        go.wait()
        for i in range(n):
            job.step_once(t * n + i)

    workers = [threading.Thread(target=command, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    go.wait()
    early = job.arrived()
    for w in workers:
        w.join()
    got = [c[1] for c in early] + [c[1] for c in job.sent]
    assert sorted(got) == list(range(threads * n))  # every command exactly once
