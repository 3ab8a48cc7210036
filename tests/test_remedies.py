"""Each loss and remedy is written once: the single-run Trainer and the class engine (a stack of toy runs) call the
same functions (ganlab/losses.py, ganlab/engine/remedies.py), over one run's batch or a stack's (R, B, ...).
That the numbers are the same is tests/test_batched.py's job; here: the same code runs, and the shared functions
give one run's value for each member of a stack."""
from __future__ import annotations

import pytest
import torch

from ganlab import losses
from ganlab.config import TrainConfig
from ganlab.engine import remedies
from ganlab.engine.batched import ClassEngine
from ganlab.engine.trainer import Trainer

SMALL = TrainConfig(data="ring", z_dim=4, g_width=16, g_depth=2, d_width=16, d_depth=2, batch_size=32,
                    steps=1000, log_every=5, device="cpu")


@pytest.mark.parametrize("name,changes", [
    ("gradient_penalty", dict(loss="wgan_gp")),
    ("r1_penalty", dict(loss="hinge", r1_gamma=1.0)),
    ("unrolled_d", dict(unrolled_steps=2)),
    ("clip_weights_", dict(loss="wgan", clip_value=0.05)),
])
def test_trainer_and_class_engine_call_the_same_remedy(monkeypatch, name, changes):
    """A remedy's one implementation is what both training loops execute: a spy in its place sees a call from the
    Trainer's step and one from the class engine's stacked step (a second implementation would bypass it)."""
    module = losses if hasattr(losses, name) else remedies
    real = getattr(module, name)
    calls: list[str] = []

    def spy(*args, **kwargs):
        calls.append(who)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    config = SMALL.replace(**changes)
    who = "trainer"
    Trainer(config).step(1)
    who = "engine"
    engine = ClassEngine()
    engine.add(config)
    engine.add(config.replace(seed=1))
    engine.step(1)
    assert "trainer" in calls and "engine" in calls, f"{name}: called by {sorted(set(calls))}"


def test_penalties_over_a_stack_are_each_members_own():
    """A stack of R linear critics D_r(x) = x . w_r: the gradient is w_r at every x, so WGAN-GP's penalty is
    (|w_r| - 1)^2 and R1's is |w_r|^2 for member r, whatever eps and the samples are; and a stack of one gives the
    single run's value bit for bit (same draws of eps from the global RNG)."""
    w = torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.0, 2.0]])  # |w| = 5, 1, 2
    real, fake = torch.randn(3, 16, 2), torch.randn(3, 16, 2)

    def D(x):  # (R, B, 2) -> (R, B, 1)
        return (x * w[:, None, :]).sum(-1, keepdim=True)

    torch.testing.assert_close(losses.gradient_penalty(D, real, fake, batch_dims=2), torch.tensor([16.0, 0.0, 1.0]))
    torch.testing.assert_close(losses.r1_penalty(D, real, batch_dims=2), torch.tensor([25.0, 1.0, 4.0]))

    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    torch.manual_seed(3)
    one = losses.gradient_penalty(net, real[0], fake[0])
    torch.manual_seed(3)
    stack = losses.gradient_penalty(net, real[:1], fake[:1], batch_dims=2)
    assert stack.shape == (1,) and torch.equal(stack[0], one)
    assert torch.equal(losses.r1_penalty(net, real[:1], batch_dims=2)[0], losses.r1_penalty(net, real[0]))


def test_clipping_per_member():
    """One bound per member of a stack (inf: that member is not clipped); a float bound for one run."""
    W = torch.full((3, 2, 2), 0.5)
    b = torch.full((3, 2), -0.5)
    remedies.clip_weights_([W, b], torch.tensor([0.1, float("inf"), 0.3]))
    assert W[:, 0, 0].tolist() == pytest.approx([0.1, 0.5, 0.3])
    assert b[:, 0].tolist() == pytest.approx([-0.1, -0.5, -0.3])
    w = torch.tensor([2.0, -2.0, 0.01])
    remedies.clip_weights_([w], 0.05)
    assert w.tolist() == pytest.approx([0.05, -0.05, 0.01])


def test_unrolled_d_is_sgd_with_its_graph_and_a_learning_rate_per_member():
    """theta^{j+1} = theta^j - eta_j grad L(theta^j), kept differentiable; eta = 0 freezes a member."""
    theta = torch.tensor([[1.0], [1.0]], requires_grad=True)  # 2 members, one weight each
    x = torch.tensor([[2.0], [3.0]])

    def loss_at(j, params):  # L_r = (theta_r x_r)^2 / 2: gradient theta_r x_r^2
        return (params[0] * x).pow(2).sum() / 2

    (after,) = remedies.unrolled_d([theta], loss_at, [torch.tensor([0.1, 0.0]), torch.tensor([0.1, 0.0])])
    # member 0: theta <- theta (1 - 0.1 * 4) twice = 0.36; member 1 keeps 1
    torch.testing.assert_close(after.detach(), torch.tensor([[0.36], [1.0]]))
    (g,) = torch.autograd.grad(after.sum(), theta)  # d theta^2 / d theta^0 = (1 - eta x^2)^2
    torch.testing.assert_close(g, torch.tensor([[0.36], [1.0]]))
    (single,) = remedies.unrolled_d([torch.tensor([1.0], requires_grad=True)],
                                    lambda j, p: (p[0] * 2.0).pow(2).sum() / 2, [0.1, 0.1])
    torch.testing.assert_close(single.detach(), torch.tensor([0.36]))


def test_show_the_code_shows_the_step_a_run_executes(monkeypatch):
    """The Mode collapse page's "Show the code": a single stackable run trains in the class engine, so its step is
    shown (with the shared remedies it calls); A vs B, or with stacking off, the Trainer's."""
    from types import SimpleNamespace

    from ganlab import jobs
    from ganlab.presets import PRESETS
    from ganlab.ui.code import qualified_name
    from ganlab.ui.mode_collapse import views

    fixed = PRESETS["ring-collapse"].config.replace(unrolled_steps=5)  # unrolled D (Lesson 2's step)
    wgan = fixed.replace(loss="wgan", unrolled_steps=0)
    names = [qualified_name(f) for f in views.code_objects([fixed, wgan], stacked=True)]
    assert "ganlab.engine.batched.engine.ClassEngine._train_step" in names
    assert {"ganlab.engine.batched.engine.ClassEngine._unrolled_scores", "ganlab.engine.remedies.unrolled_d",
            "ganlab.engine.remedies.clip_weights_"} <= set(names)
    assert not any("Trainer" in n for n in names)
    names = [qualified_name(f) for f in views.code_objects([fixed])]
    assert "ganlab.engine.trainer.Trainer._train_step" in names and "ganlab.engine.remedies.unrolled_d" in names
    monkeypatch.setattr(jobs, "manager", lambda: SimpleNamespace(stacking=True))
    assert views.trains_stacked([fixed]) and not views.trains_stacked([fixed, fixed])
    assert not views.trains_stacked([fixed.replace(optimizer="rmsprop")])  # the class engine refuses it
    monkeypatch.setattr(jobs, "manager", lambda: SimpleNamespace(stacking=False))
    assert not views.trains_stacked([fixed])
