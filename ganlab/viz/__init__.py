"""Plotly figures built from snapshots (plain numpy in, figures out); one module per page family.

common          colours, labels, the dict-spec fast path, loss and D(x) curves
mode_collapse   the toy field (points over D's heat-map, G's arrows), coverage and per-mode counts
image_gan       quality scores and the per-class histogram
latent_space    the toy latent manifold and the norm along a path
theory          the 1-D game: densities, D and D*, G's gradient, V(D, G)
"""
