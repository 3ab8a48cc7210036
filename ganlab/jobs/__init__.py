"""Jobs: the process-wide manager that runs training runners in worker threads.

job_manager   JobManager, Job, manager() (the process-wide one): caps, queue, commands, snapshots, cleanup
runner        Runner: the Protocol a job drives (TrainerRunner and Theory1D satisfy it)
status        Status: a job's statuses, defined once (and the ACTIVE / FINISHED / LIVE groups pages use)
"""
from ganlab.jobs.job_manager import Job, JobLimitError, JobManager, manager
from ganlab.jobs.runner import Runner
from ganlab.jobs.status import ACTIVE, FINISHED, HOLDS_WORKER, LIVE, Status

__all__ = ["ACTIVE", "FINISHED", "HOLDS_WORKER", "LIVE", "Job", "JobLimitError", "JobManager", "Runner", "Status",
           "manager"]
