"""ProcessJobManager: the local JobManager, with the class's 2-D toy runs in the training process.

Caps, the queue, owners, tabs, the grace period and the reaper are the local manager's. A ProcJob (admitted,
it goes to the training process, ganlab/jobs/train_process/client.py) is:
- a job the class engine would stack: a single 2-D toy run, `submit(..., stack=(config, points))`, whose
  config ganlab.engine.batched.refusal accepts and whose factory pickles (there it joins a stack group);
- any other job whose factory is a RunSpec of 2-D toy runs only (the Mode collapse lab's A and B, a run with a
  remedy the class engine does not stack): there it trains in the child's worker threads.
Image runs and the 1-D game train in this process's workers: pages read their Trainer (downloads, the latent
explorer), and their steps are long torch kernels that leave the interpreter lock free anyway.
"""
from __future__ import annotations

import threading

from ganlab.jobs.job_manager import Job, JobManager
from ganlab.jobs.spec import RunSpec
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

    def _job_class_for(self, factory, stack: tuple | None) -> type[Job]:
        if not self.stacking:
            return self.job_class
        toy_spec = (isinstance(factory, RunSpec) and factory.resume is None
                    and all(getattr(c, "is_toy", False) for c in factory.configs))
        if stack is not None:
            from ganlab.engine.batched import refusal

            if refusal(stack[0]) is None or toy_spec:
                return ProcJob if picklable((factory, stack)) else self.job_class
        return ProcJob if toy_spec and picklable(factory) else self.job_class

    def _start(self, job: Job) -> None:
        if isinstance(job, ProcJob):
            self.train_process().start_job(job, job._stack)
        else:
            super()._start(job)

    def shutdown(self, timeout: float = 10.0) -> None:
        super().shutdown(timeout)
        proc = self._trainproc
        if proc is not None:
            proc.close(min(timeout, 5.0))
