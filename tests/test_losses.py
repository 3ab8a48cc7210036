"""Each loss equals its textbook formula, written with probabilities D = sigmoid(score) and nn.BCELoss."""
import math

import pytest
import torch
from torch import nn

from ganlab import losses

torch.manual_seed(0)
R = torch.randn(64, 1) * 2  # raw scores on real data
F_ = torch.randn(64, 1) * 2  # raw scores on generated data
bce = nn.BCELoss()


def close(a, b):
    assert torch.allclose(a, b, atol=1e-5), (float(a), float(b))


def test_minimax_d_is_bce_sum():
    ref = bce(torch.sigmoid(R), torch.ones_like(R)) + bce(torch.sigmoid(F_), torch.zeros_like(F_))
    close(losses.minimax_d(R, F_), ref)


def test_one_sided_label_smoothing():
    y = 0.9
    d = torch.sigmoid(R)
    ref = -(y * torch.log(d) + (1 - y) * torch.log(1 - d)).mean() - torch.log(1 - torch.sigmoid(F_)).mean()
    close(losses.minimax_d(R, F_, y), ref)


def test_saturating_g():
    close(losses.minimax_g(F_), torch.log(1 - torch.sigmoid(F_)).mean())


def test_non_saturating_g():
    close(losses.non_saturating_g(F_), -torch.log(torch.sigmoid(F_)).mean())


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    f = torch.full((8, 1), -6.0, requires_grad=True)  # D(G(z)) = sigmoid(-6) ~ 0.0025: D wins
    (gs,) = torch.autograd.grad(losses.minimax_g(f), f)
    (gn,) = torch.autograd.grad(losses.non_saturating_g(f), f)
    assert gs.abs().max() < 0.01 * gn.abs().max()


def test_lsgan():
    close(losses.lsgan_d(R, F_), 0.5 * ((R - 1) ** 2).mean() + 0.5 * (F_**2).mean())
    close(losses.lsgan_g(F_), 0.5 * ((F_ - 1) ** 2).mean())


def test_hinge():
    close(losses.hinge_d(R, F_), torch.clamp(1 - R, min=0).mean() + torch.clamp(1 + F_, min=0).mean())
    close(losses.critic_g(F_), -F_.mean())


def test_wasserstein():
    close(losses.wasserstein_d(R, F_), F_.mean() - R.mean())


def test_gradient_penalty_linear_critic():
    """For D(x) = w.x the gradient is w everywhere, so the penalty is exactly (||w|| - 1)^2."""
    w = torch.tensor([[3.0, 4.0]])
    D = lambda x: x @ w.T  # noqa: E731
    gp = losses.gradient_penalty(D, torch.randn(32, 2), torch.randn(32, 2))
    close(gp, torch.tensor((5.0 - 1) ** 2))


def test_r1_linear_critic():
    w = torch.tensor([[3.0, 4.0]])
    close(losses.r1_penalty(lambda x: x @ w.T, torch.randn(32, 2)), torch.tensor(25.0))


def test_stable_when_d_is_certain():
    big = torch.full((4, 1), 80.0)
    for key, loss in losses.LOSSES.items():
        assert math.isfinite(float(loss.d_loss(big, -big, 1.0))), key
        assert math.isfinite(float(loss.g_loss(-big))), key


def test_registry_and_unknown_key():
    assert set(losses.LOSSES) == {"minimax", "non_saturating", "lsgan", "hinge", "wgan", "wgan_gp"}
    assert losses.get("wgan").clip_weights and losses.get("wgan_gp").gradient_penalty
    with pytest.raises(KeyError, match="unknown loss"):
        losses.get("nope")


# ---- the VAE's ELBO terms --------------------------------------------------------------------------------
def test_bernoulli_nll_is_summed_binary_cross_entropy():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(5, 1, 4, 4, generator=g) * 3
    x = torch.rand(5, 1, 4, 4, generator=g)  # targets in [0, 1]
    p = torch.sigmoid(logits)
    ref = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)  # -log p(x | z) per image
    got = losses.bernoulli_nll(logits, x)
    assert got.shape == (5,)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-4)


def test_gaussian_kl_matches_the_closed_form_and_a_monte_carlo_estimate():
    g = torch.Generator().manual_seed(2)
    mu, logvar = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g) * 0.5
    var = logvar.exp()
    # KL(N(mu, var) || N(0, 1)) per dimension = log(1 / sigma) + (var + mu^2) / 2 - 1/2
    ref = (-0.5 * logvar + 0.5 * (var + mu**2) - 0.5).sum(1)
    torch.testing.assert_close(losses.gaussian_kl(mu, logvar), ref)
    q = torch.distributions.Normal(mu, var.sqrt())
    z = q.sample((20000,))  # E_q[log q(z) - log p(z)]
    mc = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).sum(-1).mean(0)
    torch.testing.assert_close(losses.gaussian_kl(mu, logvar), mc, rtol=0.05, atol=0.05)
    assert float(losses.gaussian_kl(torch.zeros(1, 4), torch.zeros(1, 4))) == 0.0  # q = p
