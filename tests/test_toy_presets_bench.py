"""benchmarks/toy_presets.py: the targets it judges the toy presets by (PacGAN4's row; collapse ceilings)."""
from benchmarks.toy_presets import TARGETS, TOY_PRESETS, markdown_row, summarise


def _runs(preset, modes, hq, rkl, seconds=50.0, n_modes=8):
    return [{"preset": preset, "seed": s, "modes": m, "n_modes": n_modes, "hq": hq, "rkl": rkl, "seconds": seconds,
             "status": "done"} for s, m in enumerate(modes)]


def test_every_toy_preset_has_a_target():
    assert set(TOY_PRESETS) == set(TARGETS)


def test_a_fixed_preset_meets_pacgan4_only_on_every_count():
    assert summarise("ring-fixed", _runs("ring-fixed", [8] * 5, 0.96, 0.02))["meets_target"]
    assert not summarise("ring-fixed", _runs("ring-fixed", [8] * 5, 0.94, 0.02))["meets_target"]  # high quality
    assert not summarise("ring-fixed", _runs("ring-fixed", [8, 8, 8, 8, 7], 0.96, 0.02))["meets_target"]  # modes
    assert not summarise("ring-fixed", _runs("ring-fixed", [8] * 5, 0.96, 0.08))["meets_target"]  # reverse KL
    assert not summarise("ring-fixed", _runs("ring-fixed", [8] * 5, 0.96, 0.02, seconds=130))["meets_target"]
    grid = _runs("grid-fixed", [25, 25, 25, 25, 24], 0.94, 0.04, n_modes=25)  # mean 24.8: PacGAN4's row
    assert summarise("grid-fixed", grid)["meets_target"]


def test_a_collapse_preset_must_stay_collapsed_and_errors_fail():
    assert summarise("ring-collapse", _runs("ring-collapse", [1, 1, 2, 0, 1], 0.0, 2.0))["meets_target"]
    assert not summarise("ring-collapse", _runs("ring-collapse", [1, 1, 3, 0, 1], 0.0, 2.0))["meets_target"]
    runs = _runs("grid-collapse", [3, 4], 0.0, 2.0, n_modes=25) + [{"preset": "grid-collapse", "seed": 2,
                                                                      "error": ["boom"]}]
    s = summarise("grid-collapse", runs)
    assert s["errors"] == 1 and not s["meets_target"]
    assert markdown_row(s).startswith("| `grid-collapse` | 3, 4 of 25 |")
