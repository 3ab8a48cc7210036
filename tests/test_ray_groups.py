"""Class-engine groups of the Ray backend without Ray: TrainActor (ganlab/jobs/ray_backend/actor.py) and the
member checkpoints it takes (ganlab/engine/batched/export.py), checked in-process in every environment.

TrainActor is plain Python (RayPool wraps it with ray.remote), so here it is driven the way the pool drives it:
`start` per member, per-member commands, one `poll` for all members. A member's checkpoint is restored the way
the pool restores it after its actor died: alone, in an actor of its own (`start(jid, spec, resume=...)`).
"""
from __future__ import annotations

import numpy as np
import torch

from ganlab import checkpoint, presets
from ganlab.engine.batched import ClassEngine
from ganlab.engine.batched.export import member_state, to_bytes
from ganlab.engine.trainer import Trainer
from ganlab.jobs.checkpoints import MAX_BYTES
from ganlab.jobs.ray_backend.actor import TrainActor
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.status import Status


def toy(steps: int, seed: int = 0):
    return presets.get("ring-collapse").config.replace(steps=steps, log_every=10, batch_size=64, seed=seed)


class Driver:
    """What RayPool keeps per member: the snapshot version and checkpoint seq it holds, the newest reports."""

    def __init__(self, actor: TrainActor, jids):
        self.actor = actor
        self.known = {jid: (-1, 0) for jid in jids}
        self.reports: dict[int, dict] = {}
        self.checkpoints: dict[int, list] = {jid: [] for jid in jids}
        self.snapshots: dict[int, tuple] = {}

    def poll(self) -> dict[int, dict]:
        out = self.actor.poll({j: k for j, k in self.known.items() if not self.done(j)})
        for jid, rep in out.items():
            version, seq = self.known[jid]
            if rep.snapshots is not None:
                version, self.snapshots[jid] = rep.version, rep.snapshots
            if rep.checkpoint is not None:
                seq = rep.checkpoint.seq
                self.checkpoints[jid].append(rep.checkpoint)
            self.known[jid] = (version, seq)
            self.reports[jid] = rep
        return out

    def done(self, jid) -> bool:
        rep = self.reports.get(jid)
        return rep is not None and rep.done

    def step(self, jid) -> int:
        rep = self.reports.get(jid)
        return rep.progress[0][0] if rep is not None and rep.progress else 0

    def status(self, jid) -> str:
        rep = self.reports.get(jid)
        return rep.status if rep is not None else ""


def g_weights(data: bytes) -> list[np.ndarray]:
    run = checkpoint.load(data, max_bytes=MAX_BYTES)
    return [t.numpy() for t in run.g_state.values()] + [t.numpy() for t in run.d_state.values()]


def test_member_checkpoint_restores_the_run_exactly():
    """A member's checkpoint (weights, Adam moments and step counts from the stack's rows, history, RNG) loads
    into a Trainer that takes the member's very next steps: on a CPU, bit for bit the run that never stopped."""
    cfgs = [toy(120, seed=s) for s in range(3)]
    engine = ClassEngine()
    ids = [engine.add(c) for c in cfgs]
    engine.step(60)
    run = checkpoint.load(to_bytes(member_state(engine, ids[1])), max_bytes=MAX_BYTES)
    assert run.step == 60 and run.opt_g is not None and run.opt_d is not None
    assert {s["step"].item() for s in run.opt_g["state"].values()} == {60.0}
    restored = run.make_trainer(device="cpu")
    restored.step(60)
    straight = Trainer(cfgs[1])
    straight.step(120)
    for a, b in zip(list(restored.G.parameters()) + list(restored.D.parameters()),
                    list(straight.G.parameters()) + list(straight.D.parameters())):
        assert torch.equal(a, b)
    numbers = lambda t: {k: v for k, v in t.history.last().items() if k != "seconds"}  # noqa: E731
    assert numbers(restored) == numbers(straight)


def test_group_actor_trains_members_and_answers_each(wait_until):
    """Three students' runs in one group actor: one stacked group, one poll for all, per-member pause, step,
    live change, bad value and stop; checkpoints per member at logging steps; finished members are forgotten."""
    torch.manual_seed(0)
    actor = TrainActor(checkpoint_s=0.0)
    budget, long = 200, 100_000  # 11 and 13 train until stopped: the commands below reach them mid-run
    cfgs = {11: toy(long, seed=11), 12: toy(budget, seed=12), 13: toy(long, seed=13)}
    try:
        assert actor.poll({11: (-1, 0)})[11].status == "starting"  # not started yet: no error, not done
        actor.start(99, RunSpec((toy(10).replace(data="csv"),)))  # a member that cannot join: its points are missing
        failed = wait_until(lambda: (r := actor.poll({99: (-1, 0)})[99]).done and r, timeout=60,
                            what="the member that cannot join to fail")
        assert failed.status == Status.ERROR and "needs uploaded points" in failed.error
        actor.command(12, "pause")  # before its start (another replica's call may overtake it): kept for it
        for jid, c in cfgs.items():
            actor.start(jid, RunSpec((c,)), label=f"run {jid}")
        groups = actor._executor._stacker.groups()
        assert len(groups) == 1 and len(groups[0].jobs) == 3  # one class-engine group, one vectorised step
        d = Driver(actor, cfgs)
        wait_until(lambda: d.poll() and d.step(11) >= 30 and d.status(12) == Status.PAUSED, timeout=120,
                   what="member 11 training while 12 waits paused")
        assert d.step(12) == 0 and len(d.snapshots[11]) == 1 and d.snapshots[11][0].fake.shape[1] == 2

        actor.command(12, "step", 10)
        wait_until(lambda: d.poll() and d.step(12) == 10, timeout=60, what="one step of 10 for the paused member")
        actor.command(13, "apply", None, {"loss": "lsgan"})
        wait_until(lambda: d.poll() and d.snapshots[13][0].config.loss == "lsgan", timeout=60,
                   what="13's live change")
        assert d.snapshots[11][0].config.loss == "non_saturating"
        actor.command(11, "apply", 0, {"g_lr": -1.0})
        wait_until(lambda: d.poll() and d.reports[11].error and "g_lr" in d.reports[11].error, timeout=60,
                   what="the bad value's message for 11 only")
        assert not d.reports[13].error
        job13 = actor._jobs[13]
        actor.command(13, "stop")
        assert job13.join(60)
        assert job13.runners[0].id not in groups[0].engine.ids  # parked as it ended: it left the stack at once
        wait_until(lambda: d.poll() and d.done(13), timeout=60, what="13 to stop")
        assert d.status(13) == Status.STOPPED and 13 not in actor.members()
        final13 = d.checkpoints[13][-1]
        assert final13.steps == (d.step(13),) and final13.seq == max(c.seq for c in d.checkpoints[13])
        actor.command(13, "pause")  # a late command to a forgotten member changes nothing
        assert 13 not in actor._early

        actor.command(12, "resume")
        wait_until(lambda: d.poll() is not None and d.done(12), timeout=120, what="12 to finish")
        assert d.status(12) == Status.DONE and d.step(12) == budget
        actor.command(11, "stop")
        wait_until(lambda: d.poll() is not None and d.done(11), timeout=60, what="11 to stop")
        assert actor.members() == [] and d.status(11) == Status.STOPPED
        for jid in (11, 12):
            seqs = [c.seq for c in d.checkpoints[jid]]
            assert seqs == sorted(seqs) and len(seqs) >= 2
            assert all(c.step % 10 == 0 for c in d.checkpoints[jid][:-1])  # periodic ones: at logging steps
            final = checkpoint.load(d.checkpoints[jid][-1].data[0], max_bytes=MAX_BYTES)
            assert final.step == d.step(jid) and final.opt_g is None  # a finished run keeps no optimiser
        assert checkpoint.load(d.checkpoints[12][-1].data[0], max_bytes=MAX_BYTES).step == budget
    finally:
        actor.close()


def test_a_member_restored_alone_continues_from_its_checkpoint(wait_until):
    """After its group actor died, a member continues from its newest checkpoint in an actor of its own (as
    RayPool restarts it): from that step, to the same final weights as the member that trained on."""
    actor = TrainActor(checkpoint_s=0.0)
    budget = 150
    cfgs = {1: toy(budget, seed=1), 2: toy(budget, seed=2)}
    try:
        for jid, c in cfgs.items():
            actor.start(jid, RunSpec((c,)))
        d = Driver(actor, cfgs)
        wait_until(lambda: d.poll() is not None and all(d.done(j) for j in cfgs), timeout=120, what="both members")
    finally:
        actor.close()
    mid = next((c for c in d.checkpoints[1] if 0 < c.step < budget), None)
    assert mid is not None, [c.step for c in d.checkpoints[1]]

    alone = TrainActor(checkpoint_s=0.0)
    alone.start(1, RunSpec((cfgs[1],)), resume=mid)
    try:
        first = alone.poll({1: (-1, 0)})[1]
        assert first.status == Status.STARTING or first.progress[0][0] >= mid.step
        seen = {"seq": mid.seq}

        def finished():
            rep = alone.poll({1: (-1, seen["seq"])})[1]
            if rep.checkpoint is not None:
                seen["checkpoint"] = rep.checkpoint
                seen["seq"] = rep.checkpoint.seq
            return rep.done and rep

        rep = wait_until(finished, timeout=120, what="the restored member to finish")
        assert rep.status == Status.DONE and rep.progress[0][0] == budget
        final = seen["checkpoint"]
        assert final.seq > mid.seq and final.steps == (budget,)
        for a, b in zip(g_weights(final.data[0]), g_weights(d.checkpoints[1][-1].data[0])):
            np.testing.assert_array_equal(a, b)
    finally:
        alone.close()
