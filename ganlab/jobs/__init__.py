"""Jobs: the process-wide manager that runs training runners in worker threads (see manager.py)."""
from ganlab.jobs.job_manager import Job, JobLimitError, JobManager, manager
from ganlab.jobs.status import ACTIVE, FINISHED, LIVE, Status

__all__ = ["ACTIVE", "FINISHED", "LIVE", "Job", "JobLimitError", "JobManager", "Status", "manager"]
