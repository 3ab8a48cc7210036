"""The run store's index: one SQLite file (the standard library's sqlite3) in WAL mode.

WAL lets the app server and its training process (two processes, one connection each) read while the other
writes; every write is one short transaction. Owners are kept hashed (store.owner_hash): the file never holds
a student's cookie. A file at the index's place that is not our database (corrupt, foreign) is moved aside
with a log line and a new index is started: the checkpoints stay on disk, only their listing is lost.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

log = logging.getLogger("ganlab.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,          -- 32 hex digits: the run's folder under runs/
    owner TEXT NOT NULL,           -- owner_hash(cookie)
    page TEXT NOT NULL,            -- the page that started it (mode_collapse, image_gan, ...)
    preset TEXT NOT NULL,
    label TEXT NOT NULL,
    configs TEXT NOT NULL,         -- JSON list of each runner's TrainConfig dict
    n INTEGER NOT NULL,            -- runners (the lab's A and B: 2)
    status TEXT NOT NULL,          -- the job's status when last written (ganlab.jobs.Status values)
    step INTEGER NOT NULL,         -- the step of the newest checkpoint (the lowest of its runners)
    budget INTEGER NOT NULL,
    numbers TEXT NOT NULL,         -- JSON list per runner: the lesson's numbers at that checkpoint
    boot TEXT NOT NULL,            -- the server run that made it (a live status from another boot: interrupted)
    created REAL NOT NULL,         -- time.time()
    updated REAL NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    pruned INTEGER NOT NULL DEFAULT 0  -- 1: its checkpoints were deleted to keep the disk budget
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, created);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
CREATE TABLE IF NOT EXISTS owners (
    owner TEXT PRIMARY KEY,
    nickname TEXT NOT NULL,
    updated REAL NOT NULL
);
"""
COLUMNS = ("key", "owner", "page", "preset", "label", "configs", "n", "status", "step", "budget", "numbers", "boot",
           "created", "updated", "bytes", "pruned")


class Index:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as e:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            log.warning("run store: %s is not a readable index (%s); moved aside to %s, starting a new one",
                        self.path, e, aside.name)
            for suffix in ("", "-wal", "-shm"):
                p = Path(f"{self.path}{suffix}")
                if p.exists():
                    p.replace(Path(f"{aside}{suffix}"))
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash keeps every committed write but the last
            conn.executescript(SCHEMA)
            conn.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, tuple(args)).fetchall()

    # ---- runs -------------------------------------------------------------------------------------------------
    def insert(self, row: dict[str, Any]) -> None:
        cols = [c for c in COLUMNS if c in row]
        self._exec(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                   [_sql(row[c]) for c in cols])

    def update(self, key: str, **fields: Any) -> None:
        if not fields:
            return
        bad = set(fields) - set(COLUMNS)
        if bad:
            raise ValueError(f"unknown index columns {sorted(bad)}")
        sets = ", ".join(f"{c} = ?" for c in fields)
        self._exec(f"UPDATE runs SET {sets} WHERE key = ?", [*(_sql(v) for v in fields.values()), key])

    def update_live_status(self, key: str, status: str, live: Sequence[str]) -> None:
        """Set a live status only over a live one (one statement: no race with a finished status written meanwhile)."""
        self._exec(f"UPDATE runs SET status = ? WHERE key = ? AND status IN ({', '.join('?' * len(live))})",
                   [status, key, *live])

    def rows(self, where: str = "", args: Iterable[Any] = (), order: str = "created",
             newest: int | None = None) -> list[dict[str, Any]]:
        """Index rows, oldest first; with `newest`, only that many of the newest (still oldest first)."""
        sql = (f"SELECT {', '.join('r.' + c for c in COLUMNS)}, o.nickname FROM runs r "
               f"LEFT JOIN owners o ON o.owner = r.owner {('WHERE ' + where) if where else ''} ORDER BY r.{order}")
        if newest is not None:  # the newest N, then back to oldest first
            sql = f"SELECT * FROM ({sql} DESC LIMIT {max(int(newest), 0)}) ORDER BY {order}"
        out = []
        for values in self._exec(sql, args):
            row = dict(zip((*COLUMNS, "nickname"), values))
            try:
                row["configs"] = json.loads(row["configs"])
                row["numbers"] = json.loads(row["numbers"])
            except (TypeError, ValueError):
                log.warning("run store: index row %s has unreadable JSON; skipped", row.get("key"))
                continue
            out.append(row)
        return out

    def delete(self, key: str) -> None:
        self._exec("DELETE FROM runs WHERE key = ?", [key])

    # ---- nicknames ----------------------------------------------------------------------------------------------
    def set_nickname(self, owner: str, nickname: str) -> None:
        if nickname:
            self._exec("INSERT INTO owners (owner, nickname, updated) VALUES (?, ?, ?) ON CONFLICT(owner) DO UPDATE "
                       "SET nickname = excluded.nickname, updated = excluded.updated", [owner, nickname, time.time()])
        else:
            self._exec("DELETE FROM owners WHERE owner = ?", [owner])

    def nickname(self, owner: str) -> str | None:
        found = self._exec("SELECT nickname FROM owners WHERE owner = ?", [owner])
        return found[0][0] if found else None


def _sql(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict, tuple)) else value
