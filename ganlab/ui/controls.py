"""Start / Pause-Resume / Step / Reset for "the current job" of a page, kept in st.session_state[slot].

Commands reach the worker between chunks, so a status change shows up a little later than the click. The
page keeps refreshing until it does: `is_live` counts a paused job as live while a Resume or a Step is pending.

A page's slot only ever holds a job of this session's owner: `attach` restores the owner's latest run on the
page after a reload (jobs are tagged with the page when submitted), and `current_job` refuses any other
owner's job. Job ids never come from the URL.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import streamlit as st

from ganlab import jobs, rate
from ganlab.config import TrainConfig
from ganlab.engine.trainer import LIVE_KEYS
from ganlab.i18n import _, status
from ganlab.jobs import RunSpec, Status
from ganlab.text import md
from ganlab.ui import address, lang
from ganlab.ui.session import OWNER_KEY


def current_job(slot: str) -> jobs.Job | None:
    """The page's job, if it is still known and belongs to this session's owner."""
    job_id = st.session_state.get(slot)
    job = jobs.manager().get(job_id) if job_id is not None else None
    return job if job is not None and job.owner == st.session_state.get(OWNER_KEY) else None


def _page_key(slot: str) -> str:
    return f"{slot}__page"


def _restored_key(slot: str) -> str:
    return f"{slot}__restored"


def attach(slot: str, owner: str, page: str) -> jobs.Job | None:
    """The page's current job. On the page's first run in a session (a reload, a new tab), that is the owner's
    latest job on `page` unless the student stopped or reset it, so the page shows the run again. Jobs this
    slot submits are tagged with `page`."""
    st.session_state[_page_key(slot)] = page
    if slot not in st.session_state:
        job = jobs.manager().latest(owner, page)
        keep = job is not None and job.status != Status.STOPPED
        st.session_state[slot] = job.id if keep else None
        if keep:
            st.session_state[_restored_key(slot)] = True
    return current_job(slot)


def show_on_page(job: jobs.Job) -> None:
    """Make `job` the current run of every slot of this session that sits on the job's page (a resumed saved
    run), marked as restored so the page's widgets catch up before live changes are sent."""
    suffix = _page_key("")
    for name, value in list(st.session_state.items()):
        if isinstance(name, str) and name.endswith(suffix) and value == job.page:
            slot = name[: -len(suffix)]
            st.session_state[slot] = job.id
            st.session_state[_restored_key(slot)] = True


def _pending_key(slot: str) -> str:
    return f"{slot}__pending"


def live_status(status: str, version: int, pending: tuple[str, int] | None) -> bool:
    """Should the page keep refreshing? Running or queued; or paused with a Resume not yet carried out, or
    a Step whose snapshot (a new version) has not arrived."""
    if status in jobs.LIVE:
        return True
    if status == Status.PAUSED and pending is not None:
        kind, since = pending
        return kind == "resume" or (kind == "step" and version == since)
    return False


def is_live(job: jobs.Job | None, slot: str) -> bool:
    """live_status of the page's job; a pending command is forgotten once it has been carried out."""
    if job is None:
        return False
    key = _pending_key(slot)
    pending = st.session_state.get(key)
    live = live_status(job.status, job.version, pending)
    if pending is not None and (job.status in jobs.LIVE or not live):
        st.session_state.pop(key, None)
    return live


def submit(slot: str, owner: str, factory: Callable[[], Sequence[Any]], label: str,
           configs: Sequence[TrainConfig], meta: Mapping[str, Any] | None = None) -> jobs.Job | None:
    """Stop the page's previous job and submit a new one, tagged with the page (see `attach`) and `meta` (what
    the Class page shows beside it, e.g. {"preset": ...}); the manager decides where it trains
    (ganlab/jobs/placement.py). A JobLimitError is kept for the page to show."""
    old = current_job(slot)
    if old is not None and old.active:
        old.stop()
    try:
        job = jobs.manager().submit(owner, factory, label=label, page=st.session_state.get(_page_key(slot), ""),
                                    meta=dict(meta or {}), address=address.address())
    except jobs.JobLimitError as e:
        st.session_state[f"{slot}__error"] = str(e)
        return None
    st.session_state[slot] = job.id
    st.session_state.pop(_restored_key(slot), None)
    st.session_state[f"{slot}__applied"] = [live_settings(c) for c in configs]
    st.session_state.pop(f"{slot}__error", None)
    return job


def live_settings(config: TrainConfig) -> dict[str, Any]:
    return {k: getattr(config, k) for k in LIVE_KEYS}


def sync_live(job: jobs.Job | None, slot: str, configs: Sequence[TrainConfig]) -> list[tuple[int, dict]]:
    """Send the live-changeable settings that differ from what the job last got (e.g. a new loss).

    Returns the (runner index, changes) pairs sent. Only while the job is active and has as many runners.
    A run restored after a reload (`attach`) takes live changes once the widgets showed what it runs: when a
    link opened the page with another setup, nothing is sent until the student starts that setup.
    """
    if st.session_state.pop(_restored_key(slot), False) and job is not None:
        running = [live_settings(s.config) for s in job.snapshots() if isinstance(s.config, TrainConfig)]
        shown = [live_settings(c) for c in configs]
        st.session_state[f"{slot}__applied"] = running if running == shown else None
    applied = st.session_state.get(f"{slot}__applied")
    if job is None or not job.active or applied is None or len(applied) != len(configs):
        return []
    refused = f"{slot}__live_refused"
    if any(live_settings(c) != old for c, old in zip(configs, applied)):
        # D steps and unrolled steps are live: a run admitted cheap must not become dearer than Start allows
        why = jobs.manager().limits.refusal(RunSpec(tuple(configs)))
        if why:
            st.session_state[f"{slot}__error"] = st.session_state[refused] = why
            return []
    if st.session_state.pop(refused, None) is not None:
        st.session_state.pop(f"{slot}__error", None)
    sent = []
    for i, (old, cfg) in enumerate(zip(applied, configs)):
        new = live_settings(cfg)
        changes = {k: v for k, v in new.items() if old.get(k) != v}
        if changes:
            job.apply(i, **changes)
            applied[i] = new
            sent.append((i, changes))
    return sent


def _pause_or_resume(job: jobs.Job, slot: str) -> None:
    if job.status == Status.PAUSED:
        job.resume()
        st.session_state[_pending_key(slot)] = ("resume", job.version)
    else:
        job.pause()


def _step(job: jobs.Job, slot: str) -> None:
    job.step_once()
    st.session_state[_pending_key(slot)] = ("step", job.version)


def _reset(job: jobs.Job | None, slot: str) -> None:
    if job is not None:
        job.stop()
    st.session_state[slot] = None
    st.session_state.pop(_pending_key(slot), None)
    st.session_state.pop(_restored_key(slot), None)


def buttons(slot: str, start: Callable[[], Any], can_start: bool, key_prefix: str,
            help_start: str | None = None, extra: Callable[[Any], None] | None = None) -> None:
    """One row: Start (or Restart), Pause/Resume, Step (while paused), Reset. Actions run as callbacks.
    `extra(column)` draws a page's own command at the end of the row, in a column twice as wide (one row, so the
    live view below starts higher)."""
    job = current_job(slot)
    active = job is not None and job.active
    paused = active and job.status == Status.PAUSED
    c1, c2, c3, c4, *more = st.columns([1, 1, 1, 1, 2] if extra is not None else 4)
    c1.button(_("Restart") if active else _("Start"), type="primary", on_click=lang.callback(start),
              disabled=not can_start, key=f"{key_prefix}_start", help=help_start, width="stretch")
    c2.button(_("Resume") if paused else _("Pause"), on_click=_pause_or_resume, args=(job, slot),
              key=f"{key_prefix}_pause", disabled=not active or job.status == Status.QUEUED, width="stretch")
    c3.button(_("Step"), on_click=_step, args=(job, slot), disabled=not paused, key=f"{key_prefix}_step",
              help=_("Advance one logging interval while paused"), width="stretch")
    c4.button(_("Reset"), on_click=_reset, args=(job, slot), disabled=job is None, key=f"{key_prefix}_reset",
              help=_("Stop the run and clear the view"), width="stretch")
    if extra is not None:
        extra(more[0])
    err = st.session_state.get(f"{slot}__error")
    if err:
        st.error(md(err))


def status_line(job: jobs.Job | None) -> str:
    """A one-line job status for captions: queue position, errors."""
    if job is None:
        return ""
    if job.status == Status.QUEUED:
        pos = job.queue_position()
        return (_("queued: position {pos} in line; it starts when a worker is free").format(pos=pos) if pos
                else status(Status.QUEUED))
    return status(job.status)


def run_status(job: jobs.Job, snapshot) -> str:
    """The status shown for one run of a job, in the session's language: 'diverged' when this run diverged (the
    other run of the job may train on), else the job's."""
    return status(Status.DIVERGED if snapshot.status == Status.DIVERGED else job.status)


def changed_fields(before: TrainConfig, after: TrainConfig) -> Mapping[str, Any]:
    a, b = before.to_dict(), after.to_dict()
    return {k: b[k] for k in a if a[k] != b[k]}


def live_snapshots(job: jobs.Job | None, idle_hint: str, building: str | None = None) -> tuple:
    """The shared head of every live view: what to do when idle, the queue position, the job's last error.

    Returns the job's snapshots, or () when there is nothing to draw yet (after saying why).
    """
    if job is None:
        st.info(idle_hint)
        return ()
    if job.status == Status.QUEUED:
        st.info(_("Your run is {status}.").format(status=status_line(job)))
    if job.error:
        st.error(md(job.error))  # may quote a file name or a value the student gave
    snaps = job.snapshots()
    if not snaps or snaps[0] is None:
        if job.status in (Status.STARTING, Status.RUNNING):
            st.caption(building or _("Building the networks…"))
        return ()
    return snaps


def run_rate(job: jobs.Job, i: int, step: int) -> float | None:
    """Steps per second at which run i's counter has moved over the last few polls of this page (not the
    runner's compute rate: a worker shares its time among runs), or None while not running or not yet known."""
    r = rate.counter_rate(st.session_state, (job.id, i), step)
    return r if job.status == Status.RUNNING else None


def live_step(job: jobs.Job, i: int, snapshot) -> int:
    """Run i's step count now: read from the runner (cheap, every tick) rather than from its last snapshot,
    which a busy server publishes only every second or two."""
    progress = job.progress()
    return max(snapshot.step, progress[i][0]) if i < len(progress) else snapshot.step
