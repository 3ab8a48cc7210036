"""Toy mode metrics on hand-made samples (high quality within 3 std of a centre, modes captured, reverse KL)."""
import math

import numpy as np

from ganlab.data.toy import grid_centers, ring_centers
from ganlab.metrics import mode_stats

C, STD = ring_centers(), 0.02
rng = np.random.default_rng(0)


def test_all_on_one_mode():
    x = C[3] + 0.5 * STD * rng.standard_normal((2500, 2))
    s = mode_stats(x, C, STD)
    assert s["modes_captured"] == 1 and s["n_modes"] == 8
    assert s["high_quality_frac"] == 1.0
    assert math.isclose(s["reverse_kl"], math.log(8), rel_tol=1e-9)


def test_spread_evenly():
    x = np.repeat(C, 2500 // 8 + 1, 0)[:2496] + 0.5 * STD * rng.standard_normal((2496, 2))
    s = mode_stats(x, C, STD)
    assert s["modes_captured"] == 8
    assert s["high_quality_frac"] > 0.99
    assert s["reverse_kl"] < 1e-3


def test_off_mode_noise_is_low_quality():
    x = rng.uniform(-3, 3, (2500, 2))
    s = mode_stats(x, C, STD)
    assert s["high_quality_frac"] < 0.01
    # With only a handful of lucky hits the histogram is unbalanced or empty.
    assert s["modes_captured"] <= 8


def test_three_std_boundary():
    inside = C[0] + np.array([[2.9 * STD, 0.0]])
    outside = C[0] + np.array([[3.1 * STD, 0.0]])
    assert mode_stats(inside, C, STD)["high_quality_frac"] == 1.0
    assert mode_stats(outside, C, STD)["high_quality_frac"] == 0.0


def test_half_the_modes_and_nan_rows():
    x = np.repeat(C[:4], 100, 0).astype(np.float64)
    x[:10] = np.nan
    s = mode_stats(x, C, STD)
    assert s["modes_captured"] == 4
    assert math.isclose(s["high_quality_frac"], 390 / 400)
    # 4 modes, nearly balanced: KL ~ log(8/4)
    assert abs(s["reverse_kl"] - math.log(2)) < 0.01


def test_grid_has_25_centres():
    g = grid_centers()
    assert g.shape == (25, 2) and g.min() == -4 and g.max() == 4
