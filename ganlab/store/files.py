"""Files of the run store: atomic writes, and where each run's checkpoints live.

    root/index.sqlite3            the index (ganlab/store/index.py)
    root/runs/<key>/run<i>.pt     run i's newest checkpoint (the lab's A is 0, B is 1)
    root/runs/<key>/points.npy    uploaded 2-D points (a `csv` run resumes on its own data)

A key is 32 hex digits (uuid4) made by the store, so two runs never share a folder and no name from outside
reaches a path. A write goes to a temp file in the same folder, is fsynced, then renamed over the old file
(os.replace is atomic on one file system) and the folder is fsynced: a process killed at any moment leaves
either the previous checkpoint or the new one, never a torn one. Leftover temp files are removed by `sweep`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

KEY = re.compile(r"[0-9a-f]{32}")
TMP_SUFFIX = ".tmp"
INDEX_NAME = "index.sqlite3"


def run_dir(root: Path, key: str) -> Path:
    if not KEY.fullmatch(key):
        raise ValueError(f"not a run key: {key!r}")
    return root / "runs" / key


def checkpoint_path(root: Path, key: str, index: int) -> Path:
    return run_dir(root, key) / f"run{int(index)}.pt"


def points_path(root: Path, key: str) -> Path:
    return run_dir(root, key) / "points.npy"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, atomically (see the module docstring)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")  # one writer per process and file
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened; the rename is durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sweep(root: Path) -> list[Path]:
    """Remove temp files that a killed writer left behind; returns them."""
    gone = []
    runs = root / "runs"
    if not runs.is_dir():
        return gone
    for tmp in runs.glob(f"*/*{TMP_SUFFIX}"):
        try:
            tmp.unlink()
            gone.append(tmp)
        except OSError:
            pass
    return gone


def size_of(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    except OSError:
        return 0
