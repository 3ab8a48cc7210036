"""Periodic checkpoints of a job's runners, and restoring them in a fresh actor after a failure.

A job's runners (the lab's A and B) are wrapped in CheckpointingRunners that share one Checkpointer. Before a
chunk of steps, when `every_s` seconds have passed since the last checkpoint and every live runner stands on
the same logging step, the Checkpointer saves every runner (ganlab.checkpoint: weights, optimiser states,
history, step, RNG state) as bytes; the final state is saved once more when the job ends (before the runners
park). Saving happens in the thread that steps the runners, between steps, so it never races a step.

The bytes go back to whoever drives the actor (ganlab/jobs/ray_backend/pool.py), which keeps the newest: when
the actor or its node dies, a new actor builds the runners from the job's RunSpec and `restore` swaps in the
saved trainers, so the run continues from the saved step. Runners without a Trainer (the 1-D theory game,
seconds long) are not saved and start again.

MemberCheckpoints does the same for a class-engine member (a stacked toy run). Both also feed the run store of
every backend (ganlab/jobs/saves.py), which writes their bytes to disk.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Sequence

from ganlab.jobs.report import MAX_BYTES, Checkpoint

CHECKPOINT_S = 10.0  # a live run is saved about this often (at its next logging step)


def trainer_of(runner: Any):
    """The runner's Trainer when it has one that still holds its networks, else None."""
    trainer = getattr(runner, "trainer", None)
    return trainer if trainer is not None and getattr(trainer, "G", None) is not None else None


def save(runner: Any) -> bytes | None:
    trainer = trainer_of(runner)
    if trainer is None:
        return None
    from ganlab import checkpoint

    return checkpoint.to_bytes(trainer, optimizers=trainer.opt_g is not None, max_bytes=MAX_BYTES)


class Checkpointer:
    def __init__(self, every_s: float = CHECKPOINT_S, first_seq: int = 1):
        self.every_s = every_s
        self._runners: list[Any] = []
        self._lock = threading.Lock()
        self._latest: Checkpoint | None = None
        self._seq = first_seq
        self._last = time.monotonic()
        self._final = False

    def wrap(self, runners: Sequence[Any]) -> list["CheckpointingRunner"]:
        self._runners = list(runners)
        self._last = time.monotonic()  # the first save comes every_s after training starts
        return [CheckpointingRunner(r, self) for r in self._runners]

    def latest(self) -> Checkpoint | None:
        with self._lock:
            return self._latest

    def _in_step(self) -> bool:
        """Every runner still training stands on the same logging step (the lab's A and B advance together)."""
        going = [r for r in self._runners if r.status != "diverged" and r.step_count < r.budget]
        steps = {r.step_count for r in going}
        return len(steps) <= 1 and all(r.step_count % r.log_every == 0 for r in going)

    def _moved(self) -> bool:
        """Some runner stepped since the last save (a run at step 0, or paused, has nothing new to save)."""
        steps = tuple(r.step_count for r in self._runners)
        latest = self.latest()
        return any(steps) and (latest is None or latest.steps != steps)

    def before_step(self) -> None:
        if time.monotonic() - self._last >= self.every_s and self._in_step() and self._moved():
            self.take()

    def before_park(self) -> None:
        """The job ended: save its final state once (the first runner to park calls this for all)."""
        if not self._final:
            self._final = True
            self.take()

    def take(self) -> Checkpoint:
        ck = Checkpoint(self._seq, tuple(int(r.step_count) for r in self._runners),
                        tuple(save(r) for r in self._runners), time.time())
        with self._lock:
            self._latest = ck
            self._seq += 1
        self._last = time.monotonic()
        return ck


def _inner(name: str) -> property:
    return property(lambda self: getattr(self.inner, name), doc=f"The wrapped runner's {name}.")


class CheckpointingRunner:
    """A runner (ganlab.jobs.runner.Runner) that lets its Checkpointer save the job between steps."""

    status = _inner("status")
    step_count = _inner("step_count")
    budget = _inner("budget")
    log_every = _inner("log_every")

    def __init__(self, inner: Any, checkpointer: Checkpointer):
        self.inner = inner
        self._checkpointer = checkpointer

    def step(self, n: int) -> dict[str, float]:
        self._checkpointer.before_step()
        return self.inner.step(n)

    def snapshot(self) -> Any:
        return self.inner.snapshot()

    def apply(self, **changes: Any) -> None:
        self.inner.apply(**changes)

    def park(self) -> None:
        self._checkpointer.before_park()
        self.inner.park()

    def release(self) -> None:
        self.inner.release()

    def __getattr__(self, name: str) -> Any:  # trainer, config, views: what pages may read of a runner
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def restore(runners: Sequence[Any], ck: Checkpoint) -> None:
    """Swap each freshly built runner's Trainer for the saved one (same data; weights, optimisers, history,
    step and RNG from the checkpoint). Runners without saved bytes keep their fresh start."""
    from ganlab import checkpoint

    for runner, data in zip(runners, ck.data):
        fresh = trainer_of(runner)
        if data is None or fresh is None:
            continue
        run = checkpoint.load(data, max_bytes=MAX_BYTES)
        runner.trainer = run.make_trainer(device=fresh.config.device, dataset=fresh.data)
        fresh.release()


class MemberCheckpoints:
    """The newest checkpoint of one class-engine member (a job whose runner is a MemberRunner)."""

    def __init__(self, job: Any, every_s: float):
        self.job, self.every_s = job, every_s
        self._lock = threading.Lock()
        self._latest: Checkpoint | None = None
        self._seq = 1
        self._last = time.monotonic()  # the first save comes every_s after the member starts
        self._final = False

    def latest(self) -> Checkpoint | None:
        with self._lock:
            return self._latest

    def _keep(self, step: int, state: dict, final: bool = False) -> Checkpoint | None:
        """Serialise outside the engine's lock; a periodic save that lost the race to the final one is dropped."""
        from ganlab.engine.batched.export import to_bytes

        data = to_bytes(state)
        with self._lock:
            if self._final and not final:
                return None
            self._final = self._final or final
            ck = self._latest = Checkpoint(self._seq, (step,), (data,), time.time())
            self._seq += 1
        self._last = time.monotonic()
        return ck

    def due(self) -> bool:
        return not self._final and time.monotonic() - self._last >= self.every_s

    def save(self, complete: bool = True) -> Checkpoint | None:
        """Save the member now (call between the group's steps, in the thread that steps it). A member mid-way
        through a logging interval first takes the rest of that interval alone, as a page's "step once" does
        (engine.step(members=[id]): the very steps the group would take); a paused, diverged or finished
        member, or one that has not moved since its last save, is left as it is. complete=False: saved where it
        stands instead (the run store: stepping one member alone costs about a stacked step per step, up to a
        whole interval, in the group's time; the partial interval's logged numbers are not saved, and the
        restored run logs its intervals from its saved step)."""
        from ganlab.engine.batched.export import member_state

        runner = member_of(self.job)
        if runner is None:
            return None
        engine, latest = runner.engine, self.latest()
        with engine._lock:
            if runner.id not in engine.ids:  # parked: the final save covers it
                return None
            m = runner._member
            if m.status != "ready" or m.paused or m.step_count >= m.budget:
                return None
            if m.i and complete:
                engine.step(min(m.log_every - m.i, m.budget - m.step_count), members=[runner.id])
                if m.i or m.status != "ready" or m.step_count >= m.budget:  # ended instead: the final save
                    return None
            if m.step_count == 0 or (latest is not None and latest.step == m.step_count):
                return None
            step, state = m.step_count, member_state(engine, runner.id)
        return self._keep(step, state)

    def before_park(self) -> None:
        """Job._finish's hooks: nothing to save around the park (the runner leaves the stack there; `finish`
        saves its final state when the poll reports the job done)."""

    after_park = before_park

    def finish(self) -> None:
        """The member's job is over (its runner parked): save its final state once."""
        from ganlab.engine.batched.export import parked_state

        runner = member_of(self.job)
        with self._lock:
            if self._final or runner is None:
                return
        self._keep(runner.step_count, parked_state(runner._member), final=True)


def member_of(job: Any):
    """The job's MemberRunner, or None (runners not built yet, or the job trains on its own)."""
    runners = list(job.runners)
    r = runners[0] if len(runners) == 1 else None
    return r if r is not None and hasattr(r, "engine") and getattr(r, "_member", None) is not None else None
