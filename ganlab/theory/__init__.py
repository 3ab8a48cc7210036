"""The minimax game in one dimension.

math1d    exact grid maths: densities, KDE, D*, V(D, G), KL / JSD, G's gradient under both losses
config    TheoryConfig (validated) and the data presets
link      the Theory page's share link: its settings as URL params and back, checked against its widgets
measure   samples + logits -> the paper's numbers; TheorySnapshot (plain numpy, what the page draws)
trainer   Theory1D: a live 1-D GAN on the common training loop, a job-manager runner; initial_snapshot (step 0)
__main__  `python -m ganlab.theory`: alias of `python -m ganlab theory` (ganlab/cli/theory.py)
Its figures are in ganlab/viz/theory.py.
"""
from ganlab.theory import math1d
from ganlab.theory.config import DATA_PRESETS, LOSS_KEYS, TheoryConfig, parse_floats
from ganlab.theory.math1d import jsd, kde, optimal_d, value, value_at_optimum_identity
from ganlab.theory.measure import Measures, TheorySnapshot, measure
from ganlab.theory.trainer import Theory1D, initial_snapshot

__all__ = ["math1d", "DATA_PRESETS", "LOSS_KEYS", "TheoryConfig", "parse_floats", "jsd", "kde", "optimal_d",
           "value", "value_at_optimum_identity", "Measures", "TheorySnapshot", "measure", "Theory1D",
           "initial_snapshot"]
