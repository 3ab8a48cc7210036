"""VAETrainer: a variational autoencoder (Kingma & Welling 2014) on the common training loop, to compare with the
GANs. Its decoder is the DCGAN's G network and its encoder mirrors the DCGAN's D (ganlab/models/vae.py).

It is a `Trainer` in everything but the step: the data on the device, samples z ~ N(0, I) -> decoder(z), the
optional weight average of the decoder, the fixed-noise grid, the evaluators (quality scores), checkpoints,
park and release all work unchanged, with the decoder in G's place and the encoder in D's. One step:

    x (B, C, H, W) in [-1, 1]; t = (x + 1) / 2 in [0, 1]      the pixels, read as Bernoulli targets
    mu, log sigma^2 = encoder(x)                             (B, z_dim) each: q(z | x) = N(mu, diag sigma^2)
    z = mu + sigma * eps,  eps ~ N(0, I)                     reparameterisation: z is differentiable in mu, sigma
    a = decoder.pre_tanh(z)                                  decoder(z) = tanh(a); pixel logits 2a
    recon = -log p(x | z) = sum_pixels softplus(2a) - t 2a   (B,)  (losses.bernoulli_nll)
    kl    = KL(N(mu, sigma^2) || N(0, I))                    (B,)  (losses.gaussian_kl)
    -ELBO = mean_B(recon + kl)                               nats per image, minimised by both networks

The decoder steps with opt_g (lr g_lr), the encoder with opt_d (lr d_lr): per-parameter Adam on two halves is
one Adam on the whole. Logged per interval: recon, kl, elbo = -(recon + kl), and the quality columns.
"""
from __future__ import annotations

import torch

from ganlab import losses
from ganlab.config import ConfigError, TrainConfig
from ganlab.engine import optim
from ganlab.engine.trainer import Trainer
from ganlab.models.vae import encode

VAE_COLUMNS = ("step", "recon", "kl", "elbo", "seconds")
# What a live VAE run can take: the learning rates, Adam's betas, the decoder's weight average, the budget.
VAE_LIVE_KEYS = frozenset({"g_lr", "d_lr", "beta1", "beta2", "g_ema", "steps"})


class VAETrainer(Trainer):
    """G = the decoder, D = the encoder (ganlab.models.build for model 'vae'); status and budget as a Trainer."""

    log_fields = ("recon", "kl")  # the device log buffer: mean recon and KL of each step, (log_every, 2)
    base_columns = VAE_COLUMNS
    live_keys = VAE_LIVE_KEYS
    restart_hint = "a VAE takes only new learning rates, betas, weight average and budget while it trains"

    def __init__(self, config: TrainConfig, **kw):
        if config.model != "vae":
            raise ConfigError(f"VAETrainer trains model 'vae', got {config.model!r}")
        super().__init__(config, **kw)
        self._d_params = list(self.D.parameters())

    def _train_step(self) -> None:
        x, _ = self._batch(self.config.batch_size)  # (B, C, H, W) in [-1, 1]
        mu, logvar = encode(self.D, x)  # (B, z_dim) each
        eps = torch.randn(mu.shape, generator=self.gen, device=self.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # z ~ q(z | x), differentiable in mu and log sigma^2
        logits = 2 * self.G.pre_tanh(z)  # (B, C, H, W): sigmoid(2a) = (tanh(a) + 1) / 2
        recon = losses.bernoulli_nll(logits, (x + 1) / 2)  # (B,) -log p(x | z)
        kl = losses.gaussian_kl(mu, logvar)  # (B,)
        loss = (recon + kl).mean()  # -ELBO
        n_g = len(self._g_params)
        grads = torch.autograd.grad(loss, self._g_params + self._d_params)
        optim.apply(self.opt_g, grads[:n_g])
        optim.apply(self.opt_d, grads[n_g:])
        if self.G_ema is not None:
            self._ema_update()
        torch.stack([recon.mean().detach(), kl.mean().detach()], out=self._buf[self._i])

    def _row_extras(self, row: dict[str, float]) -> dict[str, float] | None:
        extras = {"elbo": -(row["recon"] + row["kl"])}  # nats per image; higher is better
        for ev in self.evaluators:
            extras.update(ev(self))
        return extras

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decoder(mu(x)) in eval mode: x (N, C, H, W) in [-1, 1] -> (N, C, H, W) in [-1, 1]."""
        was = self.D.training, self.G.training
        self.D.eval()
        self.G.eval()
        try:
            return self.G(encode(self.D, x.to(self.device))[0])
        finally:
            self.D.train(was[0])
            self.G.train(was[1])
