"""`python -m ganlab runs [--csv | --json] [--today] [--data-dir DIR]`: the runs in the run store.

The store the server writes (GANLAB_DATA_DIR, else the user's data folder: ganlab/store/paths.py). One line per
stored run by default; `--csv` prints the Class page's export (one row per run: nickname, page, preset, loss,
remedy, steps, the lesson's numbers); `--json` one JSON list of the same rows.
"""
from __future__ import annotations

import argparse
import json
import time


def add_parser(sub) -> argparse.ArgumentParser:
    r = sub.add_parser("runs", help="list the runs in the run store (the class's saved runs)")
    out = r.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="the Class page's CSV export, one row per run")
    out.add_argument("--json", action="store_true", help="one JSON list of the same rows")
    r.add_argument("--today", action="store_true", help="only runs started since midnight (the day's lesson)")
    r.add_argument("--data-dir", metavar="DIR", help="the store's folder (default: GANLAB_DATA_DIR, else the user's "
                                                     "data folder)")
    r.set_defaults(func=cmd_runs)
    return r


def cmd_runs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganlab.cli.common import UsageError
    from ganlab.store import RunStore, default_root, export, files

    root = Path(args.data_dir).expanduser() if args.data_dir else default_root()
    if not (root / files.INDEX_NAME).is_file():
        raise UsageError(f"no run store at {root} (set GANLAB_DATA_DIR or pass --data-dir)")
    store = RunStore(root, boot="cli")  # a reader: a live run of the server shows as it was last written
    records = store.runs(since=export.midnight() if args.today else None)
    if args.csv:
        print(export.to_csv(records), end="")
        return 0
    if args.json:
        print(json.dumps([dict(zip(export.COLUMNS, row)) for row in export.rows(records)]))
        return 0
    if not records:
        print(f"no runs in {root}")
        return 0
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
        name = r.nickname or "-"
        saved = "" if r.saved else " (checkpoint deleted)" if r.pruned else " (no checkpoint)"
        print(f"{when}  {r.key[:8]}  {name:<16} {r.page:<14} {r.preset or '-':<16} {r.shown_status:<8} "
              f"step {r.step}/{r.budget}{saved}")
    print(f"{len(records)} runs in {root}, {store.used() / 2**20:.1f} MB")
    return 0
