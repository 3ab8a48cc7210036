"""The run store as the job layer reads it: a student's saved runs, Resume from a checkpoint, and downloads.

    saved(manager, owner)              the owner's stored runs, newest first, with the job that has each live now
    resume(manager, owner, key, ...)   a new job that continues a stored run from its newest checkpoint (the same
                                       row: the run keeps its place in the class's list)
    checkpoint_bytes / samples_csv     what a student downloads of a stored run (any run: toy or image)

A run is only ever resumed or downloaded by its owner: the store keeps owners hashed and every call here
compares the hash of the caller's cookie. No Streamlit.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ganlab.config import TOY_DATA
from ganlab.i18n import _
from ganlab.jobs.job import Job
from ganlab.jobs.job_manager import JobLimitError, JobManager
from ganlab.jobs.spec import RunSpec
from ganlab.store import RunRecord, owner_hash

SAMPLES = 2500  # as the CLI's --samples-out and the toy metrics


class NotResumable(ValueError):
    """The stored run cannot be continued (the message says why, in the student's words)."""


@dataclass(frozen=True)
class Saved:
    record: RunRecord
    job: Job | None  # the live job that trains it now, if any


def saved(manager: JobManager, owner: str, limit: int = 8) -> list[Saved]:
    store = manager.store
    if store is None:
        return []
    live = {j.store_key: j for j in manager.jobs_of(owner) if j.store_key}
    records = store.runs(owner=owner, newest=limit)
    return [Saved(r, live.get(r.key)) for r in reversed(records)]


def _own(manager: JobManager, owner: str, key: str) -> RunRecord:
    store = manager.store
    rec = store.get(key) if store is not None else None
    if rec is None or rec.owner != owner_hash(owner):
        raise NotResumable(_("this saved run is not yours, or it is gone"))
    return rec


def resume(manager: JobManager, owner: str, key: str, address: str | None = None) -> Job:
    """Submit a job that continues stored run `key` from its newest checkpoint, up to its step budget.
    Raises NotResumable or JobLimitError with a message for the student."""
    rec = _own(manager, owner, key)
    if any(j.store_key == key and j.active for j in manager.jobs_of(owner)):
        raise NotResumable(_("this run is still going: find it on its page"))
    if not rec.resumable:
        raise NotResumable(_("this run cannot be resumed: it finished, or its checkpoint was deleted to keep the "
                             "server's disk budget"))
    store = manager.store
    runs = tuple(store.load(key, i) for i in range(len(rec.configs)))
    if any(r is None for r in runs):
        raise NotResumable(_("this run's checkpoint could not be read; start it again"))
    configs = tuple(r.config.replace(steps=rec.budget) for r in runs)
    spec = RunSpec(configs, points=store.points(key), resume=runs)
    store.set_status(key, "queued")  # this server's again: no longer "interrupted"
    try:
        return manager.submit(owner, spec, label=rec.label, page=rec.page, meta={"preset": rec.preset},
                              address=address, store_key=key)
    except JobLimitError:
        store.set_status(key, "paused")
        raise


def checkpoint_bytes(manager: JobManager, owner: str, key: str, index: int = 0) -> bytes | None:
    rec = _own(manager, owner, key)
    return manager.store.checkpoint_bytes(rec.key, index)


def samples_csv(manager: JobManager, owner: str, key: str, index: int = 0, n: int = SAMPLES) -> str | None:
    """n samples of a stored toy run's generator (its weight average when it keeps one), in data coordinates,
    as CSV with a header `x,y`; None for an image run or when no checkpoint loads."""
    rec = _own(manager, owner, key)
    config = rec.configs[index] if index < len(rec.configs) else {}
    if config.get("data") not in TOY_DATA:
        return None
    run = manager.store.load(rec.key, index)
    if run is None:
        return None
    trainer = run.make_trainer(device="cpu", points=manager.store.points(rec.key), quality=False)
    x, _labels = trainer.sample(n, seed=0)
    trainer.release()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("x", "y"))
    w.writerows((f"{a:.6g}", f"{b:.6g}") for a, b in x.float().cpu().numpy().tolist())
    return out.getvalue()
