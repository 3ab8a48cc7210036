"""Datasets as one tensor on the training device: batches are indexed, never loaded through a DataLoader.

`make_dataset(config, device)` returns a `Dataset`:
  x: (N, 2) toy points or (N, C, H, W) images in [-1, 1], float32, on `device`
  y: (N,) int64 class labels (images) or None
Toy mixtures are pre-sampled into a pool of POOL points; mixtures carry `centers` (M, 2) and `std`.

Image data is read-only once made: every run of a dataset on the CPU shares one shuffled tensor (`_shuffled`), and
one channels_last copy of it (`channels_last`), so a class of image runs holds the data once, not once per run
(CIFAR-10 is 614 MB as float32).
"""
from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

from ganlab.config import TOY_DATA, TrainConfig
from ganlab.data import toy

POOL = 65_536


@dataclass
class Dataset:
    name: str
    x: torch.Tensor
    y: torch.Tensor | None = None
    n_classes: int = 0
    centers: np.ndarray | None = None  # (M, 2) for mixtures
    std: float | None = None
    note: str = ""  # e.g. "full MNIST not found; using the embedded 5,000-digit subset"
    class_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_toy(self) -> bool:
        return self.x.dim() == 2 and self.x.shape[1] == 2

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def bounds(self, pad: float = 0.5) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of a square view that holds the data (toy only)."""
        x = self.x[:4096].cpu().numpy()
        lo, hi = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
        c, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + pad
        return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


def toy_points(name: str, n: int, seed: int,
               points: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, float | None]:
    rng = np.random.default_rng(seed + 7919)
    if name in toy.MIXTURES:
        make_centers, std = toy.MIXTURES[name]
        centers = make_centers()
        return toy.mixture(centers, std, n, rng), centers, std
    if name == "spiral":
        return toy.spiral(n, rng), None, None
    if name == "moons":
        return toy.moons(n, rng), None, None
    if name == "csv":
        if points is None:
            raise ValueError("data 'csv' needs uploaded points: upload a CSV with two columns (x, y)")
        pts = np.asarray(points, dtype=np.float32)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 10:
            raise ValueError("CSV points must be an (N, 2) array with N >= 10")
        return pts, None, None
    raise ValueError(f"unknown toy data {name!r}")


def make_dataset(config: TrainConfig, device: torch.device | str = "cpu", points: np.ndarray | None = None,
                 data_dir: str | None = None) -> Dataset:
    if config.data in TOY_DATA:
        pts, centers, std = toy_points(config.data, POOL, config.seed, points)
        return Dataset(config.data, torch.as_tensor(pts, device=device), centers=centers, std=std)
    from ganlab.data.images import EMBEDDED, resolve_root  # torchvision only when images are asked for

    root = None if config.data in EMBEDDED else resolve_root(data_dir)
    x, y, img = _shuffled(config.data, root, 32 if config.data == "cifar10" else None)
    return Dataset(config.data, x.to(device), y.to(device),
                   n_classes=img.n_classes, note=img.note, class_names=img.class_names)


@functools.lru_cache(maxsize=4)
def _shuffled(name: str, root: str | None, size: int | None):
    """(x, y, ImageData) of an image dataset on the CPU, shuffled once, shared by every run (never written to).
    Some sources are sorted by class (the embedded MNIST is): one fixed shuffle makes every prefix (real-image
    grids, the data a finished run keeps) a fair sample of all classes."""
    from ganlab.data.images import load_images

    img = load_images(name, data_dir=root, size=size)
    order = torch.randperm(len(img.x), generator=torch.Generator().manual_seed(0))
    return torch.as_tensor(img.x)[order], torch.as_tensor(img.y)[order], img


_CL: dict[int, torch.Tensor] = {}  # id(a shared tensor) -> its channels_last copy, while the tensor lives
_CL_LOCK = threading.Lock()


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """`x` (N, C, H, W) in the channels_last layout, one copy per source tensor however many runs ask."""
    if x.is_contiguous(memory_format=torch.channels_last):
        return x
    with _CL_LOCK:
        got = _CL.get(id(x))
        if got is None:
            got = _CL[id(x)] = x.contiguous(memory_format=torch.channels_last)
            weakref.finalize(x, _CL.pop, id(x), None)
        return got
