"""Trainer: one object that owns G, D, their optimisers and the data tensor; `step(n)` advances n G updates.

The hot loop has no host sync: per-step numbers are written into a small device buffer and read once per
logging interval (`config.log_every` G steps), where NaN/inf is detected (status `diverged`, with the step).
"""
from __future__ import annotations

import copy
import functools
import math
import threading
import time
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from ganlab import losses
from ganlab.engine import optim
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import Dataset, make_dataset
from ganlab.engine.history import History
from ganlab.metrics import mode_stats
from ganlab.models import build

# Settings that can change while a run is live (weights are kept); anything else needs a new run.
LIVE_KEYS = frozenset({"loss", "g_lr", "d_lr", "beta1", "beta2", "d_steps", "real_label", "gp_weight",
                       "clip_value", "r1_gamma", "unrolled_steps", "unrolled_lr", "g_ema", "steps"})
BASE_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "g_grad", "d_grad", "seconds")
TOY_COLUMNS = ("modes_captured", "high_quality_frac", "reverse_kl")
TOY_EVAL_SAMPLES = 2500
_INIT_LOCK = threading.Lock()  # model init draws from torch's global RNG


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def read_interval(buf: torch.Tensor, n: int, last_step: int) -> tuple[dict[str, float] | None, int | None]:
    """The one host sync per logging interval. buf (>= n, 4) holds d_loss, g_loss, D(x), D(G(z)) of G steps
    last_step - n + 1 .. last_step. Returns (their means, None), or (None, the first step with a NaN/inf)."""
    rows = buf[:n].cpu().numpy()
    bad = ~np.isfinite(rows).all(1)
    if bad.any():
        return None, last_step - n + 1 + int(np.argmax(bad))
    return dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), rows.mean(0).tolist())), None


class Trainer:
    """status: 'ready' | 'diverged'; `diverged_at` holds the first G step with a non-finite loss."""

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
        with _INIT_LOCK:
            torch.manual_seed(config.seed)
            self.G, self.D = build(config, self.data.sample_shape, self.data.n_classes)
        self.G.to(self.device)
        self.D.to(self.device)
        if self.device.type == "cpu" and any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in self.G.modules()):
            # oneDNN's native layout: (B, C, H, W) tensors stored as (B, H, W, C) skip a reorder around every
            # convolution; ~8 % faster DCGAN steps on a CPU (benchmarks/bench.py, case dcgan). Same math.
            for m in (self.G, self.D):
                m.to(memory_format=torch.channels_last)
            if self.data.x.dim() == 4:
                self.data.x = self.data.x.contiguous(memory_format=torch.channels_last)
        self._g_params = list(self.G.parameters())  # .to() keeps the Parameter objects: build the list once
        self.G_ema: nn.Module | None = None
        self._set_ema(config.g_ema)
        self.gen = torch.Generator(self.device).manual_seed(config.seed)
        betas = (config.beta1, config.beta2)
        self.opt_g = optim.make(config.optimizer, self.G.parameters(), config.g_lr, betas)
        self.opt_d = optim.make(config.optimizer, self.D.parameters(), config.d_lr, betas)
        self.loss = losses.get(config.loss)
        self.step_count = 0
        self.status = "ready"
        self.diverged_at: int | None = None
        self.seconds = 0.0
        # D sees real and fake in one forward unless BatchNorm would mix their statistics.
        self._joint_d = not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.D.modules())
        self._buf = torch.zeros(config.log_every, 4, device=self.device)  # d_loss, g_loss, D(x), D(G(z))
        self._i = 0  # rows of _buf filled in this logging interval
        self._grad_norms = torch.zeros(2, device=self.device)
        columns = BASE_COLUMNS + (TOY_COLUMNS if self.data.centers is not None else ())
        self.evaluators: list[Callable[["Trainer"], dict[str, float]]] = []
        if self.data.centers is not None:
            self.evaluators.append(toy_evaluator)
        self.extra_columns: tuple[str, ...] = ()
        self.history = History(columns)
        self.fixed_z = torch.randn(64, config.z_dim, generator=self.gen, device=self.device)
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
        torch._foreach_lerp_(avg, self._g_params, 1.0 - self.config.g_ema)
        if avg_buf:
            torch._foreach_copy_(avg_buf, g_buf)

    # ---- one G update (and its d_steps D updates) ----------------------------------------------------
    def _d_update(self, real, yr, fake, yf) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c, D, loss = self.config, self.D, self.loss
        if self._joint_d:
            s = D(torch.cat([real, fake]), None if yr is None else torch.cat([yr, yf]))
            r, f = s.chunk(2)
        else:
            r, f = D(real, yr), D(fake, yf)
        d_loss = loss.d_loss(r, f, c.real_label)
        if loss.gradient_penalty and c.gp_weight:
            d_loss = d_loss + c.gp_weight * losses.gradient_penalty(D, real, fake, *([yr] if yr is not None else []))
        if c.r1_gamma:
            d_loss = d_loss + 0.5 * c.r1_gamma * losses.r1_penalty(D, real, *([yr] if yr is not None else []))
        optim.apply(self.opt_d, torch.autograd.grad(d_loss, self.opt_d.param_groups[0]["params"]))
        if loss.clip_weights:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-c.clip_value, c.clip_value)
        return d_loss.detach(), r.detach(), f.detach()

    def _unrolled_scores(self, fake, yf) -> torch.Tensor:
        """D's scores on `fake` after k differentiable SGD steps of D (Metz et al. 2017).

        theta_D^{k+1} = theta_D^k - eta * grad L_D(theta_D^k); G's loss is taken at theta_D^K and
        back-propagated through all k updates, so G sees how D would react to its move.
        """
        c = self.config
        params = dict(self.D.named_parameters())
        for _ in range(c.unrolled_steps):
            real, yr = self._batch(fake.shape[0])
            if self._joint_d:
                s = functional_call(self.D, params, (torch.cat([real, fake]),
                                                     None if yr is None else torch.cat([yr, yf])))
                r, f = s.chunk(2)
            else:
                r = functional_call(self.D, params, (real, yr))
                f = functional_call(self.D, params, (fake, yf))
            grads = torch.autograd.grad(self.loss.d_loss(r, f, c.real_label), list(params.values()),
                                        create_graph=True)
            params = {k: p - c.unrolled_lr * g for (k, p), g in zip(params.items(), grads)}
        return functional_call(self.D, params, (fake, yf))

    def _train_step(self, log_grads: bool) -> None:
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
        if log_grads:
            self._grad_norms = torch.stack([
                torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(grads)))),
                torch.linalg.vector_norm(torch.stack(torch._foreach_norm(
                    [p.grad for p in self.D.parameters() if p.grad is not None])))])
        torch.stack([d_loss, g_loss.detach(), torch.sigmoid(r).mean(), torch.sigmoid(f).mean()],
                    out=self._buf[self._i])

    def step(self, n: int = 1) -> dict[str, float]:
        """Advance up to n G updates (stops early on divergence). Returns the latest logged row."""
        if self.status == "diverged":
            return self.history.last()
        t0 = time.perf_counter()
        self.G.train()
        self.D.train()
        for _ in range(n):
            self._train_step(log_grads=self._i == self.config.log_every - 1)
            self._i += 1
            self.step_count += 1
            if self._i == self.config.log_every:
                self.seconds += time.perf_counter() - t0
                t0 = time.perf_counter()
                if not self._log():
                    break
        self.seconds += time.perf_counter() - t0
        return self.history.last()

    def flush(self) -> dict[str, float]:
        """Log a partial interval (end of a run that is not a multiple of log_every)."""
        if self._i and self.status != "diverged":
            self._log()
        return self.history.last()

    def _log(self) -> bool:
        row, bad_step = read_interval(self._buf, self._i, self.step_count)
        self._i = 0
        if row is None:
            self.status = "diverged"
            self.diverged_at = bad_step
            return False
        gn = self._grad_norms.cpu().numpy()
        row.update(step=self.step_count, g_grad=float(gn[0]), d_grad=float(gn[1]), seconds=self.seconds)
        for ev in self.evaluators:
            row.update(ev(self))
        if not all(math.isfinite(v) for k, v in row.items() if k in ("g_grad", "d_grad")):
            self.status = "diverged"
            self.diverged_at = self.step_count
            return False
        self.history.append(row)
        return True

    # ---- live changes -----------------------------------------------------------------------------------
    def apply(self, **changes: Any) -> None:
        """Change settings between steps, keeping the weights (e.g. flip the loss while a run is live)."""
        fixed = sorted(set(changes) - LIVE_KEYS)
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change during a run; start a new run instead")
        new = self.config.replace(**changes)
        self.loss = losses.get(new.loss)
        self._set_ema(new.g_ema)
        for opt, lr in ((self.opt_g, new.g_lr), (self.opt_d, new.d_lr)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (new.beta1, new.beta2)
        self.config = new

    @functools.cached_property
    def view_extent(self) -> tuple[float, float, float, float]:
        """The square box the toy views draw (fixed for the run so frames line up)."""
        return self.data.bounds()

    @functools.cached_property
    def real_jpeg(self) -> bytes:
        """64 real images as a JPEG grid (rows = classes for conditional runs), for real-vs-fake."""
        from ganlab.imaging import jpeg_bytes, to_grid

        x, y = self.data.x, self.data.y  # all of it: files may be sorted by class (the embedded MNIST is)
        if self.config.conditional and y is not None:
            k = self.data.n_classes
            per = [x[y == c][: 64 // k] for c in range(k)]
            x = torch.stack([p[i] for p in per for i in range(64 // k)])  # row c = class c
        else:
            idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.config.seed))[:64]
            x = x[idx.to(x.device)]  # a fixed random 64 of the whole set
        x = x[:64].cpu().numpy()
        nrow = 64 // self.data.n_classes if self.config.conditional else 8
        return jpeg_bytes(to_grid(x, nrow), 3 if x.shape[-1] <= 8 else 2)

    def park(self) -> None:
        """The run is over: keep G and D (on the CPU, eval mode) and a little data; free the rest."""
        self.G.cpu().eval()
        self.D.cpu().eval()
        if self.G_ema is not None:
            self.G_ema.cpu()
        self.opt_g = self.opt_d = None
        self.device = torch.device("cpu")
        self.data.x = self.data.x[:2000].cpu()
        if self.data.y is not None:
            self.data.y = self.data.y[:2000].cpu()
        self._buf = torch.zeros_like(self._buf, device="cpu")
        self.fixed_z = self.fixed_z.cpu()
        if self.fixed_labels is not None:
            self.fixed_labels = self.fixed_labels.cpu()
        self.gen = torch.Generator().manual_seed(self.config.seed)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def release(self) -> None:
        """Drop tensors so GPU memory returns to the allocator's pool (and to the driver on CUDA)."""
        for name in ("G", "G_ema", "D", "opt_g", "opt_d", "_buf", "fixed_z"):
            setattr(self, name, None)
        self.data = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def toy_evaluator(trainer: Trainer) -> dict[str, float]:
    """Mode coverage on TOY_EVAL_SAMPLES fresh samples (DESIGN section 3)."""
    x, _ = trainer.sample(TOY_EVAL_SAMPLES)
    s = mode_stats(x.cpu().numpy(), trainer.data.centers, trainer.data.std)
    return {k: float(s[k]) for k in TOY_COLUMNS}
