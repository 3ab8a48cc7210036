"""Jobs: the process-wide manager that runs training runners in worker threads (or in Ray actors).

job           Job: one run as pages see it (runners, commands, snapshots, status)
executor      Executor: where runs train (worker pool, placement, stack groups, stepping, checkpoints)
job_manager   JobManager: the server's admission on an Executor (caps, queue, owners, tabs, the reaper)
placement     place(spec): where a job trains (a stack group, the training process, here), one rule everywhere
report        Report: a job polled from another process, one type for every transport
transport     Transport: how the server reaches an Executor in another process (the training process, Ray)
polled        PolledJob / PolledRunner: the server's one handle on a job that trains over a transport
service       ExecutorService: the message API the training process and a Ray group actor serve
runner        Runner: the Protocol a job drives (TrainerRunner and Theory1D satisfy it)
spec          RunSpec: a job's runners as plain data (the factory pages pass; picklable for the Ray backend)
status        Status: a job's statuses, defined once (and the ACTIVE / FINISHED / LIVE groups pages use)
ray_backend   the same interface with every job's runners in a Ray actor (GANLAB_BACKEND=ray; Ray is optional)
checkpoints   a job's periodic checkpoints (Checkpointer, MemberCheckpoints) and restoring them after a failure
saves         a job's checkpoints into the run store (ganlab/store/) every ~10 s of training and at its end
stored        the run store as pages read it: a student's saved runs, Resume, downloads
train_process the local backend's training process: the class's stacked toy runs train in a child process, so
              the server's interpreter lock is left to the pages (GANLAB_TRAIN_PROCESS=0 keeps them in threads)

`manager()` is the process-wide manager of the backend GANLAB_BACKEND names: `local` (the default: worker
threads, Ray is never imported) or `ray` (a Ray cluster: RAY_ADDRESS, else a local one).
"""
from __future__ import annotations

import os

from ganlab.jobs import job_manager
from ganlab.jobs.job import Job
from ganlab.jobs.job_manager import JobLimitError, JobManager
from ganlab.jobs.runner import Runner
from ganlab.jobs.spec import RunSpec
from ganlab.jobs.status import ACTIVE, FINISHED, HOLDS_WORKER, LIVE, Status

BACKENDS = ("local", "ray")

__all__ = ["ACTIVE", "BACKENDS", "FINISHED", "HOLDS_WORKER", "LIVE", "Job", "JobLimitError", "JobManager", "Runner",
           "RunSpec", "Status", "backend", "manager"]


def backend() -> str:
    """GANLAB_BACKEND: 'local' (unset or empty) or 'ray'; anything else raises ValueError."""
    name = os.environ.get("GANLAB_BACKEND", "").strip().lower() or "local"
    if name not in BACKENDS:
        raise ValueError(f"GANLAB_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def manager() -> JobManager:
    """The process-wide job manager (one per server; every session's runs are in it, keyed by owner)."""
    if backend() == "ray":
        from ganlab.jobs.ray_backend.manager import manager as ray_manager

        return ray_manager()
    if os.environ.get("GANLAB_TRAIN_PROCESS", "1").strip() != "0":
        from ganlab.jobs.train_process.manager import ProcessJobManager

        return job_manager.manager(ProcessJobManager)
    return job_manager.manager()
