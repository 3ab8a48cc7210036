"""Sample-quality metrics as pure functions over arrays.

Toy mixtures (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018), on K generated samples:
  high quality  : distance to the nearest centre <= 3 std
  modes_captured: centres that are the nearest centre of >= 1 high-quality sample
  high_quality_frac: share of high-quality samples
  reverse_kl    : KL(p_hat || U) = sum_k p_hat_k log(p_hat_k * M), p_hat = histogram of high-quality samples
                  over the M modes; 0 = perfectly balanced, log M = everything on one mode.
                  With no high-quality sample at all it is reported as log M (as bad as one mode).
"""
from __future__ import annotations

import numpy as np


def mode_counts(samples: np.ndarray, centers: np.ndarray, std: float) -> tuple[np.ndarray, int]:
    """(M,) high-quality samples per mode, and K. Non-finite samples count as low quality."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1, 2)  # (K, 2)
    c = np.asarray(centers, dtype=np.float64)  # (M, 2)
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)  # (K, M) squared distances
    d2[~np.isfinite(x).all(1)] = np.inf
    nearest = d2.argmin(1)  # (K,)
    hq = np.sqrt(d2[np.arange(len(x)), nearest]) <= 3 * std  # (K,)
    return np.bincount(nearest[hq], minlength=len(c)), len(x)


def mode_stats(samples: np.ndarray, centers: np.ndarray, std: float) -> dict[str, float]:
    counts, k = mode_counts(samples, centers, std)
    m, n_hq = len(counts), int(counts.sum())
    if n_hq:
        p = counts[counts > 0] / n_hq
        rkl = float((p * np.log(p * m)).sum())
    else:
        rkl = float(np.log(m))
    return {"modes_captured": int((counts > 0).sum()), "n_modes": m,
            "high_quality_frac": n_hq / max(k, 1), "reverse_kl": max(rkl, 0.0)}
