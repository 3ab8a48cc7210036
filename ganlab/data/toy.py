"""2-D toy distributions. Each returns points as float32 numpy (N, 2); mixtures also expose centres and std.

ring: 8 Gaussians, centres on a circle of radius 2, std 0.02.
grid: 25 Gaussians, centres (-4 + 2i, -4 + 2j), i, j in 0..4, std 0.05.
"""
from __future__ import annotations

import io
import math

import numpy as np

from ganlab.i18n import _

MAX_CSV_POINTS = 100_000
MAX_CSV_BYTES = 5 * 1024 * 1024
FLOAT32_MAX = float(np.finfo(np.float32).max)  # ~3.4e38: a larger value becomes inf in a float32 tensor


def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    angle = 2 * np.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(np.float32)


def grid_centers() -> np.ndarray:
    i, j = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    return np.stack([-4 + 2 * i.ravel(), -4 + 2 * j.ravel()], 1).astype(np.float32)


MIXTURES = {"ring": (ring_centers, 0.02), "grid": (grid_centers, 0.05)}


def mixture(centers: np.ndarray, std: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Equal-weight Gaussian mixture: x = mu_k + std * eps, k ~ U{0..M-1}."""
    k = rng.integers(0, len(centers), n)
    return (centers[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def spiral(n: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """An Archimedean spiral r = t / 2pi * 0.6, t in [pi/2, 4pi], with Gaussian noise."""
    t = rng.uniform(math.pi / 2, 4 * math.pi, n)
    r = 0.6 * t / (2 * math.pi) * 2
    pts = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    return (pts + noise * rng.standard_normal((n, 2))).astype(np.float32)


def moons(n: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """Two interleaved half circles (as scikit-learn's make_moons), scaled by 1.5 and centred."""
    a = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(a), 1 - np.cos(a))
    y = np.where(upper, np.sin(a), 0.5 - np.sin(a))
    pts = np.stack([x - 0.5, y - 0.25], 1) * 1.5
    return (pts + noise * rng.standard_normal((n, 2))).astype(np.float32)


def parse_csv_points(raw: bytes | str) -> np.ndarray:
    """User points from CSV text: two numeric columns (an optional header row is skipped).

    Raises ValueError with a message a student can act on.
    """
    if isinstance(raw, bytes):
        if len(raw) > MAX_CSV_BYTES:
            raise ValueError(_("the CSV file is {size:.1f} MB; the limit is {limit} MB").format(
                size=len(raw) / 1e6, limit=MAX_CSV_BYTES // 2**20))
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(_("the CSV file is not UTF-8 text")) from None
    rows = []
    for lineno, line in enumerate(io.StringIO(raw), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.replace(";", ",").replace("\t", ",").split(",")]
        try:
            vals = [float(c) for c in cells[:2]]
        except ValueError:
            if not rows and lineno == 1:  # header
                continue
            raise ValueError(_("line {line}: expected two numbers, got {text!r}").format(line=lineno,
                                                                                        text=line[:60])) from None
        if len(cells) < 2:
            raise ValueError(_("line {line}: expected two columns (x, y), got one").format(line=lineno))
        if not all(math.isfinite(v) for v in vals):
            raise ValueError(_("line {line}: values must be finite numbers").format(line=lineno))
        if not all(abs(v) <= FLOAT32_MAX for v in vals):
            raise ValueError(_("line {line}: values must lie between -{max} and {max}; scale your data down").format(
                line=lineno, max=f"{FLOAT32_MAX:.1e}"))
        rows.append(vals)
        if len(rows) > MAX_CSV_POINTS:
            raise ValueError(_("more than {max:,} points; use a sample").format(max=MAX_CSV_POINTS))
    if len(rows) < 10:
        raise ValueError(_("need at least 10 points, found {n}").format(n=len(rows)))
    pts = np.asarray(rows, dtype=np.float64)  # float64 sums: values near FLOAT32_MAX would overflow float32 ones
    # Standardise into the same box as the built-in data so default learning rates work.
    pts = (pts - pts.mean(0)) / max(float(pts.std(0).max()), 1e-6) * 1.5
    return pts.astype(np.float32)
