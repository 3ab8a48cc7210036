"""Named classroom scenarios: each is a complete TrainConfig plus the one- or two-sentence lesson it teaches.

Toy pairs (`*-collapse` / `*-fixed`) share data, architecture, z-dim, batch and seed; the fixed twin changes
only the loss and/or one classic remedy, so the lesson is "toggle it, watch the collapse go away".
"""
from __future__ import annotations

from .config import Preset, TrainConfig
from .image_presets import IMAGE_PRESETS

# Shared by every toy pair: a 2x128 ReLU MLP for G and D, batch 256, z = 64, and a D that learns 10x slower
# than G -- the setting in which the standard GAN reliably collapses. Points are drawn from a running average
# of G's weights over ~10 steps (g_ema 0.9, Yazici et al. 2019): it does not change training, it removes
# Adam's step-to-step jitter, so a covered mode shows as a sharp blob (ring-fixed, seeds 0-4: 0.32 -> 0.7+ of
# points within 3 std of a centre), and a collapsed G stays collapsed (1 of 8 modes either way).
_TOY = dict(model="mlp", z_dim=64, g_width=128, g_depth=2, d_width=128, d_depth=2, activation="relu",
            batch_size=256, g_lr=1e-3, d_lr=1e-4, g_ema=0.9, seed=0, log_every=50)

_PRESETS = [
    Preset("ring-collapse", TrainConfig(data="ring", loss="non_saturating", steps=2000, **_TOY),
           "The standard (non-saturating) GAN on 8 Gaussians: G finds one or two modes that fool D and hops "
           "between them instead of covering the ring -- mode collapse."),
    Preset("ring-fixed", TrainConfig(data="ring", loss="non_saturating", unrolled_steps=5, unrolled_lr=1e-2,
                                     steps=2000, **_TOY),
           "Same data, networks and seed, but G looks 5 steps ahead of D (unrolled GAN, Metz et al. 2017): "
           "collapsing onto one mode no longer pays, and G spreads over all eight."),
    Preset("grid-collapse", TrainConfig(data="grid", loss="non_saturating", steps=6000, **_TOY),
           "The standard GAN on a 5x5 grid of Gaussians, with G learning 10x faster than D: G piles onto one to "
           "four of the 25 modes and D never catches up."),
    Preset("grid-fixed", TrainConfig(data="grid", loss="non_saturating", pack=4, steps=16_000,
                                     **{**_TOY, "d_lr": 1e-3}),
           "Same data, networks and seed with two classic fixes together: D learns as fast as G (balanced "
           "learning rates) and judges packs of 4 samples (PacGAN, Lin et al. 2018), so a batch that "
           "lacks variety is easy to spot. G first spreads over (nearly) all 25 modes, then the points sharpen "
           "onto them (after ~10,000 steps). Neither fix alone was enough in our runs."),
]


PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS + list(IMAGE_PRESETS)}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
