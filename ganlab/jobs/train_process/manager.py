"""ProcessJobManager: the local JobManager, with the class's 2-D toy runs in the training process.

Caps, the queue, owners, tabs, the grace period and the reaper are the local manager's. A job placed STACK or
TOY (ganlab/jobs/placement.py: fresh 2-D toy runs) becomes a ProcJob when admitted and goes to the training
process (ganlab/jobs/train_process/client.py), where the same placement puts it in a stack group or a worker
thread. Image runs and the 1-D game (HERE) train in this process's workers: their steps are long torch kernels
that leave the interpreter lock free anyway.
"""
from __future__ import annotations

import threading

from ganlab.jobs.job import Job
from ganlab.jobs.job_manager import JobManager
from ganlab.jobs.placement import STACK, TOY, Placement
from ganlab.jobs.train_process.client import ProcJob, TrainProcess, picklable


class ProcessJobManager(JobManager):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._trainproc: TrainProcess | None = None
        self._trainproc_lock = threading.Lock()

    def train_process(self) -> TrainProcess:
        """The training process's client (the child starts on the first job, or at warm_up)."""
        with self._trainproc_lock:
            if self._trainproc is None:
                import torch

                self._trainproc = TrainProcess(self.workers, torch.get_num_threads())
            return self._trainproc

    def warm_up(self) -> None:
        """Start the training process now, so a class's first Start does not wait for its imports."""
        if self.stacking and not self._closed.is_set():
            self.train_process().ensure()

    def _job_class_for(self, placement: Placement, factory) -> type[Job]:
        if self.stacking and placement.where in (STACK, TOY) and picklable(factory):
            return ProcJob
        return self.job_class

    def _start(self, job: Job) -> None:
        if isinstance(job, ProcJob):
            self.train_process().start_job(job)
        else:
            super()._start(job)

    def shutdown(self, timeout: float = 10.0) -> None:
        super().shutdown(timeout)
        proc = self._trainproc
        if proc is not None:
            proc.close(min(timeout, 5.0))
