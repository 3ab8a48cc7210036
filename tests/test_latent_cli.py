"""`python -m ganlab latent ...` (ganlab/cli/latent.py): each view written to each kind of file, clear refusals."""
import argparse
import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab import checkpoint
from ganlab.cli import latent as latent_cli
from ganlab.cli.common import UsageError
from ganlab.config import TrainConfig
from ganlab.engine.factory import make_trainer


def _parser():
    p = argparse.ArgumentParser()
    latent_cli.add_parser(p.add_subparsers(dest="command"))
    return p


def _run(*argv):
    args = _parser().parse_args(["latent", *map(str, argv)])
    return args.func(args)


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("latent_cli")
    out = {}
    for name, cfg in {"cgan": TrainConfig(data="mnist", model="dcgan", conditional=True, z_dim=8, dcgan_width=8,
                                          steps=2, log_every=1, batch_size=16, device="cpu"),
                      "toy": TrainConfig(data="ring", z_dim=3, g_width=16, d_width=16, steps=2, log_every=1,
                                         device="cpu"),
                      "vae": TrainConfig(data="mnist", model="vae", z_dim=8, dcgan_width=8, steps=2, log_every=1,
                                         batch_size=16, device="cpu")}.items():
        t = make_trainer(cfg)
        t.step(2)
        checkpoint.save(t, d / f"{name}.pt")
        out[name] = d / f"{name}.pt"
    return out


def test_interpolation_gif_npz_zip(ckpts, tmp_path, capsys):
    assert _run(ckpts["cgan"], "interpolate", "--frames", 5, "--label", 3, "--out", tmp_path / "a.gif") == 0
    assert Image.open(tmp_path / "a.gif").n_frames > 1
    _run(ckpts["cgan"], "interpolate", "--mode", "lerp", "--frames", 5, "--out", tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz") as f:
        assert f["frames"].shape == (5, 1, 28, 28) and f["z"].shape == (5, 8)
    _run(ckpts["cgan"], "morph", "--classes", 2, 7, "--frames", 4, "--out", tmp_path / "m.zip")
    assert len(zipfile.ZipFile(tmp_path / "m.zip").namelist()) == 4
    assert "wrote" in capsys.readouterr().out


def test_grid_and_sweep_images(ckpts, tmp_path):
    _run(ckpts["cgan"], "grid", "--styles", 4, "--out", tmp_path / "g.png")
    assert Image.open(tmp_path / "g.png").size == (4 * 30 + 2, 10 * 30 + 2)  # 10 classes x 4 styles
    _run(ckpts["cgan"], "sweep", "--dim", 5, "--out", tmp_path / "s.jpg")
    assert Image.open(io.BytesIO((tmp_path / "s.jpg").read_bytes())).size == (9 * 30 + 2, 32)


def test_toy_manifold_npz(ckpts, tmp_path):
    _run(ckpts["toy"], "manifold", "--out", tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as f:
        assert f["rows"].shape[-1] == 2 and f["path_x"].shape == (24, 2)


def test_vae_encode_two_real_digits(ckpts, tmp_path):
    assert _run(ckpts["vae"], "encode", "--digits", 3, 4000, "--frames", 6, "--mode", "lerp",
                "--out", tmp_path / "e.npz") == 0
    with np.load(tmp_path / "e.npz") as f:
        assert f["frames"].shape == (6, 1, 28, 28) and f["z"].shape == (6, 8)
    with pytest.raises(UsageError, match="only a VAE checkpoint has an encoder"):
        _run(ckpts["cgan"], "encode", "--out", tmp_path / "x.gif")
    with pytest.raises(UsageError, match="--digits"):
        _run(ckpts["vae"], "encode", "--digits", 0, 10**6, "--out", tmp_path / "x.gif")


@pytest.mark.parametrize("argv, msg", [
    (("interpolate", "--out", "x.txt"), "--out must end"),
    (("manifold", "--out", "x.npz"), "'manifold' is for 2-D toy"),
    (("interpolate", "--frames", 1, "--out", "x.gif"), "--frames"),
    (("interpolate", "--label", 10, "--out", "x.gif"), "--label"),
])
def test_bad_requests_are_one_line_usage_errors(ckpts, tmp_path, argv, msg):
    argv = [tmp_path / a if str(a).startswith("x.") else a for a in argv]
    with pytest.raises(UsageError, match=msg):
        _run(ckpts["cgan"], *argv)


def test_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nope")
    with pytest.raises(UsageError, match="not a readable ganlab checkpoint"):
        _run(bad, "interpolate", "--out", tmp_path / "x.gif")
