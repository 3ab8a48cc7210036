"""Stand-ins shared by tests of the job manager and the pages (no torch)."""
import threading
from types import SimpleNamespace


class FakeRunner:
    """The job-manager runner protocol, without torch: n steps a call (a chunk) until `budget`."""

    config = None

    def __init__(self, budget=1000):
        self.status, self.step_count, self.budget, self.log_every = "ready", 0, budget, 10
        self.gate = threading.Event()

    def weights(self):
        return None

    def checkpoint(self, optimizers=True):
        return None

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


def wait(pred, timeout: float = 15.0) -> bool:
    """Poll `pred` every 20 ms until it holds (True) or `timeout` seconds pass (False)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


class SlowRunner:
    """A fake runner: each G step takes `step_s` seconds; records the chunk sizes it was asked for and the
    step count of every snapshot."""

    config = None

    def holds_networks(self):
        return False

    def weights(self):
        return None

    def checkpoint(self, optimizers=True):
        return None

    def __init__(self, step_s: float, log_every: int = 100, budget: int = 10_000):
        self.step_s, self.log_every, self.budget = step_s, log_every, budget
        self.step_count, self.status, self.chunks, self.snapped = 0, "ready", [], []

    def step(self, n: int) -> dict:
        import time

        self.chunks.append(n)
        time.sleep(n * self.step_s)
        self.step_count += n
        return {}

    def snapshot(self) -> int:
        self.snapped.append(self.step_count)
        return self.step_count

    def apply(self, **changes) -> None:
        pass

    def park(self) -> None:
        pass

    def release(self) -> None:
        pass


def slow_member(delay: float, steps: int = 100_000):
    """A factory (picklable with functools.partial, importable as tests.fakes by the training process): one tiny
    real class-engine member whose every step first holds its engine's lock for `delay` seconds (sleeping), as a
    heavy stacked step does."""
    import time

    from ganlab.config import TrainConfig
    from ganlab.engine.batched import ClassEngine, stack_key
    from ganlab.engine.batched.runner import MemberRunner

    class SlowMember(MemberRunner):
        def step(self, n: int) -> dict:
            with self.engine._lock:
                time.sleep(delay)
                return super().step(n)

    cfg = TrainConfig(data="ring", z_dim=2, g_width=8, d_width=8, batch_size=16, log_every=1, steps=steps)
    return [SlowMember.add(ClassEngine(stack_key(cfg)), cfg)]
