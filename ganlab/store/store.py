"""RunStore: each run's newest checkpoint (ganlab.checkpoint bytes, written atomically) plus its index row.

    store = RunStore(root)                      # or store.default(): GANLAB_DATA_DIR / the user's data dir
    key = store.create(owner, "mode_collapse", "ring-fixed", "A vs B", [config_a, config_b])
    store.put(key, (bytes_a, bytes_b), step=1200, numbers=[...])   # queued: the writer thread writes it
    store.set_status(key, "done")
    store.runs(owner=cookie)                     # RunRecords, oldest first
    run = store.load(key, 0)                     # a checked ganlab.checkpoint.Run, or None (logged)

Writes go through one writer thread per process, newest-first per run: a save waiting for the disk is replaced
by a newer one of the same run, so a slow disk costs checkpoints, never training time. `flush` waits for it
(the job manager's shutdown calls it). After every write the disk budget is checked: past it, the
checkpoints of the oldest finished runs are deleted first, then of runs interrupted by a restart; a run that
is live in this server (the current boot) keeps its newest checkpoint whatever the budget.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ganlab.store import files, paths
from ganlab.store.index import Index

log = logging.getLogger("ganlab.store")

LIVE = ("queued", "starting", "running", "paused")  # ganlab.jobs.status ACTIVE (not imported: no jobs here)
FINISHED = ("done", "stopped", "diverged", "error")
LOAD_MAX_BYTES = 512 * 2**20  # a stored checkpoint keeps the optimiser states even of the largest image runs


def owner_hash(owner: str) -> str:
    """What the index keeps of a student's cookie: enough to find their runs, nothing to log in with."""
    return hashlib.sha256(f"ganlab-owner:{owner}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class RunRecord:
    key: str
    owner: str  # hashed
    nickname: str  # the owner's nickname, "" when they set none
    page: str
    preset: str
    label: str
    configs: tuple  # each runner's TrainConfig as a dict
    status: str  # as written; see `shown_status`
    step: int
    budget: int
    numbers: tuple  # per runner: {"modes_captured": ..., "fid": ..., "d_loss": ...} at the newest checkpoint
    created: float
    updated: float
    bytes: int
    pruned: bool
    interrupted: bool  # live when the server that ran it stopped (a restart, a crash)

    @property
    def shown_status(self) -> str:
        """A run a restart interrupted is shown paused: it resumes from its newest checkpoint."""
        return "paused" if self.interrupted else self.status

    @property
    def saved(self) -> bool:
        return self.bytes > 0 and not self.pruned

    @property
    def resumable(self) -> bool:
        return self.saved and self.step < self.budget and self.shown_status in ("paused", "stopped")


class RunStore:
    """root: the store's folder; budget: disk bytes for checkpoints; boot: this server's run (a child process
    of the server passes the server's, so runs it saves count as live)."""

    def __init__(self, root: str | Path, budget: int | None = None, boot: str | None = None):
        self.root = Path(root)
        self.budget = paths.budget_bytes() if budget is None else int(budget)
        self.boot = boot or uuid.uuid4().hex
        self.root.mkdir(parents=True, exist_ok=True)
        self.index = Index(self.root / files.INDEX_NAME)
        self._cond = threading.Condition()
        self._pending: dict[str, tuple] = {}  # key -> (blobs, step, numbers): the newest save not yet written
        self._busy = False
        self._writer: threading.Thread | None = None
        for tmp in files.sweep(self.root):
            log.info("run store: removed %s, left by a writer that was killed mid-save", tmp)

    def spec(self) -> tuple[str, int, str]:
        """What another process needs to open this store as this server's (the training process)."""
        return str(self.root), self.budget, self.boot

    @classmethod
    def from_spec(cls, spec: Sequence) -> "RunStore":
        return cls(spec[0], int(spec[1]), str(spec[2]))

    # ---- runs ---------------------------------------------------------------------------------------------------
    def create(self, owner: str, page: str, preset: str, label: str, configs: Sequence[Any],
               status: str = "queued") -> str:
        """A new run's row; returns its key (its own folder: no two runs share a file)."""
        dicts = [c.to_dict() if hasattr(c, "to_dict") else dict(vars(c)) for c in configs]
        budget = min(int(d.get("steps", 0) or 0) for d in dicts) if dicts else 0
        key = uuid.uuid4().hex
        now = time.time()
        self.index.insert({"key": key, "owner": owner_hash(owner), "page": page, "preset": preset or "",
                           "label": label, "configs": dicts, "n": len(dicts), "status": status, "step": 0,
                           "budget": budget, "numbers": [{} for _ in dicts], "boot": self.boot, "created": now,
                           "updated": now})
        return key

    def set_status(self, key: str, status: str, step: int | None = None) -> None:
        fields: dict[str, Any] = {"status": str(status), "updated": time.time(), "boot": self.boot}
        if step is not None:
            fields["step"] = int(step)
        self.index.update(key, **fields)

    def save_points(self, key: str, points) -> None:
        import io

        import numpy as np

        buf = io.BytesIO()
        np.save(buf, np.asarray(points, dtype=np.float64), allow_pickle=False)
        files.write_atomic(files.points_path(self.root, key), buf.getvalue())

    def points(self, key: str):
        import numpy as np

        path = files.points_path(self.root, key)
        if not path.is_file():
            return None
        try:
            pts = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            log.warning("run store: %s is not readable (%s); skipped", path, e)
            return None
        return pts if pts.ndim == 2 and pts.shape[1] == 2 else None

    # ---- saving ---------------------------------------------------------------------------------------------------
    def put(self, key: str, blobs: Sequence[bytes | None], step: int, numbers: Sequence[dict] | None = None,
            status: str | None = None) -> None:
        """Queue a checkpoint of every runner of run `key` (None: that runner keeps its previous file). `status`:
        the run's live status to note with it (never over a finished one: see `write`)."""
        with self._cond:
            self._pending[key] = (tuple(blobs), int(step), list(numbers or []), status)
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, name="ganlab-store-writer", daemon=True)
                self._writer.start()
            self._cond.notify_all()

    def write(self, key: str, blobs: Sequence[bytes | None], step: int, numbers: Sequence[dict] | None = None,
              status: str | None = None) -> None:
        """Write now, in this thread: each runner's file atomically, then the index row, then the budget. A live
        `status` is noted only while the row's is live too: a save that was on its way when the run ended never
        overwrites the status the manager wrote at its end."""
        for i, blob in enumerate(blobs):
            if blob is not None:
                files.write_atomic(files.checkpoint_path(self.root, key, i), blob)
        fields: dict[str, Any] = {"step": int(step), "updated": time.time(),
                                  "bytes": files.size_of(files.run_dir(self.root, key)), "pruned": 0}
        if numbers:
            fields["numbers"] = list(numbers)
        self.index.update(key, **fields)
        if status in LIVE:
            self.index.update_live_status(key, status, LIVE)
        self.prune()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    if not self._cond.wait(30.0):
                        self._writer = None
                        return  # idle: the thread ends (a later put starts another)
                key = next(iter(self._pending))
                blobs, step, numbers, status = self._pending.pop(key)
                self._busy = True
            try:
                self.write(key, blobs, step, numbers, status)
            except Exception as e:  # noqa: BLE001 - a full disk must not end anyone's training
                log.warning("run store: could not save run %s at step %d: %s", key, step, e)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued save is on disk (False after `timeout`)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = end - time.monotonic()
                if left <= 0 or (self._writer is None or not self._writer.is_alive()) and not self._busy:
                    break
                self._cond.wait(min(left, 0.1))
            return not (self._pending or self._busy)

    # ---- reading ----------------------------------------------------------------------------------------------------
    def _record(self, row: dict) -> RunRecord:
        return RunRecord(row["key"], row["owner"], row.get("nickname") or "", row["page"], row["preset"], row["label"],
                         tuple(row["configs"]), row["status"], int(row["step"]), int(row["budget"]),
                         tuple(row["numbers"]), float(row["created"]), float(row["updated"]), int(row["bytes"]),
                         bool(row["pruned"]), row["status"] in LIVE and row["boot"] != self.boot)

    def runs(self, owner: str | None = None, since: float | None = None, newest: int | None = None) -> list[RunRecord]:
        """Every run (oldest first), or one owner's (`owner`: the cookie, hashed here), or those since a time;
        `newest`: only that many of the newest (oldest first still)."""
        where, args = [], []
        if owner is not None:
            where.append("r.owner = ?")
            args.append(owner_hash(owner))
        if since is not None:
            where.append("r.created >= ?")
            args.append(float(since))
        return [self._record(r) for r in self.index.rows(" AND ".join(where), args, newest=newest)]

    def get(self, key: str) -> RunRecord | None:
        rows = self.index.rows("r.key = ?", [key])
        return self._record(rows[0]) if rows else None

    def checkpoint_bytes(self, key: str, index: int) -> bytes | None:
        try:
            path = files.checkpoint_path(self.root, key, index)
            return path.read_bytes() if path.is_file() else None
        except (OSError, ValueError) as e:
            log.warning("run store: cannot read run %s's checkpoint %d: %s", key, index, e)
            return None

    def load(self, key: str, index: int):
        """Run `index` of run `key` as a checked ganlab.checkpoint.Run; None (with a log line) when there is no
        file or it is not a readable checkpoint (corrupt, foreign, made by another version)."""
        from ganlab import checkpoint

        data = self.checkpoint_bytes(key, index)
        if data is None:
            return None
        try:
            return checkpoint.load(data, max_bytes=LOAD_MAX_BYTES)
        except checkpoint.CheckpointError as e:
            log.warning("run store: run %s's checkpoint %d is not loadable (%s); skipped", key, index, e)
            return None

    def scan(self) -> list[str]:
        """Folders under runs/ that the index does not know, or whose files do not load: logged, returned, left
        alone (a teacher may want to look at them)."""
        known = {r.key: r for r in self.runs()}
        odd = []
        runs = self.root / "runs"
        for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
            rec = known.get(folder.name)
            if rec is None:
                log.warning("run store: %s is not a run this store made; skipped", folder)
                odd.append(folder.name)
                continue
            for i in range(len(rec.configs)):
                if files.checkpoint_path(self.root, rec.key, i).exists() and self.load(rec.key, i) is None:
                    odd.append(folder.name)
        return odd

    # ---- nicknames ----------------------------------------------------------------------------------------------
    def set_nickname(self, owner: str, nickname: str) -> None:
        self.index.set_nickname(owner_hash(owner), nickname)

    def nickname(self, owner: str) -> str | None:
        return self.index.nickname(owner_hash(owner))

    # ---- the disk budget --------------------------------------------------------------------------------------------
    def used(self) -> int:
        """Bytes of the checkpoints on disk, as the index counts them."""
        return int(self.index._exec("SELECT coalesce(sum(bytes), 0) FROM runs WHERE pruned = 0")[0][0])

    def prune(self) -> list[str]:
        """Delete checkpoints until the store fits its budget: finished runs first, then runs interrupted by a
        restart, oldest first; runs live in this server never. Their index rows stay (listed, not
        downloadable). Returns the keys pruned."""
        if self.used() <= self.budget:
            return []  # (one SUM over the index: the common case after a save)
        records = [r for r in self.runs() if r.saved]
        used = sum(r.bytes for r in records)
        finished = sorted((r for r in records if r.status in FINISHED), key=lambda r: r.updated)
        interrupted = sorted((r for r in records if r.interrupted), key=lambda r: r.updated)
        pruned = []
        for r in [*finished, *interrupted]:
            if used <= self.budget:
                break
            shutil.rmtree(files.run_dir(self.root, r.key), ignore_errors=True)
            self.index.update(r.key, bytes=0, pruned=1)
            used -= r.bytes
            pruned.append(r.key)
            log.info("run store: deleted run %s's checkpoints to keep the %d MB budget", r.key, self.budget // 2**20)
        return pruned

    def close(self) -> None:
        self.flush()
        self.index.close()


_DEFAULT: RunStore | None = None
_LOCK = threading.Lock()


def default() -> RunStore | None:
    """The server's store (GANLAB_DATA_DIR or the user's data folder), None when GANLAB_STORE=0."""
    global _DEFAULT
    if not paths.enabled():
        return None
    with _LOCK:
        root = paths.default_root()
        if _DEFAULT is None or _DEFAULT.root != root:
            _DEFAULT = RunStore(root)
        return _DEFAULT


def default_or_none() -> RunStore | None:
    """`default()`, or None (with the reason logged) when the data folder cannot hold a store (unwritable, a
    file where the folder should be): the class then trains unsaved, and nicknames live in memory only."""
    try:
        return default()
    except Exception:  # noqa: BLE001 - any failure to open the store: run without it
        log.exception("run store: cannot open the store in %s; runs are not saved", paths.default_root())
        return None
