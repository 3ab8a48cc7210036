"""The GAN game in one dimension, computed on a grid: densities, the optimal D, the value V(D, G), JSD.

Notation (Goodfellow et al. 2014). x on a uniform grid x_0 < ... < x_{n-1}; p_data(x), p_g(x) densities on it
(shape (n,)); D(x) in [0, 1] the discriminator's probability that x is real.
    V(D, G)      = int p_data log D + int p_g log(1 - D)            (integrals: trapezoid rule on the grid)
    D*(x)        = p_data(x) / (p_data(x) + p_g(x))                 (maximises V pointwise for a fixed G)
    V(D*, G)     = -log 4 + 2 JSD(p_data || p_g)                    (Theorem 1 of the paper)
    JSD(p || q)  = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2, in nats: 0 <= JSD <= log 2.
Everything here is numpy in, numpy out (float64), so it is exact enough to check the identity to 1e-10.
"""
from __future__ import annotations

import math

import numpy as np

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


# ---- grid and densities ---------------------------------------------------------------------------------
def make_grid(lo: float = -5.0, hi: float = 5.0, n: int = 401) -> np.ndarray:
    """Uniform grid (n,) on [lo, hi]."""
    if not hi > lo or n < 3:
        raise ValueError(f"grid needs hi > lo and n >= 3 (got lo={lo}, hi={hi}, n={n})")
    return np.linspace(lo, hi, n)


def integrate(f: np.ndarray, grid: np.ndarray) -> float:
    """int f(x) dx by the trapezoid rule."""
    return float(np.trapezoid(f, grid))


def gaussian(grid: np.ndarray, mean: float, std: float) -> np.ndarray:
    """N(x; mean, std^2) = exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi))."""
    return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * _SQRT_2PI)


def mixture(grid: np.ndarray, means, stds, weights=None) -> np.ndarray:
    """sum_k w_k N(x; mu_k, sigma_k^2); weights are normalised to sum to 1 (equal when None)."""
    means, stds = np.atleast_1d(np.asarray(means, float)), np.atleast_1d(np.asarray(stds, float))
    w = np.ones_like(means) if weights is None else np.atleast_1d(np.asarray(weights, float))
    w = w / w.sum()
    return sum(wk * gaussian(grid, m, s) for wk, m, s in zip(w, means, np.broadcast_to(stds, means.shape)))


def uniform(grid: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """U[lo, hi]: 1 / (hi - lo) inside, 0 outside (used for densities with disjoint supports)."""
    return np.where((grid >= lo) & (grid <= hi), 1.0 / (hi - lo), 0.0)


def normalize(p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Rescale p so that int p = 1 on the grid (removes the mass the grid's ends cut off)."""
    mass = integrate(p, grid)
    if not mass > 0:
        raise ValueError("density has no mass on the grid; widen the grid")
    return p / mass


def silverman_bandwidth(samples: np.ndarray) -> float:
    """h = 0.9 min(sigma, IQR / 1.34) n^(-1/5) (Silverman's rule of thumb)."""
    x = np.asarray(samples, float).ravel()
    sigma = x.std()
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    spread = min(sigma, iqr / 1.34) if iqr > 0 else sigma
    return max(0.9 * spread * len(x) ** -0.2, 1e-3)


def kde(samples: np.ndarray, grid: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D samples (N,) on a uniform grid (n,): 1/N sum_i N(x; x_i, h^2).

    Binned KDE: each sample's unit mass is split linearly between its two neighbouring nodes of the grid
    (extended by 5h on each side, so samples just off the plot still spill in), then convolved with the
    kernel sampled at the grid spacing. O(N + n h/dx) instead of O(N n). dx <= h <= the grid's span (the grid
    cannot show anything narrower; a wider kernel is flat across it anyway): the padding, 5h/dx nodes a side,
    stays within 5 grid lengths however far a diverging G throws its samples (Silverman's h of samples at 1e8
    would otherwise ask for 1e10 nodes). Samples further out than 5h contribute nothing: the result integrates
    to the share of the mass that lies on the grid (1 when G stays inside the plotted range).
    """
    x = np.asarray(samples, float).ravel()
    n, dx = len(grid), float(grid[1] - grid[0])
    span, finite = dx * (n - 1), x[np.isfinite(x)]
    with np.errstate(over="ignore", invalid="ignore"):  # samples near the float limits: h or pos is inf, handled
        h = float(bandwidth) if bandwidth is not None else silverman_bandwidth(finite) if len(finite) > 1 else span
        h = min(max(h, dx), span) if math.isfinite(h) else span
        pad = int(math.ceil(5 * h / dx))  # <= 5 (n - 1)
        pos = (x - grid[0]) / dx + pad  # fractional index on the extended grid of n + 2 pad nodes
    pos = pos[(pos >= 0) & (pos <= n - 1 + 2 * pad)]
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    size = n + 2 * pad + 1
    counts = np.bincount(i0, 1 - frac, size) + np.bincount(i0 + 1, frac, size)  # (n + 2 pad + 1,)
    kernel = np.exp(-0.5 * (np.arange(-pad, pad + 1) * dx / h) ** 2)  # (2 pad + 1,)
    kernel /= kernel.sum() * dx  # a discrete density: sums to 1 / dx, so each sample adds mass 1
    return np.convolve(counts, kernel, mode="valid")[:n] / max(len(x), 1)  # node j of the grid = j + pad


def histogram_density(samples: np.ndarray, grid: np.ndarray, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the samples over the grid's range, as a density: (bin centres (bins,), heights (bins,))."""
    heights, edges = np.histogram(np.asarray(samples, float).ravel(), bins=bins, range=(grid[0], grid[-1]),
                                  density=False)
    width = edges[1] - edges[0]
    total = max(len(np.asarray(samples).ravel()), 1)
    return 0.5 * (edges[:-1] + edges[1:]), heights / (total * width)


# ---- the game ---------------------------------------------------------------------------------------------
def optimal_d(p_data: np.ndarray, p_g: np.ndarray, eps: float = 1e-300) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g). Where both densities are 0 every D is optimal; we take D* = 1/2."""
    total = p_data + p_g
    return np.where(total > eps, p_data / np.maximum(total, eps), 0.5)


def _xlogy(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p log y with the convention 0 log 0 = 0 (and p log 0 = -inf for p > 0, as the maths says)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, y, 1.0)), 0.0)


def value(D: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, grid: np.ndarray) -> float:
    """V(D, G) = int p_data(x) log D(x) dx + int p_g(x) log(1 - D(x)) dx. <= 0; max over D is V(D*, G)."""
    # D is clipped to [tiny, 1 - 2^-53]: a D that rounds to exactly 1 (e.g. D* where p_g / p_data < 1e-16)
    # would otherwise give p_g * log 0 = -inf from a term whose true value is ~1e-15.
    D = np.clip(np.asarray(D, float), np.finfo(float).tiny, np.nextafter(1.0, 0.0))
    return integrate(_xlogy(p_data, D) + _xlogy(p_g, 1.0 - D), grid)


def kl(p: np.ndarray, q: np.ndarray, grid: np.ndarray) -> float:
    """KL(p || q) = int p log(p / q) (inf when p has mass where q has none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return integrate(_xlogy(p, p) - _xlogy(p, q), grid)


def jsd(p: np.ndarray, q: np.ndarray, grid: np.ndarray) -> float:
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2. 0 iff p = q; log 2 for disjoint supports."""
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m, grid) + 0.5 * kl(q, m, grid)


def value_at_optimum_identity(jsd_value: float) -> float:
    """-log 4 + 2 JSD: the paper's closed form of V(D*, G)."""
    return -LOG4 + 2.0 * jsd_value


def support_mask(p_data: np.ndarray, p_g: np.ndarray, frac: float = 0.02) -> np.ndarray:
    """Grid points where the two densities together carry real mass: p_data + p_g >= frac * max."""
    total = p_data + p_g
    return total >= frac * total.max()


# ---- why the non-saturating loss exists ---------------------------------------------------------------------
# G's per-sample loss as a function of d = D(G(z)) = sigmoid(s), s = D's logit. G's gradient reaches its
# weights through s: dL/dtheta = dL/ds * ds/dx * dx/dtheta, so dL/ds is the factor that can vanish.
#   saturating      L = log(1 - d)   dL/dd = -1 / (1 - d)   dL/ds = -d        -> 0 as d -> 0 (D wins early)
#   non-saturating  L = -log d       dL/dd = -1 / d         dL/ds = -(1 - d)  -> -1 as d -> 0 (strong signal)
def saturating_loss(d: np.ndarray) -> np.ndarray:
    return np.log1p(-np.asarray(d, float))


def non_saturating_loss(d: np.ndarray) -> np.ndarray:
    return -np.log(np.asarray(d, float))


def saturating_grad_d(d: np.ndarray) -> np.ndarray:
    """d/dd log(1 - d) = -1 / (1 - d)."""
    return -1.0 / (1.0 - np.asarray(d, float))


def non_saturating_grad_d(d: np.ndarray) -> np.ndarray:
    """d/dd (-log d) = -1 / d."""
    return -1.0 / np.asarray(d, float)


def saturating_grad_logit(d: np.ndarray) -> np.ndarray:
    """d/ds log(1 - sigmoid(s)) = -sigmoid(s) = -d."""
    return -np.asarray(d, float)


def non_saturating_grad_logit(d: np.ndarray) -> np.ndarray:
    """d/ds (-log sigmoid(s)) = -(1 - sigmoid(s)) = d - 1."""
    return np.asarray(d, float) - 1.0
