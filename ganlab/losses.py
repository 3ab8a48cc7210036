"""GAN losses: small pure functions of the discriminator's raw outputs, chosen by a stable key.

Notation. D's network returns a raw score s (a logit for the probabilistic losses, a critic value for the
Wasserstein ones). D(x) = sigmoid(s). r = scores on a real batch, f = scores on a generated batch, both (B, 1).
We use log sigmoid(s) = -softplus(-s) and log(1 - sigmoid(s)) = -softplus(s): the same numbers as the
textbook formulas, without log(0) when D is confident.
Each loss is (d_loss(r, f, real_label), g_loss(f)); both are minimised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlab.i18n import N_


def minimax_d(r: Tensor, f: Tensor, real_label: float = 1.0) -> Tensor:
    """-E[y log D(x) + (1-y) log(1-D(x))] - E[log(1 - D(G(z)))], y = real label (0.9 = one-sided smoothing)."""
    y = real_label
    real = F.softplus(-r).mean() if y == 1.0 else (y * F.softplus(-r) + (1 - y) * F.softplus(r)).mean()
    return real + F.softplus(f).mean()  # y = 1: the (1 - y) term is exactly 0 and not computed


def minimax_g(f: Tensor) -> Tensor:
    """Saturating: G minimises E[log(1 - D(G(z)))]; its gradient vanishes when D(G(z)) -> 0 (early training)."""
    return -F.softplus(f).mean()


def non_saturating_g(f: Tensor) -> Tensor:
    """Non-saturating: G minimises -E[log D(G(z))]; strong gradient exactly where the saturating one is flat."""
    return F.softplus(-f).mean()


def lsgan_d(r: Tensor, f: Tensor, real_label: float = 1.0) -> Tensor:
    """Least squares (Mao et al. 2017): 1/2 E[(D(x) - y)^2] + 1/2 E[D(G(z))^2] on raw scores."""
    return 0.5 * (r - real_label).pow(2).mean() + 0.5 * f.pow(2).mean()


def lsgan_g(f: Tensor) -> Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * (f - 1).pow(2).mean()


def hinge_d(r: Tensor, f: Tensor, real_label: float = 1.0) -> Tensor:
    """Hinge (Lim & Ye 2017; SAGAN): E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - r).mean() + F.relu(1 + f).mean()


def critic_g(f: Tensor) -> Tensor:
    """Hinge and Wasserstein generator: -E[D(G(z))]."""
    return -f.mean()


def wasserstein_d(r: Tensor, f: Tensor, real_label: float = 1.0) -> Tensor:
    """WGAN critic (Arjovsky et al. 2017): E[D(G(z))] - E[D(x)], the negated Wasserstein-1 estimate."""
    return f.mean() - r.mean()


@dataclass(frozen=True)
class Loss:
    key: str
    label: str  # an English msgid (ganlab.i18n): pages show _(label)
    d_loss: Callable[[Tensor, Tensor, float], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    formula: str  # LaTeX for D and G, shown on the pages
    clip_weights: bool = False  # WGAN: clip D's weights to [-c, c] after each D step
    gradient_penalty: bool = False  # WGAN-GP: lambda * E[(||grad D(x_hat)|| - 1)^2]
    probabilistic: bool = True  # sigmoid(score) is D's probability that the input is real


LOSSES: dict[str, Loss] = {
    loss.key: loss
    for loss in (
        Loss("minimax", N_("Minimax (saturating)"), minimax_d, minimax_g,
             r"\max_D \mathbb{E}[\log D(x)] + \mathbb{E}[\log(1-D(G(z)))] \quad"
             r"\min_G \mathbb{E}[\log(1-D(G(z)))]"),
        Loss("non_saturating", N_("Non-saturating"), minimax_d, non_saturating_g,
             r"\max_D \mathbb{E}[\log D(x)] + \mathbb{E}[\log(1-D(G(z)))] \quad"
             r"\min_G -\mathbb{E}[\log D(G(z))]"),
        Loss("lsgan", N_("Least squares (LSGAN)"), lsgan_d, lsgan_g,
             r"\min_D \tfrac12\mathbb{E}[(D(x)-1)^2] + \tfrac12\mathbb{E}[D(G(z))^2] \quad"
             r"\min_G \tfrac12\mathbb{E}[(D(G(z))-1)^2]", probabilistic=False),
        Loss("hinge", N_("Hinge"), hinge_d, critic_g,
             r"\min_D \mathbb{E}[\max(0,1-D(x))] + \mathbb{E}[\max(0,1+D(G(z)))] \quad"
             r"\min_G -\mathbb{E}[D(G(z))]", probabilistic=False),
        Loss("wgan", N_("WGAN (weight clipping)"), wasserstein_d, critic_g,
             r"\min_{D,\ |w|\le c} \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)] \quad \min_G -\mathbb{E}[D(G(z))]",
             clip_weights=True, probabilistic=False),
        Loss("wgan_gp", N_("WGAN-GP"), wasserstein_d, critic_g,
             r"\min_D \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]"
             r" + \lambda\,\mathbb{E}[(\|\nabla_{\hat x} D(\hat x)\|_2-1)^2]"
             r"\quad \min_G -\mathbb{E}[D(G(z))]",
             gradient_penalty=True, probabilistic=False),
    )
}


def get(key: str) -> Loss:
    try:
        return LOSSES[key]
    except KeyError:
        raise KeyError(f"unknown loss {key!r}; choose one of {', '.join(LOSSES)}") from None


# ---- penalties on D's input gradient: one implementation for a single run and for a stack of runs ------------
# `batch_dims` says how many leading dims index samples: 1 for one run's batch (B, ...), 2 for a class engine's
# stack of R members (R, B, ...) (ganlab/engine/batched/). Each sample's gradient norm is taken over the dims after
# them, the mean over the batch dim (the last of them): a scalar for one run, (R,) (one penalty per member) for a
# stack. D maps x of that shape to its scores.
def gradient_penalty(D: Callable[..., Tensor], real: Tensor, fake: Tensor, *d_args, batch_dims: int = 1) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad_x_hat D(x_hat)||_2 - 1)^2], x_hat = eps x + (1 - eps) G(z).

    real, fake: (B, ...) or (R, B, ...); eps ~ U[0, 1] per sample from the global RNG (torch.manual_seed pins it),
    broadcast over the sample's other dims.
    """
    eps = torch.rand(real.shape[:batch_dims] + (1,) * (real.dim() - batch_dims), device=real.device,
                     dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat, *d_args).sum(), x_hat, create_graph=True)
    return (grad.flatten(batch_dims).norm(dim=-1) - 1).pow(2).mean(-1)


def r1_penalty(D: Callable[..., Tensor], real: Tensor, *d_args, batch_dims: int = 1) -> Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real data; the caller multiplies by gamma / 2."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, *d_args).sum(), x, create_graph=True)
    return grad.flatten(batch_dims).pow(2).sum(-1).mean(-1)


# ---- VAE: the two terms of the ELBO (ganlab/engine/vae.py) -----------------------------------------------
# log p(x) >= ELBO = E_q(z|x)[log p(x | z)] - KL(q(z | x) || p(z)); the VAE minimises -ELBO = recon + kl.
def bernoulli_nll(logits: Tensor, target: Tensor) -> Tensor:
    """Reconstruction term -log p(x | z) per image, (B, ...) -> (B,): pixels are Bernoulli with mean
    p = sigmoid(l) and x in [0, 1]; -[x log p + (1 - x) log(1 - p)] = softplus(l) - x l, summed over pixels."""
    return (F.softplus(logits) - target * logits).flatten(1).sum(1)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per image, (B, d) -> (B,):
    1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), with logvar = log sigma^2."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
