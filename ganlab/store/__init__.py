"""The run store: every run's newest checkpoint on the server's disk, and an index of the class's runs.

A restart, a closed lid or the end of a lesson loses at most about CHECKPOINT_S seconds of a run's training
(docs/architecture.md "The run store"). Nothing here imports Streamlit or ganlab.jobs: the job layer saves into
it (ganlab/jobs/saves.py), pages and the CLI read it.

paths    where the store lives: GANLAB_DATA_DIR, else the user's data directory (see `paths.default_root`)
files    atomic writes (temp file in the same folder, fsync, os.replace) and the per-run file layout
index    the SQLite index (one file, WAL mode): owner (hashed), nickname, page, preset, config, status, step,
         the lesson's numbers, times
store    RunStore: create / save / list / load / prune within the disk budget; `default()` for the server
export   one row per run (nickname, page, preset, loss, remedy, steps, the lesson's numbers) as CSV
"""
from __future__ import annotations

from ganlab.store.paths import BUDGET_ENV, DATA_DIR_ENV, ENABLED_ENV, default_root, enabled
from ganlab.store.store import RunRecord, RunStore, default, default_or_none, owner_hash

__all__ = ["BUDGET_ENV", "DATA_DIR_ENV", "ENABLED_ENV", "RunRecord", "RunStore", "default", "default_or_none",
           "default_root", "enabled", "owner_hash"]
