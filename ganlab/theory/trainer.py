"""Theory1D: a 1-D GAN (small MLPs for G and D) trained step by step, with the paper's quantities measured live.

It runs on the common training loop (ganlab/engine/loop.py) and is itself a job-manager runner
(ganlab.jobs.runner.Runner); it owns its budget (`step(n)` stops at `config.steps`). `train_d_to_optimum(steps)`
freezes G and trains D alone, which makes the learned D(x) converge to D*(x) = p_data / (p_data + p_g); a page
asks for it through the job as `job.apply(train_d_to_optimum=steps)` (the job's one channel into a runner).

Data and noise are drawn on the device; at each logging interval (`log_every` G steps) the grid quantities
(KDE of G(z), D on the grid, V(D, G), V(D*, G), JSD) are computed once and stored in the History.
"""
from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np
import torch

import ganlab.theory.math1d as m1
from ganlab import losses
from ganlab.config import ConfigError
from ganlab.engine import optim
from ganlab.engine.history import History
from ganlab.engine.loop import RunStatus, TrainingLoop, resolve_device, seeded_init
from ganlab.models.mlp import MLPDiscriminator, MLPGenerator
from ganlab.theory.config import LIVE_KEYS, TheoryConfig
from ganlab.theory.measure import Measures, TheorySnapshot, measure

COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "v_d", "v_star", "jsd", "identity", "seconds")
MAPPING_POINTS = 41  # z -> G(z) lines drawn under the densities
BATCH_MARKS = 256  # at most this many D(G(z)) values of the current batch go into a snapshot


class Theory1D(TrainingLoop):
    live_keys = LIVE_KEYS
    restart_hint = "reset to start a new one"
    stops_at_budget = True
    run_tensors = ("G", "D", "kde_z", "line_z", "_last_f", "_grid_t", "_mu", "_sd", "_w")

    def __init__(self, config: TheoryConfig | None = None):
        self.config = c = config or TheoryConfig()
        self.device = resolve_device(c.device)
        self.gen = torch.Generator(self.device).manual_seed(c.seed)
        act = c.activation
        with seeded_init(c.seed):
            self.G = MLPGenerator(c.z_dim, (1,), c.g_width, c.g_depth, act).to(self.device)
            self.D = MLPDiscriminator((1,), c.d_width, c.d_depth, act).to(self.device)
        self.opt_g = optim.make("adam", self.G.parameters(), c.g_lr, (c.beta1, c.beta2))
        self.opt_d = optim.make("adam", self.D.parameters(), c.d_lr, (c.beta1, c.beta2))
        self.loss = losses.get(c.loss)
        # data mixture on the device: component k has mean mu_k, std sigma_k, weight w_k
        k = len(c.means)
        self._mu = torch.tensor(c.means, device=self.device)
        self._sd = torch.tensor(c.stds * (k if len(c.stds) == 1 else 1), device=self.device)
        self._w = torch.tensor(c.weights * (k if len(c.weights) == 1 else 1), device=self.device)
        self.grid = m1.make_grid(c.grid_lo, c.grid_hi, c.grid_n)  # float64 (n,)
        self.p_data = m1.normalize(m1.mixture(self.grid, c.means, self._sd.tolist(), self._w.tolist()), self.grid)
        self._grid_t = torch.tensor(self.grid, dtype=torch.float32, device=self.device).view(-1, 1)
        self.kde_z = self._noise(c.kde_samples)  # fixed noise for p_g, so the curve moves only when G does
        self.line_z = self._mapping_z()
        self.d_only_steps = 0
        self._d_todo: list[int] | None = None  # queued D-only updates: [total, done, batch]
        self.history = History(COLUMNS)
        self._start_loop()
        self._last_f = torch.zeros(0, 1, device=self.device)  # logits of the batch G last learned from
        self._cache: tuple[tuple[int, int], Measures] | None = None

    # ---- sampling --------------------------------------------------------------------------------------
    def _noise(self, b: int) -> torch.Tensor:
        """z (b, z_dim): N(0, I) or U[-1, 1]^z_dim."""
        c = self.config
        if c.z_dist == "uniform":
            return torch.rand(b, c.z_dim, generator=self.gen, device=self.device) * 2 - 1
        return torch.randn(b, c.z_dim, generator=self.gen, device=self.device)

    def _mapping_z(self) -> torch.Tensor:
        """Evenly spaced quantiles of z's first coordinate (the others 0), so the lines show how G warps z."""
        c = self.config
        u = (torch.arange(MAPPING_POINTS, device=self.device) + 0.5) / MAPPING_POINTS
        z1 = u * 2 - 1 if c.z_dist == "uniform" else torch.special.ndtri(u)
        z = torch.zeros(MAPPING_POINTS, c.z_dim, device=self.device)
        z[:, 0] = z1
        return z

    def _real(self, b: int) -> torch.Tensor:
        """x ~ sum_k w_k N(mu_k, sigma_k^2): pick a component per sample, then shift and scale a N(0, 1)."""
        k = torch.multinomial(self._w, b, replacement=True, generator=self.gen)
        eps = torch.randn(b, generator=self.gen, device=self.device)
        return (self._mu[k] + self._sd[k] * eps).view(b, 1)

    # ---- updates -----------------------------------------------------------------------------------------
    def _d_update(self, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One D step on max_D E[log D(x)] + E[log(1 - D(G(z)))] (the loss's D objective, minimised)."""
        real = self._real(fake.shape[0])
        r, f = self.D(torch.cat([real, fake])).chunk(2)  # logits (B, 1) each
        d_loss = self.loss.d_loss(r, f, 1.0)
        optim.apply(self.opt_d, torch.autograd.grad(d_loss, self.opt_d.param_groups[0]["params"]))
        return d_loss.detach(), r.detach(), f.detach()

    def _train_step(self) -> None:
        b = self.config.batch_size
        for _ in range(self.config.d_steps):
            fake = self.G(self._noise(b))  # (B, 1), with graph: the last one is reused for G's step
            d_loss, r, f = self._d_update(fake.detach())
        f_g = self.D(fake)  # logits of G's batch under the D just updated
        g_loss = self.loss.g_loss(f_g)  # minimax: E[log(1 - D)]; non-saturating: -E[log D]
        params = self.opt_g.param_groups[0]["params"]
        optim.apply(self.opt_g, torch.autograd.grad(g_loss, params))  # only G's gradients are formed
        self._last_f = f_g.detach()
        torch.stack([d_loss, g_loss.detach(), torch.sigmoid(r).mean(), torch.sigmoid(f).mean()],
                    out=self._buf[self._i])

    def train_d_to_optimum(self, steps: int = 500, batch_size: int | None = None) -> dict[str, float]:
        """Freeze G and train D alone for `steps` updates: D(x) approaches D*(x) for the current p_g (all at once:
        the CLI and tests; a job does the same work in slices through `apply` and `work`)."""
        self._d_todo = None
        self.queue_d_only(steps, batch_size)
        while self.work(math.inf):
            pass
        return self.history.last()

    def queue_d_only(self, steps: int, batch_size: int | None = None) -> None:
        """Queue `steps` D-only updates (replacing any still queued); `work` makes them."""
        self._d_todo = [int(steps), 0, batch_size or max(self.config.batch_size, 512)]  # [total, done, batch]

    def pending_work(self) -> bool:
        """True while queued D-only updates remain: a job gives the run slices for them even when paused."""
        return self._d_todo is not None

    def work(self, seconds: float) -> bool:
        """Make queued D-only updates for about `seconds` (at least one); True while some remain. In slices, so
        5,000 of them (~7 s on one core) neither hold a worker from the class nor delay this run's commands."""
        if self._d_todo is None:
            return False
        if self.status == RunStatus.DIVERGED or self.opt_d is None:
            self._d_todo = None
            return False
        total, done, b = self._d_todo
        self.D.train()
        lr = self.config.d_lr
        t_end = time.perf_counter() + seconds
        d_loss = r = f = None
        try:
            while done < total:
                # learning rate annealed linearly from d_lr to d_lr / 10 over the whole command, so D settles
                # instead of jittering around D* with the minibatch noise (Adam's step size is ~lr whatever the
                # gradient's size)
                for group in self.opt_d.param_groups:
                    group["lr"] = lr * (1.0 - 0.9 * done / max(total - 1, 1))
                with torch.no_grad():  # G is frozen: no graph, no update
                    fake = self.G(self._noise(b))
                d_loss, r, f = self._d_update(fake)
                done += 1
                if time.perf_counter() >= t_end:
                    break
        finally:
            for group in self.opt_d.param_groups:
                group["lr"] = lr
        self.d_only_steps += done - self._d_todo[1]  # (its time is not in self.seconds, which times G steps)
        self._d_todo[1] = done
        if done < total:
            return True
        self._d_todo = None
        if self._i:  # close the G interval in progress, then record where D got to
            self._log()
        row = torch.stack([d_loss, torch.sigmoid(r).mean(), torch.sigmoid(f).mean()]).tolist()
        self._log_row({"d_loss": row[0], "g_loss": float("nan"), "d_real": row[1], "d_fake": row[2]})
        return False

    # ---- logging and measurement --------------------------------------------------------------------------
    def _row_extras(self, row: dict[str, float]) -> dict[str, float] | None:
        """V(D, G), V(D*, G), JSD and -log 4 + 2 JSD on the grid; None if G's samples or the row are not finite
        (g_loss may be NaN: a D-only row has none)."""
        e = self._evaluate()
        if not np.isfinite(e.gz).all() or not all(math.isfinite(v) for k, v in row.items() if k != "g_loss"):
            return None
        return dict(v_d=e.v_d, v_star=e.v_star, jsd=e.jsd, identity=e.identity)

    @torch.no_grad()
    def _evaluate(self) -> Measures:
        """Grid quantities for the current G and D (cached until either changes)."""
        key = (self.step_count, self.d_only_steps)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        was_g, was_d = self.G.training, self.D.training
        self.G.eval()
        self.D.eval()
        try:
            x = self.G(self.kde_z)  # (N, 1) samples of p_g
            gz = x.view(-1).cpu().numpy().astype(np.float64)
            off = (gz < self.grid[0]) | (gz > self.grid[-1])  # D is needed only on G's off-grid samples
            logit_off = self.D(x[torch.from_numpy(off).to(x.device)]).view(-1).cpu().numpy().astype(np.float64)
            e = measure(self.grid, self.p_data, gz=gz,
                        logit_grid=self.D(self._grid_t).view(-1).cpu().numpy().astype(np.float64),
                        logit_off=logit_off, gz_line=self.G(self.line_z).view(-1).cpu().numpy())
        finally:
            self.G.train(was_g)
            self.D.train(was_d)
        self._cache = (key, e)
        return e

    def holds_networks(self) -> bool:
        return False

    def weights(self) -> None:
        """No generator a page could sample from: the 1-D game is drawn by its snapshots."""
        return None

    def checkpoint(self, optimizers: bool = True) -> None:
        """The 1-D game is not saved (a run takes seconds to replay from its seed)."""
        return None

    def snapshot(self) -> TheorySnapshot:
        """Plain numpy picture of the game now (built in the worker thread; safe to hand to a page)."""
        e = self._evaluate()
        dgz = torch.sigmoid(self._last_f[:BATCH_MARKS].float()).view(-1).cpu().numpy()
        return TheorySnapshot.build(self.config, self.step_count, self.d_only_steps, self.status, self.diverged_at,
                                    self.seconds, self.grid, self.p_data, self.line_z[:, 0].cpu().numpy(), e, dgz,
                                    self.history.arrays())

    # ---- live changes and the end of the run ---------------------------------------------------------------
    def apply(self, train_d_to_optimum: int | None = None, **changes: Any) -> None:
        """Change loss, learning rates, betas, d_steps, batch size or budget between steps, keeping the weights.

        `train_d_to_optimum=N` is a command rather than a setting: freeze G and make N D updates (after the
        setting changes, if any, so a new d_lr applies to them), queued for `work`: the job makes them in slices.
        """
        self._check_live(changes)
        if train_d_to_optimum is not None and not 1 <= int(train_d_to_optimum) <= 100_000:
            raise ConfigError(f"train_d_to_optimum needs 1..100000 D steps; got {train_d_to_optimum}")
        super().apply(**changes)
        if train_d_to_optimum is not None:
            self.queue_d_only(int(train_d_to_optimum))

    def park(self) -> None:
        """The run is over: log the partial interval, then keep G and D (CPU, eval) for the last picture."""
        if self.G is not None:
            self.flush()
        super().park()

    def _on_release(self) -> None:
        self._cache = None


@functools.lru_cache(maxsize=32)
def initial_snapshot(config: TheoryConfig) -> TheorySnapshot:
    """The game before any training (step 0) for `config`: the densities, D, D* and V of the initial G and D,
    the same picture a run of this config starts from. What the Theory page draws before Start; built on the
    CPU in a few milliseconds and kept per config (a snapshot is read-only numpy)."""
    runner = Theory1D(config.replace(device="cpu"))
    try:
        return runner.snapshot()
    finally:
        runner.release()
