"""Where the run store lives, and the settings that change it.

GANLAB_DATA_DIR  the store's folder (made when first needed). Unset: the user's data directory,
                 Linux `$XDG_DATA_HOME/ganlab` (default `~/.local/share/ganlab`), macOS
                 `~/Library/Application Support/ganlab`, Windows `%LOCALAPPDATA%\\ganlab`.
GANLAB_STORE     "0" turns the store off (runs live only in memory, as before; benchmarks compare both).
GANLAB_STORE_BUDGET_MB  the store's disk budget in MB (default 2048): past it, the oldest finished runs'
                 checkpoints are deleted first; a live run's newest checkpoint never is.
GANLAB_CHECKPOINT_S     seconds of training between two saves of a live run (default 10).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_DIR_ENV = "GANLAB_DATA_DIR"
ENABLED_ENV = "GANLAB_STORE"
BUDGET_ENV = "GANLAB_STORE_BUDGET_MB"
EVERY_ENV = "GANLAB_CHECKPOINT_S"
DEFAULT_BUDGET_MB = 2048
DEFAULT_EVERY_S = 10.0


def default_root() -> Path:
    """GANLAB_DATA_DIR, else the platform's per-user data folder + /ganlab."""
    given = os.environ.get(DATA_DIR_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "ganlab"


def enabled() -> bool:
    return os.environ.get(ENABLED_ENV, "1").strip() != "0"


def _number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "").strip() or default)
    except ValueError:
        return default
    return value if value > 0 else default


def budget_bytes() -> int:
    return int(_number(BUDGET_ENV, DEFAULT_BUDGET_MB) * 2**20)


def every_s() -> float:
    return _number(EVERY_ENV, DEFAULT_EVERY_S)
