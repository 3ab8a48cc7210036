"""Stand-ins shared by tests of the job manager and the pages (no torch)."""
import threading
from types import SimpleNamespace


class FakeRunner:
    """The job-manager runner protocol, without torch: n steps a call (a chunk) until `budget`."""

    def __init__(self, budget=1000):
        self.status, self.step_count, self.budget, self.log_every = "ready", 0, budget, 10
        self.gate = threading.Event()

    def step(self, n):
        self.gate.wait(0.02)
        self.step_count += n
        return {}

    def snapshot(self):
        return SimpleNamespace(step=self.step_count, config=SimpleNamespace(steps=self.budget), diverged_at=None)

    def apply(self, **changes):
        pass

    def park(self):
        pass

    def release(self):
        pass
