"""The training process (ganlab/jobs/train_process/): stacked toy runs train in a child process, pages keep the
job interface, a dead child ends its runs with a clear error and never the server."""
import os
import signal

import numpy as np
import pytest
import torch

from ganlab.config import TrainConfig
from ganlab.jobs import job_manager as jm
from ganlab.jobs.polled import PolledJob as ProcJob
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.train_process.manager import ProcessJobManager
from tests.fakes import wait

CFG = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=100_000)


def submit(m, owner, cfg):
    return m.submit(owner, RunSpec((cfg,)), "A", page="mode_collapse")


@pytest.fixture
def manager():
    m = ProcessJobManager(workers=1, snapshot_every_s=0.05)
    yield m
    m.shutdown(5.0)


def test_a_stacked_run_trains_in_the_child_with_the_same_numbers_as_in_a_thread(manager):
    cfg = CFG.replace(steps=60, seed=3)
    job = submit(manager, "s", cfg)
    assert isinstance(job, ProcJob)
    assert job.join(60) and job.status == "done", job.error
    child = manager.transport.pid()
    assert child is not None and child != os.getpid()
    local = jm.JobManager(workers=1, stacking=True)
    try:
        ref = submit(local, "s", cfg)
        assert ref.join(60) and ref.status == "done"
    finally:
        local.shutdown()
    got, want = job.snapshots()[0], ref.snapshots()[0]
    assert got.step == want.step == 60 and job.progress() == ((60, "ready"),)
    for col in ("d_loss", "g_loss"):
        np.testing.assert_allclose(got.history[col], want.history[col], rtol=1e-5, atol=1e-6)


def test_commands_reach_the_child_run_and_only_that_run(manager):
    a, b = submit(manager, "a", CFG.replace(seed=0)), submit(manager, "b", CFG.replace(seed=1))
    assert wait(lambda: all(j.progress() and j.progress()[0][0] > 20 for j in (a, b)), 60)
    assert a.runners[0].budget == CFG.steps and a.runners[0].log_every == 10
    a.pause()
    assert wait(lambda: a.status == "paused")
    s0 = a.progress()[0][0]
    s1 = b.progress()[0][0]
    assert wait(lambda: b.progress()[0][0] > s1 + 20, 30)
    assert a.progress()[0][0] == s0
    a.step_once()
    assert wait(lambda: a.progress()[0][0] == s0 + 10)
    assert wait(lambda: a.snapshots()[0].step == s0 + 10)
    b.apply(0, loss="hinge")
    assert wait(lambda: b.snapshots()[0].config.loss == "hinge")
    assert a.snapshots()[0].config.loss == "non_saturating"
    b.apply(0, g_lr=-1.0)  # a bad live change: the page reads the error, the run goes on
    assert wait(lambda: bool(b.error))
    b.stop()
    assert b.join(10) and b.status == "stopped"
    a.resume()
    assert wait(lambda: a.progress()[0][0] > s0 + 30, 30)


def test_a_killed_child_ends_its_runs_with_a_clear_error_and_the_next_start_gets_a_new_one(manager):
    job = submit(manager, "s", CFG)
    assert wait(lambda: job.progress() and job.progress()[0][0] > 0, 60)
    pid = manager.transport.pid()
    os.kill(pid, signal.SIGKILL)
    assert job.join(40) and job.status == "error"
    assert "training process stopped unexpectedly" in job.error and "press Start" in job.error
    again = submit(manager, "s", CFG.replace(steps=30))
    assert again.join(60) and again.status == "done", again.error
    assert manager.transport.pid() not in (None, pid)


def test_toy_jobs_go_to_the_child_stacked_or_not_and_other_jobs_train_here(manager):
    from ganlab.engine.runner import TrainerRunner

    short = CFG.replace(steps=20)
    lam = manager.submit("t", lambda: [TrainerRunner(short)], "x")  # a closure: trains here
    refused = manager.submit("u", RunSpec((short.replace(optimizer="rmsprop"),)), "y")  # not stackable: a child thread
    ab = manager.submit("v", RunSpec((short, short.replace(seed=1))), "A vs B")  # A and B: a child thread
    digits = TrainConfig(data="digits", model="mlp", steps=2, log_every=1, batch_size=16, g_width=16, d_width=16)
    image = manager.submit("w", RunSpec((digits,), score=False), "img")  # an MLP image run: stacked in the child
    dcgan = manager.submit("z", RunSpec((digits.replace(data="mnist", model="dcgan", dcgan_width=8),), score=False),
                           "dcgan")  # other image runs train here
    assert not isinstance(lam, ProcJob) and not isinstance(dcgan, ProcJob)
    assert isinstance(refused, ProcJob) and isinstance(ab, ProcJob) and isinstance(image, ProcJob)
    for job in (lam, refused, ab, image, dcgan):
        assert job.join(60) and job.status == "done", job.error
    assert [s.step for s in ab.snapshots()] == [20, 20] and ab.progress() == ((20, "ready"), (20, "ready"))
    for job in (image, dcgan):
        assert job.runners[0].checkpoint() is not None  # the Image GAN page's download reads it


def test_shutdown_ends_the_child_and_the_poller():
    m = ProcessJobManager(workers=1)
    job = submit(m, "s", CFG)
    assert wait(lambda: job.progress() and job.progress()[0][0] > 0, 60)
    proc = m.transport._proc
    m.shutdown(5.0)
    assert proc.poll() is not None and job.status == "stopped"
    assert not any(t.name == "ganlab-train-poller" and t.is_alive() for t in __import__("threading").enumerate())


def test_the_process_manager_is_the_default_and_the_switch_turns_it_off(monkeypatch):
    from ganlab import jobs

    monkeypatch.delenv("GANLAB_TRAIN_PROCESS", raising=False)
    monkeypatch.delenv("GANLAB_BACKEND", raising=False)
    assert type(jobs.manager()) is ProcessJobManager
    monkeypatch.setenv("GANLAB_TRAIN_PROCESS", "0")
    assert type(jobs.manager()) is jm.JobManager


def test_a_copy_of_a_child_run_for_the_latent_page_live_and_after_it_ended(manager):
    stacked = submit(manager, "s", CFG.replace(seed=5))
    ab = manager.submit("t", RunSpec((CFG.replace(steps=30), CFG.replace(steps=30, seed=1))), "A vs B")
    assert wait(lambda: stacked.progress() and stacked.progress()[0][0] > 20, 60)
    live = stacked.runners[0].weights()  # a class-engine member: its rows, copied into a CPU Trainer's modules
    assert live is not None and live.step > 20 and live.real.shape == (1000, 2) and live.encoder is None
    with torch.no_grad():
        assert live.G(torch.randn(16, live.config.z_dim)).shape == (16, 2)
    assert ab.join(60) and ab.status == "done"
    copies = [r.weights() for r in ab.runners]  # after the end: the final weights the last report carried
    assert [c.step for c in copies] == [30, 30]
    assert not all(np.allclose(a.detach(), b.detach()) for a, b in zip(copies[0].G.parameters(),
                                                                      copies[1].G.parameters()))


def test_a_finished_jobs_weights_are_serialised_once_however_often_asked(monkeypatch):
    from ganlab.jobs.train_process import server

    class Over:  # a finished job: its parked runners no longer change
        runners = ["runner"]

        def join(self, timeout):
            return True

    calls = []
    monkeypatch.setattr(server, "weights", lambda job, index: calls.append(index) or b"blob")
    copies = server.WeightsCopies()
    answers = [copies.answer(7, Over(), 0) for _ in range(20)]  # e.g. 20 open Latent space pages polling
    assert answers == [(0.0, b"blob")] * 20 and calls == [0]
    copies.forget(7)
    assert copies.answer(7, Over(), 0) == (0.0, b"blob") and calls == [0, 0]  # a forgotten job is read again
