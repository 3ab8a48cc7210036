"""The minimax game in one dimension.

math1d    exact grid maths: densities, KDE, D*, V(D, G), KL / JSD, G's gradient under both losses
config    TheoryConfig (validated) and the data presets
measure   samples + logits -> the paper's numbers; TheorySnapshot (plain numpy, what the page draws)
runner    Theory1D: a live 1-D GAN, a job-manager runner
viz       Plotly figures from snapshots
__main__  `python -m ganlab.theory`: the same, headless
"""
from . import math1d
from .config import DATA_PRESETS, LOSS_KEYS, TheoryConfig, parse_floats
from .math1d import jsd, kde, optimal_d, value, value_at_optimum_identity
from .measure import Measures, TheorySnapshot, measure
from .runner import Theory1D

__all__ = ["math1d", "DATA_PRESETS", "LOSS_KEYS", "TheoryConfig", "parse_floats", "jsd", "kde", "optimal_d",
           "value", "value_at_optimum_identity", "Measures", "TheorySnapshot", "measure", "Theory1D"]
