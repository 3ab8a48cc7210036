"""StepPace: how many steps fill a time slice, from the measured seconds per step -- for a job and a stack group."""
from __future__ import annotations


class StepPace:
    """Seconds per step, a moving average over chunks (steps jitter: 0.7 old + 0.3 new); None until measured."""

    def __init__(self) -> None:
        self.step_s: float | None = None

    def steps(self, seconds: float, most: int) -> int:
        """Steps that take about `seconds`, between 1 and `most`; 1 while unmeasured (that chunk measures)."""
        if self.step_s is None:
            return 1
        return max(1, min(most, int(seconds / max(self.step_s, 1e-9))))

    def took(self, seconds: float, steps: int) -> None:
        per = seconds / max(steps, 1)
        self.step_s = per if self.step_s is None else 0.7 * self.step_s + 0.3 * per
