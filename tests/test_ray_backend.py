"""The Ray backend on a local Ray (2 CPUs, no dashboard, loopback only), one for the whole module.

The Ray, and everything it starts, listens on 127.0.0.1 only (ganlab/jobs/ray_backend/connect.py). Skipped,
with the reason, where Ray is not installed (`pip install -r requirements-ray.txt`; `make test` installs it).
Each test makes its own RayJobManager and shuts it down (its actors are killed); the Ray itself is shut down
after the last test.
"""
from __future__ import annotations

import contextlib
import io
import json
import os

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only: Ray reads it when imported
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-ray.txt)")

from ganlab import jobs, presets  # noqa: E402
from ganlab.cli.main import main  # noqa: E402
from ganlab.jobs import classroom, job_manager  # noqa: E402
from ganlab.jobs.polled import PolledJob  # noqa: E402
from ganlab.jobs.ray_backend.connect import connect  # noqa: E402
from ganlab.jobs.ray_backend.job import RemoteJob  # noqa: E402
from ganlab.jobs.ray_backend.manager import RayJobManager  # noqa: E402
from ganlab.jobs.ray_backend.registry import RayClassroom  # noqa: E402
from ganlab.jobs.status import Status  # noqa: E402
from ganlab.snapshot import Snapshot  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    address = os.environ.pop("RAY_ADDRESS", None)  # always a Ray of our own, never a cluster someone runs
    connect(num_cpus=2)
    yield
    ray.shutdown()
    if address is not None:
        os.environ["RAY_ADDRESS"] = address


@pytest.fixture
def managers():
    made: list[RayJobManager] = []

    def make(**kwargs) -> RayJobManager:
        made.append(RayJobManager(**kwargs))
        return made[-1]

    yield make
    for m in made:
        m.shutdown()


def toy(steps: int, seed: int = 0):
    return presets.get("ring-collapse").config.replace(steps=steps, log_every=10, batch_size=64, seed=seed)


def steps(job) -> int:
    return job.progress()[0][0] if job.progress() else 0


def test_the_job_interface_on_ray(managers, wait_until):
    m = managers()
    job = m.submit("ana", jobs.RunSpec((toy(100_000), toy(100_000, seed=1))), label="A vs B", page="mode_collapse",
                   meta={"preset": "ring-collapse"})
    assert isinstance(job, PolledJob) and m.get(job.id) is job and m.latest("ana", "mode_collapse") is job
    wait_until(lambda: job.status == Status.RUNNING and steps(job) > 0, timeout=120, what="the actor to train")
    snaps = job.snapshots()
    assert len(snaps) == 2 and all(isinstance(s, Snapshot) for s in snaps) and snaps[0].fake.shape[1] == 2

    job.pause()
    wait_until(lambda: job.status == Status.PAUSED, what="pause")
    at, version = steps(job), job.version
    job.step_once()
    wait_until(lambda: steps(job) == at + 10 and job.version > version, what="one logging interval")
    job.apply(1, loss="lsgan")
    wait_until(lambda: job.snapshots()[1].config.loss == "lsgan", what="the live change")
    assert job.snapshots()[0].config.loss == "non_saturating"
    job.apply(0, g_lr=-1.0)
    wait_until(lambda: job.error and "g_lr" in job.error, what="the bad value's message")
    job.resume()
    wait_until(lambda: job.status == Status.RUNNING and steps(job) > at + 10, what="resume")
    job.stop()
    assert job.join(60) and job.status == Status.STOPPED
    assert job.seat.actor is None and m.stats()["running"] == 0
    copy = job.runners[1].weights()  # the Latent space page's "your run": from the final checkpoint
    assert copy.step == steps(job) and copy.config.loss == "lsgan"


def test_a_killed_actor_comes_back_from_its_checkpoint(managers, wait_until):
    m = managers(checkpoint_s=1.0)
    budget = 3000
    job = m.submit("ben", jobs.RunSpec((toy(budget),)), label="kill me")
    wait_until(lambda: job.checkpoint is not None and job.checkpoint.step >= 50, timeout=120,
               what="a first checkpoint")
    first = job.seat.actor
    ray.kill(first)
    wait_until(lambda: job.restarts, timeout=30, what="the failure to be noticed")
    start, lost = job.restarts[0]
    assert start >= 50 and start % 10 == 0
    assert job.error == f"restarted from step {start} after a worker failure ({lost} steps lost)"
    assert job.join(240), f"the run did not finish: {job.status} at {steps(job)}"
    assert job.status == Status.DONE and steps(job) == budget and job.seat.actor is not first
    assert len(job.restarts) == 1 and job.runners[0].weights().step == budget
    print(f"\nkilled at about step {start + lost}: restarted from {start}, {lost} steps lost")


def test_stackable_runs_share_a_group_actor(managers, wait_until):
    """Three students' single toy runs (RunSpecs of one stackable config each, placed STACK) train
    as members of one class-engine group actor; a pair (A vs B) gets an actor of its own. Each member finishes
    its budget with its own final checkpoint; the emptied group actor is killed (no spares here)."""
    m = managers(spares=0)
    budget = 300
    members = [m.submit(f"student-{i}", jobs.RunSpec((toy(budget, seed=i),)), label=f"run {i}") for i in range(3)]
    pair = m.submit("pair", jobs.RunSpec((toy(budget), toy(budget, seed=1))), label="A vs B")
    names = {j.seat.name for j in members}
    assert len(names) == 1 and pair.seat.name not in names and pair.seat.name.startswith("ganlab-run-")
    assert pair.seat.host.key is None and pair.seat.host.capacity == 1
    host = members[0].seat.host
    assert set(host.members) == {j.id for j in members}
    for job in members + [pair]:
        assert job.join(120), f"{job.label} did not finish: {job.status} at {steps(job)}"
        assert job.status == Status.DONE and steps(job) == budget and job.error is None
    for job in members:
        assert job.runners[0].weights().step == budget  # the final checkpoint, for the page's copy
        assert job.restarts == [] and job.seat.actor is None and job.seat.host is None
    wait_until(lambda: _gone(host.name), what="the emptied group actor to be killed")


def test_a_hidden_widths_run_first_then_classmates_all_train_in_group_actors(managers):
    """The link `?preset=ring-collapse&compare=0&g_widths=128` first, then three classmates on the preset: the
    placement (ganlab/jobs/placement.py) gives the link's run a group actor of its own shapes; every run trains."""
    m = managers(spares=0)
    budget = 40
    hidden = m.submit("hostile", jobs.RunSpec((toy(budget).replace(g_widths="128"),)), label="link")
    members = [m.submit(f"student-{i}", jobs.RunSpec((toy(budget, seed=i),)), label=f"run {i}") for i in range(3)]
    assert hidden.seat.host is not None and hidden.seat.host not in {j.seat.host for j in members}
    assert len({id(j.seat.host) for j in members}) == 1
    for job in [hidden] + members:
        assert job.join(120), f"{job.label}: {job.status} at {steps(job)}"
        assert (job.status, job.error, steps(job)) == (Status.DONE, None, budget)


def _gone(name: str) -> bool:
    try:
        ray.get_actor(name)
        return False
    except ValueError:
        return True


def test_a_killed_group_actor_restarts_every_member_from_its_checkpoint(managers, wait_until):
    """ray.kill of a group actor mid-run: every member continues alone, in an actor of its own, from its own
    newest checkpoint (saved every second here), tells its student how many steps were lost, and finishes."""
    m = managers(checkpoint_s=1.0, spares=0)
    budget = 1500
    members = [m.submit(f"student-{i}", jobs.RunSpec((toy(budget, seed=i),)), label=f"run {i}") for i in range(3)]
    wait_until(lambda: all(j.checkpoint is not None and j.checkpoint.step >= 50 for j in members), timeout=120,
               what="a first checkpoint of every member")
    group_actor, group_name = members[0].seat.actor, members[0].seat.name
    assert all(j.seat.actor is group_actor for j in members)
    wait_until(lambda: all(steps(j) > j.checkpoint.step for j in members), timeout=60,
               what="every member past its newest checkpoint (steps to lose)")
    seen = {j.id: steps(j) for j in members}
    ray.kill(group_actor)
    wait_until(lambda: all(j.restarts for j in members), timeout=30, what="the failure to be noticed")
    for job in members:
        start, lost = job.restarts[0]
        assert start >= 50 and start % 10 == 0 and lost > 0 and start + lost >= seen[job.id]
        assert job.error == f"restarted from step {start} after a worker failure ({lost} steps lost)"
    for job in members:
        assert job.join(240), f"{job.label} did not finish: {job.status} at {steps(job)}"
        assert job.status == Status.DONE and steps(job) == budget and len(job.restarts) == 1
        assert job.runners[0].weights().step == budget
    assert len({j.seat.name for j in members} - {group_name}) == 3  # each restarted alone, in an actor of its own
    print("\ngroup actor killed:", "; ".join(f"member {j.label} restarted from step {j.restarts[0][0]} "
                                            f"({j.restarts[0][1]} steps lost)" for j in members))


def run_cli(*args: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", *args, "--json", "--quiet"]) == 0
    return json.loads(out.getvalue())


def test_cli_on_ray_gives_the_local_numbers():
    args = ("--preset", "ring-collapse", "--seed", "0", "--steps", "300")
    local, remote = run_cli(*args, "--backend", "local"), run_cli(*args, "--backend", "ray")
    assert remote["status"] == local["status"] == "done" and remote["steps"] == 300
    assert remote["final"] == local["final"] and remote["metrics"] == local["metrics"]


def test_two_replicas_share_the_class(managers, wait_until):
    """Two managers with their own replica names stand for two app servers on one Ray: each lists both
    replicas' runs, nicknames set on one show on the other, the teacher's pause on one reaches the other's."""
    one, two = managers(replica="test-one"), managers(replica="test-two")
    room_one, room_two = RayClassroom(one.registry), RayClassroom(two.registry)
    a = one.submit("cleo", jobs.RunSpec((toy(100_000),)), label="on one", page="mode_collapse")
    b = two.submit("dan", jobs.RunSpec((toy(100_000),)), label="on two", page="mode_collapse")
    assert a.id != b.id
    room_one.set_nickname("cleo", "  Cleo  ")
    ids = {a.id, b.id}
    for m in (one, two):
        wait_until(lambda: ids <= {j.id for j in m.all_jobs() if j.status == Status.RUNNING}, timeout=120,
                   what="both replicas' runs listed as running")
    assert isinstance(two.get(a.id), RemoteJob) and two.get(a.id).owner == "cleo"
    for room, m in ((room_one, one), (room_two, two)):
        wait_until(lambda: {(r.owner, r.nickname) for r in room.rows(m) if r.job_id in ids and r.step > 0}
                   == {("cleo", "Cleo"), ("dan", room_one.nickname("dan"))}, timeout=30,
                   what="every run in the Class rows, with its nickname")
    assert room_two.nickname("dan").startswith("student ")
    wait_until(lambda: [r.lesson for r in room_two.rows(two) if r.job_id == a.id][0].startswith("modes "),
               what="the other replica's snapshot read from its actor")
    assert RayClassroom.pause_all(two) >= 2
    wait_until(lambda: a.status == Status.PAUSED and b.status == Status.PAUSED, what="the teacher's pause")
    room_two.announce("  look at the board  ")
    assert room_one.announcement().text == "look at the board"
    room_one.announce("")


def test_ganlab_backend_ray_gives_the_ray_manager(monkeypatch):
    monkeypatch.setenv("GANLAB_BACKEND", "ray")
    plain = classroom.classroom()
    try:
        m = jobs.manager()
        assert isinstance(m, RayJobManager) and jobs.manager() is m
        assert isinstance(classroom.classroom(), RayClassroom)
    finally:
        job_manager.manager().shutdown()  # the local kind again: the Ray one is shut down first
        classroom.install(plain)
