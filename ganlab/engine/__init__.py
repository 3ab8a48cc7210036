"""The training engine: one loop and what runs on it.

loop          TrainingLoop: chunked stepping, the device log buffer, divergence, live changes, park/release;
              RunStatus, the init lock, device resolution
trainer       Trainer: one 2-D or image GAN on the loop (G, D, optimisers, data on the device)
vae           VAETrainer: a VAE on the same loop (decoder in G's place, encoder in D's), for contrast
factory       make_trainer(config): the trainer a config's model needs
runner        TrainerRunner: a Trainer as a job-manager runner, with its per-run views (ganlab.snapshot)
optim         optimiser construction and the fused-Adam fast path
torch_compat  every private torch API, each behind one checked guard with a public fallback
history       bounded metric history (fixed columns, decimated when full)
batched/      the class engine: many 2-D toy runs with the same network shapes in one stacked step
The 1-D theory trainer (ganlab.theory.trainer.Theory1D) runs on the same loop.
"""
