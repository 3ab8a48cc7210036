"""Trainer: one 2-D or image GAN on the common training loop (ganlab/engine/loop.py): it owns G, D, their
optimisers and the data tensor, and knows how to make one G update; the loop does the rest (`step(n)`, the
device log buffer read once per `config.log_every` G steps, divergence, live changes, park and release).
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from ganlab import losses
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import Dataset, channels_last, make_dataset
from ganlab.engine import optim, remedies, torch_compat
from ganlab.engine.history import History
from ganlab.engine.loop import TrainingLoop, resolve_device, seeded_init
from ganlab.metrics import mode_stats
from ganlab.models import build

# Settings that can change while a run is live (weights are kept); anything else needs a new run.
LIVE_KEYS = frozenset({"loss", "g_lr", "d_lr", "beta1", "beta2", "d_steps", "real_label", "gp_weight",
                       "clip_value", "r1_gamma", "unrolled_steps", "unrolled_lr", "g_ema", "steps"})
BASE_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "g_grad", "d_grad", "seconds")
TOY_COLUMNS = ("modes_captured", "high_quality_frac", "reverse_kl")
FIXED_SAMPLES = 64  # rows of fixed_z: the noise every sample grid is drawn from (a checkpoint saves it)
TOY_EVAL_SAMPLES = 2500
KEPT_AFTER_RUN = 2000  # data rows a parked run keeps (real points / images a finished page still shows)


class Trainer(TrainingLoop):
    """status: 'ready' | 'diverged' (RunStatus); `diverged_at` holds the first G step with a non-finite loss.

    Its logged row adds the gradient norms of G and D (g_grad, d_grad) and what its `evaluators` measure
    (toy mixtures: mode coverage; image runs: the quality scores ganlab.quality attaches)."""

    live_keys = LIVE_KEYS
    run_tensors = ("G", "D", "G_ema", "fixed_z", "fixed_labels")
    base_columns = BASE_COLUMNS  # the history's columns before the evaluators' (a subclass logs others)

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, points: np.ndarray | None = None,
                 data_dir: str | None = None):
        self.config = config
        self.device = resolve_device(config.device)
        self.data = dataset if dataset is not None else make_dataset(config, self.device, points, data_dir)
        self.data.x = self.data.x.to(self.device)
        if self.data.y is not None:
            self.data.y = self.data.y.to(self.device)
        if config.conditional and not self.data.n_classes:
            raise ConfigError(f"data {config.data!r} has no class labels for a conditional model")
        with seeded_init(config.seed):
            self.G, self.D = build(config, self.data.sample_shape, self.data.n_classes)
        self.G.to(self.device)
        self.D.to(self.device)
        if self.device.type == "cpu" and any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in self.G.modules()):
            # oneDNN's native layout: (B, C, H, W) tensors stored as (B, H, W, C) skip a reorder around every
            # convolution (faster DCGAN steps on a CPU: benchmarks/bench.py, case dcgan). Same math.
            for m in (self.G, self.D):
                m.to(memory_format=torch.channels_last)
            if self.data.x.dim() == 4:
                self.data.x = channels_last(self.data.x)  # one copy per dataset, shared by its runs
        self._g_params = list(self.G.parameters())  # .to() keeps the Parameter objects: build the list once
        self.G_ema: nn.Module | None = None
        self._set_ema(config.g_ema)
        self.gen = torch.Generator(self.device).manual_seed(config.seed)
        betas = (config.beta1, config.beta2)
        self.opt_g = optim.make(config.optimizer, self.G.parameters(), config.g_lr, betas)
        self.opt_d = optim.make(config.optimizer, self.D.parameters(), config.d_lr, betas)
        self.loss = losses.get(config.loss)
        # D sees real and fake in one forward unless BatchNorm would mix their statistics.
        self._joint_d = not torch_compat.has_batchnorm(self.D)
        self._start_loop()
        self._grad_norms = torch.zeros(2, device=self.device)
        columns = self.base_columns + (TOY_COLUMNS if self.data.centers is not None else ())
        self.evaluators: list[Callable[["Trainer"], dict[str, float]]] = []
        if self.data.centers is not None:
            self.evaluators.append(toy_evaluator)
        self.extra_columns: tuple[str, ...] = ()
        self.history = History(columns)
        self.fixed_z = torch.randn(FIXED_SAMPLES, config.z_dim, generator=self.gen, device=self.device)
        self.fixed_labels = self._labels_for_grid(64)

    # ---- sampling -------------------------------------------------------------------------------------
    def _labels_for_grid(self, n: int) -> torch.Tensor | None:
        if not self.config.conditional:
            return None
        return torch.arange(n, device=self.device) % self.data.n_classes

    def _batch(self, b: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(0, self.data.x.shape[0], (b,), generator=self.gen, device=self.device)
        return self.data.x[idx], (self.data.y[idx] if self.config.conditional else None)

    def _noise(self, b: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.randn(b, self.config.z_dim, generator=self.gen, device=self.device)
        y = (torch.randint(0, self.data.n_classes, (b,), generator=self.gen, device=self.device)
             if self.config.conditional else None)
        return z, y

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, labels: torch.Tensor | None = None,
               batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples from `sampler` (G or its weight average) in eval mode (BatchNorm uses running stats);
        returns (x, labels)."""
        gen = torch.Generator(self.device).manual_seed(seed) if seed is not None else self.gen
        z = torch.randn(n, self.config.z_dim, generator=gen, device=self.device)
        if self.config.conditional and labels is None:
            labels = torch.arange(n, device=self.device) % self.data.n_classes
        G = self.sampler
        was = G.training
        G.eval()
        try:
            out = torch.cat([G(z[i:i + batch], None if labels is None else labels[i:i + batch])
                             for i in range(0, n, batch)])
        finally:
            G.train(was)
        return out, labels

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, grids and scores use: the weight average when g_ema > 0, else G."""
        return self.G_ema if self.G_ema is not None else self.G

    # ---- weight average of G (Yazici et al. 2019) ----------------------------------------------------------
    def _set_ema(self, decay: float) -> None:
        """Start (from G's current weights) or drop the running average; keeps a running one as it is."""
        if decay and self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
            self._ema_pairs = (list(self.G_ema.parameters()), list(self.G_ema.buffers()), list(self.G.buffers()))
        elif not decay:
            self.G_ema = None

    @torch.no_grad()
    def _ema_update(self) -> None:
        """theta_avg <- decay * theta_avg + (1 - decay) * theta_G after each G step, on the device (no sync).
        With decay 0.9 the average spans ~10 steps: enough to cancel Adam's step-to-step jitter of the samples
        while following G's real moves. BatchNorm running statistics are copied, not averaged."""
        avg, avg_buf, g_buf = self._ema_pairs
        torch_compat.lerp_(avg, self._g_params, 1.0 - self.config.g_ema)
        if avg_buf:
            torch_compat.copy_(avg_buf, g_buf)

    # ---- one G update (and its d_steps D updates) ----------------------------------------------------
    def _d_scores(self, params, real, yr, fake, yf) -> tuple[torch.Tensor, torch.Tensor]:
        """D's scores (r, f) on real and fake: one forward of both unless BatchNorm would mix their statistics.
        `params`: D's weights by name (functional_call), or None for D's own."""
        D = self.D if params is None else (lambda x, y: functional_call(self.D, params, (x, y)))
        if self._joint_d:
            return D(torch.cat([real, fake]), None if yr is None else torch.cat([yr, yf])).chunk(2)
        return D(real, yr), D(fake, yf)

    def _d_update(self, real, yr, fake, yf) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c, D, loss = self.config, self.D, self.loss
        r, f = self._d_scores(None, real, yr, fake, yf)
        d_loss = loss.d_loss(r, f, c.real_label)
        d_args = [yr] if yr is not None else []
        if loss.gradient_penalty and c.gp_weight:
            d_loss = d_loss + c.gp_weight * losses.gradient_penalty(D, real, fake, *d_args)
        if c.r1_gamma:
            d_loss = d_loss + 0.5 * c.r1_gamma * losses.r1_penalty(D, real, *d_args)
        optim.apply(self.opt_d, torch.autograd.grad(d_loss, self.opt_d.param_groups[0]["params"]))
        if loss.clip_weights:
            remedies.clip_weights_(list(D.parameters()), c.clip_value)
        return d_loss.detach(), r.detach(), f.detach()

    def _unrolled_scores(self, fake, yf) -> torch.Tensor:
        """D's scores on `fake` after c.unrolled_steps differentiable SGD steps of D (remedies.unrolled_d), each
        on a fresh real batch: G's loss is taken there, so G sees how D would react to its move."""
        c = self.config
        names = [k for k, _ in self.D.named_parameters()]

        def d_loss_at(j: int, params: list[torch.Tensor]) -> torch.Tensor:
            real, yr = self._batch(fake.shape[0])
            r, f = self._d_scores(dict(zip(names, params)), real, yr, fake, yf)
            return self.loss.d_loss(r, f, c.real_label)

        params = remedies.unrolled_d([p for _, p in self.D.named_parameters()], d_loss_at,
                                     [c.unrolled_lr] * c.unrolled_steps)
        return functional_call(self.D, dict(zip(names, params)), (fake, yf))

    def _train_step(self) -> None:
        c = self.config
        b = c.batch_size
        for k in range(c.d_steps):
            real, yr = self._batch(b)
            z, yf = self._noise(b)
            if k == c.d_steps - 1:
                fake = self.G(z, yf)  # kept with its graph: G's update below reuses it
                d_loss, r, f = self._d_update(real, yr, fake.detach(), yf)
            else:
                with torch.no_grad():
                    fake_ng = self.G(z, yf)
                d_loss, r, f = self._d_update(real, yr, fake_ng, yf)
        f_g = self._unrolled_scores(fake, yf) if c.unrolled_steps else self.D(fake, yf)
        g_loss = self.loss.g_loss(f_g)
        params = self._g_params
        grads = torch.autograd.grad(g_loss, params)  # only G's gradients: D's are never formed here
        optim.apply(self.opt_g, grads)
        if self.G_ema is not None:
            self._ema_update()
        if self._i == c.log_every - 1:  # the interval's last step: its gradient norms are logged
            # ||grad||_2 over all of a network's weights = the 2-norm of the per-tensor 2-norms
            self._grad_norms = torch.stack([
                torch.linalg.vector_norm(torch_compat.norms(list(grads))),
                torch.linalg.vector_norm(torch_compat.norms(
                    [p.grad for p in self.D.parameters() if p.grad is not None]))])
        torch.stack([d_loss, g_loss.detach(), torch.sigmoid(r).mean(), torch.sigmoid(f).mean()],
                    out=self._buf[self._i])

    # ---- what the loop asks of a subclass -------------------------------------------------------------------
    def _row_extras(self, row: dict[str, float]) -> dict[str, float] | None:
        """g_grad, d_grad (the interval's last step) and the evaluators' measures; None if a norm is not finite."""
        gn = self._grad_norms.cpu().numpy()
        extras = {"g_grad": float(gn[0]), "d_grad": float(gn[1])}
        for ev in self.evaluators:
            extras.update(ev(self))
        return extras if np.isfinite(gn).all() else None

    def _on_apply(self, new: TrainConfig) -> None:
        self._set_ema(new.g_ema)

    def _on_park(self) -> None:
        self.data.x = self.data.x[:KEPT_AFTER_RUN].cpu()
        if self.data.y is not None:
            self.data.y = self.data.y[:KEPT_AFTER_RUN].cpu()

    def _on_release(self) -> None:
        self.data = None


def toy_evaluator(trainer: Trainer) -> dict[str, float]:
    """Mode coverage on TOY_EVAL_SAMPLES fresh samples (ganlab.metrics.mode_stats, as in VEEGAN/PacGAN)."""
    x, _ = trainer.sample(TOY_EVAL_SAMPLES)
    s = mode_stats(x.cpu().numpy(), trainer.data.centers, trainer.data.std)
    return {k: float(s[k]) for k in TOY_COLUMNS}
