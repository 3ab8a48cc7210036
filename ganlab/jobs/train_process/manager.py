"""ProcessJobManager: the local JobManager with the training process as its transport.

Caps, the queue, owners, tabs, the grace period and the reaper are the local manager's. A job placed STACK or
TOY (ganlab/jobs/placement.py: fresh 2-D toy runs) is a PolledJob when admitted and trains in the training
process (ganlab/jobs/train_process/client.py TrainProcess), where the same placement puts it in a stack group or
a worker thread. Image runs and the 1-D game (HERE) train in this process's workers: their steps are long torch
kernels that leave the interpreter lock free anyway. Without the class engine (GANLAB_CLASS_ENGINE=0) every
run trains here, as before the training process.
"""
from __future__ import annotations

from ganlab.jobs.job_manager import JobManager
from ganlab.jobs.train_process.client import TrainProcess


class ProcessJobManager(JobManager):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.stacking:
            import torch

            self.transport = TrainProcess(self.workers, torch.get_num_threads())
