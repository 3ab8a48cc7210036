"""Image loaders: the embedded data offline, and the torchvision path's clear error when files are absent."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.config import TrainConfig
from ganlab.data import make_dataset
from ganlab.data.images import DataUnavailable, load_images, load_images_or_fallback


def test_mnist_embedded_shape_range_labels():
    img = load_images("mnist")
    assert img.x.shape == (5000, 1, 28, 28) and img.x.dtype == np.float32
    assert img.x.min() == -1.0 and img.x.max() == 1.0  # 0 -> -1, 255 -> 1
    assert img.y.dtype == np.int64 and img.y.shape == (5000,)
    assert np.bincount(img.y).tolist() == [500] * 10
    assert img.n_classes == 10 and img.class_names == tuple("0123456789")
    # background is black (-1): most pixels of a digit image are background
    assert (img.x == -1).mean() > 0.7
    assert load_images("mnist") is img  # cached in-process


def test_digits_scaled_from_0_to_16():
    img = load_images("digits")
    assert img.x.shape == (1797, 1, 8, 8)
    assert img.x.min() == -1.0 and img.x.max() == 1.0
    assert set(np.unique(img.y)) == set(range(10))


def test_resize_to_32():
    img = load_images("mnist", size=32)
    assert img.x.shape == (5000, 1, 32, 32)
    assert -1.0 <= img.x.min() and img.x.max() <= 1.0
    assert "32x32" in img.note


@pytest.mark.parametrize("name", ["mnist-full", "fashion-mnist", "cifar10"])
def test_missing_files_give_a_clear_error(tmp_path, monkeypatch, name):
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(DataUnavailable) as e:
        load_images(name, data_dir=tmp_path / "empty")
    msg = str(e.value)
    assert "\n" not in msg
    assert str(tmp_path / "empty") in msg  # where to put the files
    assert "GANLAB_ALLOW_DOWNLOAD=1" in msg  # how to allow a download
    assert "'mnist' works offline" in msg
    assert isinstance(e.value, ValueError)


def _write_idx(folder, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """MNIST's IDX files: big-endian magic (0x0803 images / 0x0801 labels), sizes, then uint8 data."""
    folder.mkdir(parents=True, exist_ok=True)
    head = np.array([0x0803, len(images), 28, 28], ">i4").tobytes()
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(head + images.astype(np.uint8).tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(np.array([0x0801, len(labels)], ">i4").tobytes()
                                                         + labels.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name, folder", [("mnist-full", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_files_on_disk_load_offline(tmp_path, monkeypatch, name, folder):
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 28, 28)), np.arange(12) % 10
    for prefix in ("train", "t10k"):
        _write_idx(tmp_path / folder / "raw", prefix, images, labels)
    img = load_images(name, data_dir=tmp_path)
    assert img.x.shape == (12, 1, 28, 28) and img.x.dtype == np.float32
    np.testing.assert_allclose(img.x[:, 0], images / 127.5 - 1, atol=1e-6)
    assert img.y.tolist() == labels.tolist() and img.n_classes == 10
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path))  # the environment variable names the folder too
    assert load_images(name).x.shape == (12, 1, 28, 28)


def test_fallback_returns_embedded_mnist_with_a_note(tmp_path, monkeypatch):
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    img = load_images_or_fallback("fashion-mnist", data_dir=tmp_path)
    assert img.x.shape == (5000, 1, 28, 28)
    assert "fashion-mnist" in img.note and "embedded" in img.note


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown image data 'svhn'"):
        load_images("svhn")


def test_make_dataset_puts_mnist_on_device():
    ds = make_dataset(TrainConfig(data="mnist", model="mlp", z_dim=100), "cpu")
    assert isinstance(ds.x, torch.Tensor) and ds.sample_shape == (1, 28, 28)
    assert ds.y.dtype == torch.int64 and ds.n_classes == 10 and not ds.is_toy


def test_image_runs_share_one_copy_of_their_dataset():
    """Every run used to shuffle its own copy of the data (CIFAR-10: 614 MB a run, admitted under a 1 GB limit per
    run, so 40 runs could need 24 GB); runs of a dataset now share one tensor, and one channels_last copy."""
    from ganlab.config import TrainConfig
    from ganlab.data import channels_last, make_dataset
    from ganlab.engine.trainer import Trainer

    c = TrainConfig(data="digits", model="mlp", batch_size=16, steps=2)
    a, b = make_dataset(c), make_dataset(c.replace(seed=5))
    assert a.x.data_ptr() == b.x.data_ptr() and a.y.data_ptr() == b.y.data_ptr()
    x = torch.randn(6, 3, 4, 4)
    assert channels_last(x) is channels_last(x) and channels_last(x).is_contiguous(memory_format=torch.channels_last)
    d1 = Trainer(TrainConfig(data="mnist", model="dcgan", dcgan_width=8, batch_size=8, steps=2))
    d2 = Trainer(TrainConfig(data="mnist", model="dcgan", dcgan_width=8, batch_size=8, steps=2, seed=1))
    assert d1.data.x.data_ptr() == d2.data.x.data_ptr()
    assert torch.equal(d1.data.x, make_dataset(d1.config).x)  # the same images, in the same (shuffled) order
