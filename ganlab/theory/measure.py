"""From samples of G and D's logits to the paper's numbers, and the snapshot a page draws (plain numpy).

`measure` is pure numpy: the runner hands it G's samples and D's logits (on the grid and on the samples).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import ganlab.theory.math1d as m1
from ganlab.theory.config import TheoryConfig

_F32 = np.float32


def sigmoid(s: np.ndarray) -> np.ndarray:
    """sigmoid in float64 via tanh (no overflow); rounds to exactly 0 / 1 only for |s| > ~37."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(s, float)))


@dataclass(frozen=True)
class Measures:
    gz: np.ndarray  # (N,) samples of p_g
    p_g: np.ndarray  # (n,) KDE on the grid, integrating to 1 - mass_out
    d: np.ndarray  # (n,) learned D(x)
    d_star: np.ndarray  # (n,)
    gz_line: np.ndarray  # (k,) G on the mapping z's
    v_d: float
    v_star: float
    jsd: float
    identity: float
    mass_out: float


def measure(grid: np.ndarray, p_data: np.ndarray, gz: np.ndarray, logit_grid: np.ndarray, logit_off: np.ndarray,
            gz_line: np.ndarray) -> Measures:
    """p_g by KDE of gz; D = sigmoid(logit); V(D, G), V(D*, G), JSD and -log 4 + 2 JSD.

    gz (N,) samples of G; logit_grid (n,) D's logits on the grid; logit_off D's logits on the samples of gz
    that lie off the grid (gz < lo or gz > hi, in order).

    G's mass off the plotted range [lo, hi] (where p_data = 0: the data density is truncated to the grid)
    is accounted for exactly: there D* = 0, so V(D*, G) gets nothing from it; V(D, G) gets
    E[log(1 - D(x)); x off-grid] (Monte Carlo over gz); JSD gets 1/2 int_out p_g log(p_g / (p_g / 2)) =
    1/2 log 2 * mass_out. With these terms V(D*, G) = -log 4 + 2 JSD holds even while G wanders off the picture.
    """
    d = sigmoid(logit_grid)
    if not np.isfinite(gz).all():
        nan = np.full_like(grid, np.nan)
        return Measures(gz, nan, d, nan, gz_line, *(float("nan"),) * 5)
    out = (gz < grid[0]) | (gz > grid[-1])
    mass_out = float(out.mean())
    p_g = m1.kde(gz, grid)
    on_grid = m1.integrate(p_g, grid)
    if on_grid > 0:
        p_g = p_g * ((1.0 - mass_out) / on_grid)
    d_star = m1.optimal_d(p_data, p_g)
    j = m1.jsd(p_data, p_g, grid) + 0.5 * m1.LOG2 * mass_out
    if len(logit_off) != int(out.sum()):
        raise ValueError(f"logit_off has {len(logit_off)} values for {int(out.sum())} off-grid samples")
    v_out = float(-np.logaddexp(0.0, logit_off).sum() / len(gz))  # log(1 - sigmoid(s)) = -softplus(s)
    return Measures(gz, p_g, d, d_star, gz_line, v_d=m1.value(d, p_data, p_g, grid) + v_out,
                    v_star=m1.value(d_star, p_data, p_g, grid), jsd=j, identity=m1.value_at_optimum_identity(j),
                    mass_out=mass_out)


@dataclass(frozen=True)
class TheorySnapshot:
    """Plain numpy (float32) picture of the game at one moment; safe to hand to another thread."""
    config: TheoryConfig
    step: int  # G updates so far
    d_only_steps: int  # D updates made with G frozen ("train D to optimum")
    status: str  # 'ready' | 'diverged'
    diverged_at: int | None
    seconds: float
    grid: np.ndarray  # (n,)
    p_data: np.ndarray  # (n,)
    p_g: np.ndarray  # (n,) KDE of G(z) on the grid
    d: np.ndarray  # (n,) learned D(x) = sigmoid(logit)
    d_star: np.ndarray  # (n,) p_data / (p_data + p_g)
    z_line: np.ndarray  # (k,) z (first coordinate) ...
    gz_line: np.ndarray  # (k,) ... and G(z)
    batch_dgz: np.ndarray  # (<= 256,) D(G(z)) on the batch G last learned from
    v_d: float  # V(D, G)
    v_star: float  # V(D*, G)
    jsd: float  # JSD(p_data || p_g), nats
    identity: float  # -log 4 + 2 JSD (= v_star, Theorem 1)
    mass_out: float  # share of G's samples outside the plotted range
    history: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def loss(self) -> str:
        return self.config.loss

    @property
    def max_d_error(self) -> float:
        """max |D - D*| where the densities carry mass (the 'D converges to D*' number)."""
        mask = m1.support_mask(self.p_data.astype(np.float64), self.p_g.astype(np.float64))
        return float(np.abs(self.d - self.d_star)[mask].max()) if mask.any() else float("nan")

    @classmethod
    def build(cls, config: TheoryConfig, step: int, d_only_steps: int, status: str, diverged_at: int | None,
              seconds: float, grid: np.ndarray, p_data: np.ndarray, z_line: np.ndarray, e: Measures,
              batch_dgz: np.ndarray, history: dict[str, np.ndarray]) -> "TheorySnapshot":
        return cls(config, step, d_only_steps, status, diverged_at, float(seconds), grid.astype(_F32),
                   p_data.astype(_F32), e.p_g.astype(_F32), e.d.astype(_F32), e.d_star.astype(_F32),
                   np.asarray(z_line, _F32), np.asarray(e.gz_line, _F32), np.asarray(batch_dgz, _F32),
                   float(e.v_d), float(e.v_star), float(e.jsd), float(e.identity), float(e.mass_out), history)
