"""Image presets (mnist-mlp, mnist-dcgan, mnist-cgan, mnist-wgan-gp): filled in by the image work."""
from __future__ import annotations

IMAGE_PRESETS: list = []
