"""What a run costs before it starts (model.py: seconds per G step and memory from the networks' shapes,
calibrated on this server) and the class limits admission checks with it (limits.py)."""
from ganlab.jobs.cost.limits import (
    IMAGE_STEP_LIMIT_ENV,
    IMAGE_STEP_LIMIT_S,
    LABELS,
    MEMORY_LIMIT_ENV,
    MEMORY_LIMIT_MB,
    STEP_LIMIT_ENV,
    STEP_LIMIT_S,
    Limits,
    costly_fields,
    heaviest_admissible_toy,
)
from ganlab.jobs.cost.model import Cost, Speed, Work, calibrate, estimate, forward_work, measure

__all__ = ["IMAGE_STEP_LIMIT_ENV", "IMAGE_STEP_LIMIT_S", "LABELS", "MEMORY_LIMIT_ENV", "MEMORY_LIMIT_MB",
           "STEP_LIMIT_ENV", "STEP_LIMIT_S", "Cost", "Limits", "Speed", "Work", "calibrate", "costly_fields",
           "estimate", "forward_work", "heaviest_admissible_toy", "measure"]
