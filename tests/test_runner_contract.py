"""The Runner protocol (ganlab/jobs/runner.py) declares what pages read of a run, every runner implements it, and no
page reaches past it into a Trainer."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from ganlab import checkpoint
from ganlab.config import TrainConfig
from ganlab.engine.batched import ClassEngine
from ganlab.engine.batched.runner import MemberRunner
from ganlab.engine.runner import TrainerRunner
from ganlab.engine.weights import RunWeights
from ganlab.jobs.polled import PolledRunner
from ganlab.jobs.runner import Runner
from ganlab.theory.config import TheoryConfig
from ganlab.theory.trainer import Theory1D

REPO = Path(__file__).resolve().parents[1]
TOY = TrainConfig(data="ring", z_dim=4, g_width=16, g_depth=2, d_width=16, d_depth=2, batch_size=32, steps=40,
                  log_every=10, g_ema=0.9, device="cpu")
PROTOCOL = sorted(n for n in vars(Runner) if not n.startswith("_"))


def test_the_protocol_declares_what_pages_read():
    assert {"config", "weights", "checkpoint", "snapshot", "apply", "step_count", "status"} <= set(PROTOCOL)


def _member(config: TrainConfig) -> MemberRunner:
    engine = ClassEngine()
    engine.add(config.replace(seed=7))  # a neighbour: the member's rows are not the stack's only ones
    return MemberRunner.add(engine, config)


@pytest.mark.parametrize("make", [lambda: TrainerRunner(TOY), lambda: _member(TOY), lambda: Theory1D(TheoryConfig()),
                                  lambda: PolledRunner],
                         ids=["in-process", "stacked-member", "1d-game", "another-process"])
def test_every_runner_implements_the_whole_protocol(make):
    """In this process, stacked, the 1-D game (instances), in another process (the training process or a Ray
    actor: one class, no process or Ray started) each define every member of the protocol."""
    runner = make()
    missing = [n for n in PROTOCOL if not hasattr(runner, n)]
    assert not missing, f"{runner} lacks {missing}"


@pytest.mark.parametrize("make", [TrainerRunner, _member], ids=["in-process", "stacked-member"])
def test_weights_are_private_copies_while_the_run_trains_and_the_run_itself_after(make):
    r = make(TOY)
    assert isinstance(r, Runner)
    r.step(20)
    w = r.weights()
    assert isinstance(w, RunWeights) and w.step == 20 and w.config == TOY and w.encoder is None
    assert w.real.shape == (1000, 2) and not w.G.training
    assert r.weights() is w  # nothing moved: the same copy
    z = torch.randn(8, TOY.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = w.G(z)
    r.step(10)
    w2 = r.weights()
    with torch.no_grad():
        assert torch.equal(w.G(z), before)  # the copy stays as it was while the run trains on
        assert w2.step == 30 and not torch.equal(w2.G(z), before)
    r.step(10)
    r.park()
    done = r.weights()
    assert done.step == 40 and r.weights().G is done.G  # parked: its own modules, no copy


@pytest.mark.parametrize("make", [TrainerRunner, _member], ids=["in-process", "stacked-member"])
def test_checkpoint_loads_back_as_the_run(make):
    """A stacked member saves too (before, only a runner with a Trainer could: the training process reached into
    the member's engine to save one)."""
    r = make(TOY)
    r.step(20)
    run = checkpoint.load(r.checkpoint())
    assert run.step == 20 and run.config == TOY
    z = torch.randn(8, TOY.z_dim)
    with torch.no_grad():
        torch.testing.assert_close(run.make_generator()(z), r.weights().G(z), rtol=0, atol=0)


def test_the_1d_game_has_no_weights_to_show():
    r = Theory1D(TheoryConfig())
    assert isinstance(r, Runner) and r.weights() is None and r.checkpoint() is None


def _reaches_into_a_trainer(path: Path) -> list[str]:
    """`x.trainer`, `getattr(x, "trainer", ...)` in a file: a runner's insides."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "trainer":
            out.append(f"{path.relative_to(REPO)}:{node.lineno}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "trainer"):
            out.append(f"{path.relative_to(REPO)}:{node.lineno}")
    return out


def test_no_page_reaches_into_a_trainer():
    files = sorted((REPO / "pages").glob("*.py")) + sorted((REPO / "ganlab" / "ui").rglob("*.py"))
    assert len(files) > 10
    found = [hit for f in files for hit in _reaches_into_a_trainer(f)]
    assert not found, "pages read a runner's trainer (use the Runner protocol: weights(), checkpoint()): " + str(found)


@pytest.mark.parametrize("make", [TrainerRunner, _member], ids=["in-process", "stacked-member"])
def test_holds_networks_answers_without_copying_them(make, monkeypatch):
    """The Latent space page lists a student's runs on every full rerun: asking whether a run holds networks
    must not copy them (a live run's copy is a deepcopy of G, a member's takes the class engine's lock)."""
    from ganlab.engine import runner as engine_runner
    from ganlab.engine.batched import runner as member_runner

    r = make(TOY)
    r.step(10)
    copies = []
    for mod in (engine_runner, member_runner):
        monkeypatch.setattr(mod, "weights_of", lambda *a, **k: copies.append(1))
    assert r.holds_networks() and not copies
    assert not Theory1D(TheoryConfig()).holds_networks()
