"""Crafted checkpoints a curious student could upload (issue 20, "Uploads that cannot cost more than their size").

Each is small: a toy run's checkpoint dict (ganlab.checkpoint.state) with one field changed, saved with torch.save
(or re-zipped with zipfile). tests/test_abuse_uploads.py checks that each is refused with one clear line and that
loading it costs < 50 MB of RSS; benchmarks/upload_rss.py uploads each through a real server's page.
"""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import torch

from ganlab.config import TrainConfig

CFG = TrainConfig(data="ring", z_dim=4, g_width=16, d_width=16, batch_size=32, log_every=6, steps=60,
                  device="cpu", seed=3)
BOMB_BYTES = 64 * 2**20  # what the zip bomb's one deflated entry inflates to (its file is ~70 KB)


def saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


# ---- the crafted files -----------------------------------------------------------------------------------
def many_unknown_columns(good: dict) -> bytes:
    """12,000 made-up history columns and no rows (a History allocates 1000 x 12,000 float32: 48 MB)."""
    n = 12_000
    return saved({**good, "history": {"columns": [f"c{i}" for i in range(n)], "data": torch.empty(0, n),
                                      "stride": 1, "seen": 0}})


def one_column_repeated(good: dict) -> bytes:
    """A known column 50,000 times: the pickle stores each repeat as a 2-byte reference (200 MB as a History)."""
    n = 50_000
    return saved({**good, "history": {"columns": ["d_loss"] * n, "data": torch.empty(0, n), "stride": 1,
                                      "seen": 0}})


def names_past_the_pickle_cap(good: dict) -> bytes:
    """The issue's file: 200,000 names (3.9 MB; +793 MB of RSS in load before the fix)."""
    n = 200_000
    return saved({**good, "history": {"columns": [f"metric_{i}" for i in range(n)], "data": torch.empty(0, n),
                                      "stride": 1, "seen": 0}})


def fixed_z_rows(good: dict, rows: int = 65) -> bytes:
    return saved({**good, "fixed_z": torch.randn(rows, CFG.z_dim)})


def fixed_z_zero_stride(good: dict) -> bytes:
    """A million rows of fixed noise that are one row repeated (stride 0): 16 bytes in the file."""
    return saved({**good, "fixed_z": torch.randn(1, CFG.z_dim).expand(10**6, CFG.z_dim)})


def weight_in_a_big_storage(good: dict) -> bytes:
    """G's first weight is the first 64 numbers of a 64,000-number storage (torch.save writes it all)."""
    g = dict(good["g_state"])
    name, w = next(iter(g.items()))
    big = torch.zeros(w.numel() * 1000)
    g[name] = big[: w.numel()].view(w.shape)
    return saved({**good, "g_state": g})


def step(good: dict, value: int) -> bytes:
    return saved({**good, "step": value})


def zip_bomb(good: dict, tmp: Path) -> bytes:
    """A real checkpoint plus one extra tensor of BOMB_BYTES zeros, its zip entry deflated (~1000:1)."""
    plain = tmp / "plain.pt"
    torch.save({**good, "junk": torch.zeros(BOMB_BYTES // 4)}, plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED if info.file_size > 2**20 else zipfile.ZIP_STORED
            with src.open(info) as f, dst.open(entry, "w", force_zip64=True) as g:
                shutil.copyfileobj(f, g, 2**20)
    plain.unlink()
    return out.getvalue()


def many_entries(good: dict, n: int = 10_000) -> bytes:
    """A real checkpoint plus n empty zip entries (zipfile would make an object per entry of its directory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved(good))) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        for i in range(n):
            dst.writestr(f"archive/x{i}", b"")
    return out.getvalue()


def random_bytes(n: int = 4096) -> bytes:
    return np.random.default_rng(0).bytes(n)


def garbage_pickle(good: dict) -> bytes:
    """A well-formed torch zip whose data.pkl is random bytes."""
    src = zipfile.ZipFile(io.BytesIO(saved(good)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, random_bytes(len(data)) if info.filename.endswith("data.pkl") else data)
    return out.getvalue()


def good_state() -> dict:
    """A real toy run's checkpoint dict, 12 steps in."""
    from ganlab import checkpoint
    from ganlab.engine.trainer import Trainer

    t = Trainer(CFG)
    t.step(12)
    return checkpoint.state(t)


def crafted(good: dict, tmp: Path) -> dict[str, bytes]:
    """Every crafted file, by name (tmp: a folder the zip bomb is built in)."""
    return {
        "history 12,000 unknown columns": many_unknown_columns(good),
        "history 1 column x 50,000": one_column_repeated(good),
        "history 200,000 names": names_past_the_pickle_cap(good),
        "fixed_z 65 rows": fixed_z_rows(good),
        "fixed_z zero-stride 1e6 rows": fixed_z_zero_stride(good),
        "weight in a 1000x storage": weight_in_a_big_storage(good),
        "step -5": step(good, -5),
        "zip bomb 64 MB entry": zip_bomb(good, tmp),
        "zip of 10,000 entries": many_entries(good),
        "random bytes": random_bytes(),
    }
