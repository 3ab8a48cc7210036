"""Named classroom scenarios: each is a complete TrainConfig plus the one- or two-sentence lesson it teaches.

Toy pairs (`*-collapse` / `*-fixed`) share data, architecture, z-dim, batch and seed; the fixed twin changes
only the loss and/or one classic remedy, so the lesson is "toggle it, watch the collapse go away".
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    config: TrainConfig
    lesson: str


# Shared by every toy pair: a 2x128 ReLU MLP for G and D, batch 256, z = 64, and a D that learns 10x slower
# than G -- the setting in which the standard GAN reliably collapses.
_TOY = dict(model="mlp", z_dim=64, g_width=128, g_depth=2, d_width=128, d_depth=2, activation="relu",
            batch_size=256, g_lr=1e-3, d_lr=1e-4, seed=0, log_every=50)

_PRESETS = [
    Preset("ring-collapse", TrainConfig(data="ring", loss="non_saturating", steps=2000, **_TOY),
           "The standard (non-saturating) GAN on 8 Gaussians: G finds one or two modes that fool D and hops "
           "between them instead of covering the ring -- mode collapse."),
    Preset("ring-fixed", TrainConfig(data="ring", loss="non_saturating", unrolled_steps=5, unrolled_lr=1e-2,
                                     steps=2000, **_TOY),
           "Same data, networks and seed, but G looks 5 steps ahead of D (unrolled GAN, Metz et al. 2017): "
           "collapsing onto one mode no longer pays, and G spreads over all eight."),
    Preset("grid-collapse", TrainConfig(data="grid", loss="non_saturating", steps=2000, **_TOY),
           "The standard GAN on a 5x5 grid of Gaussians covers only part of the grid."),
    Preset("grid-fixed", TrainConfig(data="grid", loss="non_saturating", unrolled_steps=5, unrolled_lr=1e-2,
                                     steps=2000, **_TOY),
           "Same setting with an unrolled discriminator: G is pushed onto (nearly) every one of the 25 modes."),
]


def _all() -> dict[str, Preset]:
    from .image_presets import IMAGE_PRESETS

    return {p.name: p for p in _PRESETS + list(IMAGE_PRESETS)}


PRESETS: dict[str, Preset] = _all()


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
