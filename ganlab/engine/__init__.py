"""The training engine: one loop (loop.py) and what runs on it.

trainer   Trainer: one 2-D or image GAN (G, D, optimisers, data on the device)
runner    TrainerRunner: a Trainer as a job-manager runner, with its sample-grid timeline
optim     optimiser construction and the fused-Adam fast path
history   bounded metric history (fixed columns, decimated when full)
"""
