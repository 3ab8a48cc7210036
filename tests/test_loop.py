"""The one training loop (ganlab.engine.loop): Trainer and Theory1D run on it, satisfy the job manager's runner
contract, share statuses, the init lock, park/release; the display pieces live on the snapshot side."""
from __future__ import annotations

import threading

import pytest
import torch

from ganlab import snapshot
from ganlab.config import ConfigError, TrainConfig
from ganlab.engine.loop import INIT_LOCK, RunStatus, TrainingLoop, seeded_init
from ganlab.engine.runner import TrainerRunner
from ganlab.engine.trainer import Trainer
from ganlab.jobs import Runner
from ganlab.theory import Theory1D, TheoryConfig

TOY = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=5, steps=20, device="cpu")
IMG = TrainConfig(data="digits", model="mlp", conditional=True, z_dim=8, g_width=16, d_width=16, batch_size=20,
                  log_every=5, steps=10, device="cpu")
THEORY = TheoryConfig(batch_size=32, log_every=5, steps=20)


def test_both_trainers_are_the_loop_and_bring_only_their_own_step():
    for cls in (Trainer, Theory1D):
        assert issubclass(cls, TrainingLoop)
        own = set(vars(cls))
        assert {"_train_step", "_row_extras"} <= own
        assert not own & {"step", "flush", "_log", "_log_row", "release"}  # the loop's, not copied


def test_runners_satisfy_the_contract():
    assert isinstance(TrainerRunner(TOY), Runner)
    assert isinstance(Theory1D(THEORY), Runner)
    assert not isinstance(Trainer(TOY), Runner)  # a Trainer draws nothing: its runner makes the snapshots
    assert not isinstance(object(), Runner)


def test_statuses_are_defined_once_and_read_as_strings():
    t = Trainer(TOY)
    assert t.status is RunStatus.READY and t.status == "ready"
    t.data.x[:] = float("nan")
    t.step(5)
    assert t.status is RunStatus.DIVERGED and t.status == "diverged" and t.diverged_at == 1


def test_budget_is_the_runners_for_a_trainer_and_the_loops_for_theory():
    t = Trainer(TOY)
    t.step(25)  # a bare Trainer steps past its budget when asked (benchmarks, tests)
    assert t.step_count == 25
    r = TrainerRunner(TOY)
    r.step(7)
    r.step(13)  # reaches the budget: the partial interval is logged
    assert r.step_count == 20 and r.trainer.history.last()["step"] == 20
    th = Theory1D(THEORY)
    th.step(23)
    assert th.step_count == 20 and th.history.last()["step"] == 20


def test_live_changes_go_through_the_loop_with_each_trainers_keys():
    t, th = Trainer(TOY), Theory1D(THEORY)
    for run in (t, th):
        run.apply(d_lr=2e-4, beta1=0.3)
        assert run.opt_d.param_groups[0]["lr"] == 2e-4 and run.opt_d.param_groups[0]["betas"][0] == 0.3
    with pytest.raises(ConfigError, match="z_dim cannot change during a run; start a new run instead"):
        t.apply(z_dim=3)
    with pytest.raises(ConfigError, match="z_dim cannot change during a run; reset to start a new one"):
        th.apply(z_dim=3)
    t.apply(g_ema=0.9)  # the Trainer's own live key
    assert t.G_ema is not None


def test_park_keeps_the_picture_and_stops_stepping_then_release_drops_it():
    t = TrainerRunner(TOY)
    t.step(10)
    t.park()
    tr = t.trainer
    assert tr.opt_g is None and next(tr.G.parameters()).device.type == "cpu" and not tr.G.training
    assert t.snapshot().step == 10  # a parked run still draws
    assert tr.step(5) == tr.history.last() and tr.step_count == 10  # and does not move
    t.apply(g_lr=1e-4)  # a live change to a parked run does not fail
    t.release()
    assert tr.G is None and tr.data is None and tr.opt_d is None
    tr.park()  # parking a released run is a no-op


def test_seeded_init_gives_the_same_weights_under_concurrent_builds():
    want = Trainer(TOY).G.state_dict()
    got: list[dict] = []

    def build():
        got.append(Trainer(TOY).G.state_dict())

    def noise():  # another thread drawing from torch's global RNG meanwhile
        for _ in range(200):
            with INIT_LOCK:
                torch.rand(10)

    threads = [threading.Thread(target=build) for _ in range(3)] + [threading.Thread(target=noise)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for sd in got:
        assert all(torch.equal(sd[k], want[k]) for k in want)
    with seeded_init(5):
        a = torch.rand(3)
    with seeded_init(5):
        assert torch.equal(a, torch.rand(3))


def test_display_pieces_are_computed_once_per_run_on_the_snapshot_side():
    r = TrainerRunner(IMG)
    assert not hasattr(r.trainer, "real_jpeg") and not hasattr(r.trainer, "view_extent")
    s1 = r.snapshot()
    r.step(5)
    s2 = r.snapshot()
    assert s1.real_jpeg is s2.real_jpeg and s1.real_jpeg == snapshot.real_grid_jpeg(r.trainer)
    assert s2.real_jpeg[:2] == b"\xff\xd8"  # JPEG
    toy = TrainerRunner(TOY)
    e1 = toy.snapshot().extent
    toy.trainer.data.x.mul_(3)  # the box is fixed for the run, so frames line up
    assert toy.snapshot().extent == e1
    assert snapshot.take(toy.trainer).extent != e1  # without the run's views: computed afresh
