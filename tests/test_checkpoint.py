"""Checkpoints: round trips (toy and image), and refusal of code-running pickles, truncated, oversize and
wrong-shape files -- each with a CheckpointError and no side effect."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

from ganlab import checkpoint
from ganlab.checkpoint import CheckpointError
from ganlab.config import TrainConfig
from ganlab.data import Dataset
from ganlab.engine.trainer import Trainer


def toy_trainer(steps: int = 12) -> Trainer:
    t = Trainer(TrainConfig(data="ring", z_dim=4, g_width=16, d_width=16, batch_size=32, log_every=6,
                            device="cpu", seed=3))
    t.step(steps)
    return t


def digits_dataset(n: int = 256) -> Dataset:
    # a stand-in for the mnist loader: random 28x28 "images" with labels, already in [-1, 1]
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 10, n_classes=10)


def image_trainer(steps: int = 6, **kw) -> Trainer:
    kw = {"model": "mlp", **kw}
    cfg = TrainConfig(data="mnist", conditional=True, z_dim=8, g_width=16, d_width=16, g_batchnorm=True,
                      batch_size=16, log_every=3, device="cpu", seed=1, **kw)
    t = Trainer(cfg, dataset=digits_dataset())
    t.step(steps)
    return t


def test_toy_round_trip_same_samples_and_resume(tmp_path):
    t = toy_trainer()
    path = tmp_path / "toy.pt"
    checkpoint.save(t, path)
    run = checkpoint.load(path)
    assert run.config == t.config and run.step == 12 and len(run.history) == 2
    np.testing.assert_array_equal(run.history.arrays()["d_loss"], t.history.arrays()["d_loss"])
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(7))
    t.G.eval()
    with torch.no_grad():
        torch.testing.assert_close(run.make_generator()(z), t.G(z), rtol=0, atol=0)
    # resuming continues the same run exactly: same weights, optimiser moments, RNG stream
    t2 = run.make_trainer(device="cpu")
    assert t2.step_count == 12 and torch.equal(t2.fixed_z, t.fixed_z)
    t.step(6)
    t2.step(6)
    for a, b in zip(t.G.parameters(), t2.G.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert t2.history.last()["step"] == 18 and len(t2.history) == 3


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_image_round_trip_same_samples(model):
    t = image_trainer(model=model, dcgan_width=4)  # conditional, with BatchNorm running statistics
    data = checkpoint.to_bytes(t)
    run = checkpoint.load(data)
    assert run.sample_shape == (1, 28, 28) and run.config.conditional
    x_before, labels = t.sample(20, seed=5)
    G = run.make_generator()
    assert not G.training
    z = torch.randn(20, 8, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(G(z, labels), x_before, rtol=0, atol=0)
    t2 = run.make_trainer(device="cpu", dataset=digits_dataset())
    torch.testing.assert_close(t2.sample(20, seed=5)[0], x_before, rtol=0, atol=0)


class _Evil:
    """Unpickling this would create `marker` (stands in for any code an attacker would run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_refuses_pickle_that_runs_code(tmp_path):
    marker = tmp_path / "pwned"
    good = checkpoint.state(toy_trainer(4))
    for blob in (pickle.dumps(_Evil(marker)),  # a bare pickle
                 _saved({**good, "history": _Evil(marker)})):  # a torch zip with the payload inside
        with pytest.raises(CheckpointError, match="not a readable ganlab checkpoint"):
            checkpoint.load(blob)
        assert not marker.exists()
    # the payload is real: plain pickle.loads would have run it
    pickle.loads(pickle.dumps(_Evil(marker))).close()
    assert marker.exists()


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_refuses_truncated_empty_and_garbage(tmp_path):
    data = checkpoint.to_bytes(toy_trainer(4))
    for bad in (data[: len(data) // 2], data[:100], b"hello world", b"PK\x03\x04" + b"\0" * 50):
        with pytest.raises(CheckpointError) as e:
            checkpoint.load(bad)
        assert "\n" not in str(e.value) and len(str(e.value)) < 300
    with pytest.raises(CheckpointError, match="empty"):
        checkpoint.load(b"")
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        checkpoint.load(tmp_path / "missing.pt")
    assert zipfile.is_zipfile(io.BytesIO(data))  # the good one is a torch zip archive


def test_refuses_oversize_before_reading(tmp_path):
    data = checkpoint.to_bytes(toy_trainer(4))
    path = tmp_path / "big.pt"
    path.write_bytes(data)
    for src in (data, path, io.BytesIO(data)):
        with pytest.raises(CheckpointError, match="cap"):
            checkpoint.load(src, max_bytes=len(data) - 1)
    assert checkpoint.load(io.BytesIO(data), max_bytes=len(data)).step == 4
    # to_bytes drops optimiser states (Adam: 2 numbers per weight) rather than write a file over the cap
    slim = checkpoint.to_bytes(toy_trainer(4), max_bytes=len(data) - 1)
    assert len(slim) < len(data) and checkpoint.load(slim).opt_g is None


def test_refuses_wrong_shapes_and_bad_schema():
    good = checkpoint.state(toy_trainer(4))
    wide = checkpoint.state(Trainer(TrainConfig(data="ring", z_dim=4, g_width=32, d_width=16, device="cpu")))
    with pytest.raises(CheckpointError, match=r"generator weight .* has shape \(32, 4\)"):
        checkpoint.load(_saved({**good, "g_state": wide["g_state"]}))  # weights of a wider G
    with pytest.raises(CheckpointError, match="unexpected"):
        checkpoint.load(_saved({**good, "d_state": {**good["d_state"], "extra.weight": torch.zeros(2)}}))
    with pytest.raises(CheckpointError, match="config is invalid: g_lr"):
        checkpoint.load(_saved({**good, "config": good["config"].replace('"g_lr": 0.001', '"g_lr": 5.0')}))
    with pytest.raises(CheckpointError, match="format version 99"):
        checkpoint.load(_saved({**good, "format_version": 99}))
    with pytest.raises(CheckpointError, match="not a ganlab checkpoint"):
        checkpoint.load(_saved({"weights": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match="'step'"):
        checkpoint.load(_saved({k: v for k, v in good.items() if k != "step"}))
    with pytest.raises(CheckpointError, match="history data"):
        checkpoint.load(_saved({**good, "history": {**good["history"], "data": torch.zeros(3, 2)}}))


def test_checkpoint_is_plain_data_and_small():
    ckpt = checkpoint.state(image_trainer(3))
    allowed = (torch.Tensor, str, int, float, bool, type(None))

    def walk(v):
        if isinstance(v, dict):
            assert all(isinstance(k, (str, int)) for k in v)
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        else:
            assert isinstance(v, allowed), type(v)

    walk(ckpt)
    assert torch.load(io.BytesIO(_saved(ckpt)), weights_only=True)["step"] == 3


def test_parked_run_saves_without_optimisers_and_resumes():
    t = toy_trainer(6)
    t.park()  # what a finished run keeps: G and D on the CPU, no optimisers
    run = checkpoint.load(checkpoint.to_bytes(t))
    assert run.opt_g is None and run.step == 6
    t2 = run.make_trainer(device="cpu")  # fresh optimisers, saved weights
    torch.testing.assert_close(t2.sample(10, seed=2)[0], t.sample(10, seed=2)[0], rtol=0, atol=0)
    t2.step(6)
    assert t2.step_count == 12
