"""The Ray backend's fault tolerance without Ray: periodic checkpoints, restoring them, and the actor's side.

ganlab/jobs/checkpoints.py and actor.py are plain Python (Ray only wraps TrainActor), so what a
restarted actor does -- build the runners from the RunSpec, swap in the saved trainers, replay pause and live
changes -- is checked here in-process, in every environment.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab import presets
from ganlab.jobs.checkpoints import Checkpointer, restore
from ganlab.jobs.ray_backend.actor import TrainActor
from ganlab.jobs.report import starting
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.status import Status
from ganlab.theory import TheoryConfig


def toy(steps: int = 100, seed: int = 0):
    return presets.get("ring-collapse").config.replace(steps=steps, log_every=10, batch_size=64, seed=seed)


def weights(trainer) -> list[np.ndarray]:
    return [p.detach().cpu().numpy().copy() for p in trainer.G.parameters()]


JID = 7  # the job's id, as the driver names it


def poll_until(actor: TrainActor, cond, wait_until, what: str) -> dict:
    seen = {"version": -1, "seq": 0}

    def ask():
        report = actor.poll({JID: (seen["version"], seen["seq"])})[JID]
        seen["version"] = report.version
        if report.checkpoint is not None:
            seen["seq"] = report.checkpoint.seq
            seen["checkpoint"] = report.checkpoint
        seen["report"] = report
        return cond(report)

    wait_until(ask, timeout=60, what=what)
    return seen


def test_restored_run_continues_exactly():
    """Half a run, saved, restored into freshly built runners and finished == the run straight through."""
    spec = RunSpec((toy(),))
    straight = spec()
    straight[0].step(100)

    cp = Checkpointer(every_s=0.0)
    halves = cp.wrap(spec())
    halves[0].step(50)
    halves[0].step(10)  # the checkpoint is taken before this chunk: at step 50, a logging step
    ck = cp.latest()
    assert ck is not None and ck.steps == (50,) and ck.step == 50 and ck.data[0]

    again = spec()
    restore(again, ck)
    assert again[0].step_count == 50 and len(again[0].trainer.history.arrays()["step"]) == 5
    again[0].step(50)
    numbers = lambda t: {k: v for k, v in t.history.last().items() if k != "seconds"}  # noqa: E731
    assert numbers(again[0].trainer) == numbers(straight[0].trainer)
    for a, b in zip(weights(again[0].trainer), weights(straight[0].trainer)):
        np.testing.assert_array_equal(a, b)


def test_checkpoints_wait_for_a_and_b_on_the_same_logging_step():
    cp = Checkpointer(every_s=0.0)
    a, b = cp.wrap(RunSpec((toy(), toy(seed=1)))())
    a.step(5)  # A mid-interval, B at 0: not consistent, nothing saved
    assert cp.latest() is None
    b.step(5)
    a.step(5)  # both at 5, but not a logging step
    assert cp.latest() is None
    b.step(5)
    a.step(10)  # both at 10 before this chunk
    assert cp.latest().steps == (10, 10)


def test_runner_without_a_trainer_starts_again():
    """The 1-D theory game has no Trainer: nothing is saved for it and a restore leaves it fresh."""
    cp = Checkpointer(every_s=0.0)
    (runner,) = cp.wrap(RunSpec((TheoryConfig(steps=40, log_every=10),))())
    runner.step(10)
    ck = cp.take()
    assert ck.data == (None,)
    fresh = RunSpec((TheoryConfig(steps=40, log_every=10),))()
    restore(fresh, ck)
    assert fresh[0].step_count == 0


def test_actor_polls_commands_and_resumes_paused(wait_until):
    """A job alone in a TrainActor as the driver sees it: 'starting' until it has the job, snapshots only when
    newer, checkpoints only when newer, 'done' once all is final; a second actor resumed from a mid-run
    checkpoint, paused with a live change replayed, finishes the run."""
    torch.manual_seed(0)
    spec = RunSpec((toy(steps=200),))
    first = TrainActor(checkpoint_s=0.0, stacking=False)  # the job trains alone (its runners checkpointed)
    assert first.poll({JID: (-1, 0)})[JID] == starting(-1)  # not started yet: no error, not done
    first.start(JID, spec)
    try:
        seen = poll_until(first, lambda r: r.progress and 60 <= r.progress[0][0], wait_until, "60 steps")
        again = first.poll({JID: (seen["version"], seen["seq"])})[JID]
        assert again.snapshots is None or again.version != seen["version"]
        mid = seen["checkpoint"]
        assert mid.step % 10 == 0 and mid.step > 0
        first.command(JID, "stop")
        seen = poll_until(first, lambda r: r.done, wait_until, "the first actor to stop")
        assert seen["report"].status == Status.STOPPED
    finally:
        first.close()

    second = TrainActor(checkpoint_s=0.0)
    second.start(JID, spec, resume=mid, paused=True, applies=[(None, {"d_lr": 2e-4})])
    try:
        seen = poll_until(second, lambda r: r.status == Status.PAUSED, wait_until, "the restored actor, paused")
        assert seen["report"].progress[0][0] == mid.step
        assert seen["report"].snapshots[0].config.d_lr == 2e-4
        second.command(JID, "step", 10)
        poll_until(second, lambda r: r.progress[0][0] == mid.step + 10, wait_until, "one step of 10")
        with pytest.raises(ValueError):
            second.command(JID, "jump")
        second.command(JID, "resume")
        seen = poll_until(second, lambda r: r.done, wait_until, "the restored run to finish")
        report, final = seen["report"], seen["checkpoint"]
        assert report.status == Status.DONE and report.progress[0][0] == 200
        assert final.steps == (200,) and final.seq > mid.seq
    finally:
        second.close()
