"""The one training loop under every live run: `TrainingLoop`, with the 2-D/image `Trainer` and the 1-D `Theory1D`
as subclasses that bring only their own G/D step, their own logged measures and their own live settings.

What the loop owns (docs/architecture.md, "The training loop"):
- stepping: `step(n)` makes up to n G updates, stops early on divergence and, for runners that own their
  budget (`stops_at_budget`), at `config.steps`, logging the partial interval there;
- the device-side log buffer: each G step writes d_loss, g_loss, D(x), D(G(z)) (a subclass's `log_fields`)
  into row `_i` of `_buf` (log_every, len(log_fields)) on the training device; the host reads it once per
  interval (`read_interval`), so the hot loop never syncs;
- divergence: a NaN/inf in the buffer, or in a subclass's measures, sets status `diverged` and `diverged_at`;
- live changes: `apply(**changes)` for the keys in `live_keys` (loss, learning rates, betas, ...), weights kept;
- the end of a run: `park()` keeps G and D on the CPU for the last picture, `release()` drops everything;
- `seconds`: wall time spent in G steps (and in the logging that happens between them).
"""
from __future__ import annotations

import contextlib
import threading
import time
from enum import StrEnum
from typing import Any, Iterator

import numpy as np
import torch

from ganlab import losses
from ganlab.config import ConfigError
from ganlab.engine import torch_compat


class RunStatus(StrEnum):
    """A runner's own status (a job's statuses are ganlab.jobs.Status). StrEnum: equal to the plain string."""
    READY = "ready"  # can step
    DIVERGED = "diverged"  # a loss (or a measure) became NaN/inf at `diverged_at`; the run does not move again


INIT_LOCK = threading.Lock()  # model init draws from torch's global RNG: one builder at a time


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Build models inside this block: torch's global RNG is seeded with `seed` and no other thread draws
    from it meanwhile, so the same seed gives the same initial weights under any load."""
    with INIT_LOCK:
        torch.manual_seed(seed)
        yield


def resolve_device(name: str) -> torch.device:
    """'auto' | 'cpu' | 'cuda' -> a torch.device; asking for CUDA without a GPU is a ConfigError."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


LOG_FIELDS = ("d_loss", "g_loss", "d_real", "d_fake")  # the columns of the device log buffer


def read_interval(buf: torch.Tensor, n: int, last_step: int,
                  fields: tuple[str, ...] = LOG_FIELDS) -> tuple[dict[str, float] | None, int | None]:
    """The one host sync per logging interval. buf (>= n, len(fields)) holds `fields` (d_loss, g_loss, D(x),
    D(G(z))) of G steps last_step - n + 1 .. last_step. Returns (their means, None), or (None, the first step
    with a NaN/inf)."""
    rows = buf[:n].cpu().numpy()
    bad = ~np.isfinite(rows).all(1)
    if bad.any():
        return None, last_step - n + 1 + int(np.argmax(bad))
    return dict(zip(fields, rows.mean(0).tolist())), None


class ConfigPacing:
    """`budget` (G steps) and `log_every` read from the run's config: for anything that trains one run."""

    config: Any

    @property
    def budget(self) -> int:
        return self.config.steps

    @property
    def log_every(self) -> int:
        return self.config.log_every


class TrainingLoop(ConfigPacing):
    """Stepping, logging, divergence, live changes and the end of a run, for one G and one D.

    A subclass builds, in its __init__: `config` (a frozen config with steps, log_every, seed, loss, g_lr, d_lr,
    beta1, beta2 and `replace()`), `device`, `gen` (the run's torch.Generator), `G`, `D`, `opt_g`, `opt_d`,
    `loss`, `history`, then calls `_start_loop()`. It implements:
      _train_step()        one G update (and its D updates); writes row `self._i` of `self._buf`
      _row_extras(row)     its measures for a logged row (the interval's means in `row`), or None when one
                           is not finite (the run then diverges at this step)
    and may set: live_keys, restart_hint, stops_at_budget, run_tensors (moved to the CPU by park, dropped by
    release), and override the hooks `_on_apply(new_config)` (settings beyond the loss and the optimisers),
    `_on_park()` and `_on_release()` (what run_tensors does not name).
    """

    log_fields: tuple[str, ...] = LOG_FIELDS  # the columns of the device log buffer, one row per G step
    live_keys: frozenset[str] = frozenset()
    restart_hint = "start a new run instead"  # ends the message that refuses a setting live runs cannot take
    stops_at_budget = False  # True: step(n) never passes config.steps and logs the partial interval there
    run_tensors: tuple[str, ...] = ("G", "D")  # attributes on the training device (None allowed)

    def _start_loop(self) -> None:
        self.step_count = 0
        self.status = RunStatus.READY
        self.diverged_at: int | None = None
        self.seconds = 0.0
        self._buf = torch.zeros(self.config.log_every, len(self.log_fields), device=self.device)  # (log_every, F)
        self._i = 0  # rows of _buf filled in this logging interval
        torch_compat.check_all(self.device)  # the private-op checks run now, never inside a step

    # ---- the runner surface (ganlab.jobs.runner.Runner): budget and log_every come from ConfigPacing -----
    def step(self, n: int = 1) -> dict[str, float]:
        """Advance up to n G updates (stops early on divergence). Returns the latest logged row."""
        if self.status == RunStatus.DIVERGED or self.opt_g is None:  # diverged, parked or released
            return self.history.last()
        if self.stops_at_budget:
            n = min(n, max(self.budget - self.step_count, 0))
        t0 = time.perf_counter()
        self.G.train()
        self.D.train()
        for _ in range(n):
            self._train_step()
            self._i += 1
            self.step_count += 1
            if self._i == self.config.log_every:
                self.seconds += time.perf_counter() - t0
                t0 = time.perf_counter()
                if not self._log():
                    break
        self.seconds += time.perf_counter() - t0
        if self.stops_at_budget and self.step_count >= self.budget:
            self.flush()
        return self.history.last()

    def flush(self) -> dict[str, float]:
        """Log a partial interval (end of a run that is not a multiple of log_every)."""
        if self._i and self.status != RunStatus.DIVERGED:
            self._log()
        return self.history.last()

    # ---- logging ---------------------------------------------------------------------------------------
    def _log(self) -> bool:
        """Close the logging interval: read the buffer (the one host sync), log a row. False if it diverged."""
        row, bad_step = read_interval(self._buf, self._i, self.step_count, self.log_fields)
        self._i = 0
        if row is None:
            return self._diverge(bad_step)
        return self._log_row(row)

    def _log_row(self, row: dict[str, float]) -> bool:
        extras = self._row_extras(row)
        if extras is None:
            return self._diverge(self.step_count)
        row.update(step=self.step_count, seconds=self.seconds)
        row.update(extras)
        self.history.append(row)
        return True

    def _diverge(self, step: int) -> bool:
        self.status = RunStatus.DIVERGED
        self.diverged_at = step
        return False

    # ---- live changes -------------------------------------------------------------------------------------
    def _check_live(self, changes: dict[str, Any]) -> None:
        fixed = sorted(set(changes) - self.live_keys)
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change during a run; {self.restart_hint}")

    def apply(self, **changes: Any) -> None:
        """Change settings between steps, keeping the weights (e.g. flip the loss while a run is live)."""
        self._check_live(changes)
        if not changes:
            return
        new = self.config.replace(**changes)  # validated: ConfigError on a bad value, nothing changed
        self.loss = losses.get(new.loss)
        self._on_apply(new)
        for opt, lr in ((self.opt_g, new.g_lr), (self.opt_d, new.d_lr)):
            for group in opt.param_groups if opt is not None else ():
                group["lr"] = lr
                if "betas" in group:  # Adam; RMSprop and SGD have none
                    group["betas"] = (new.beta1, new.beta2)
        self.config = new

    def _on_apply(self, new: Any) -> None:
        """Subclass hook: apply the live settings beyond the loss and the optimisers' lr/betas."""

    def _on_park(self) -> None:
        """Subclass hook: move or trim what `run_tensors` does not name (before the CUDA cache is emptied)."""

    def _on_release(self) -> None:
        """Subclass hook: drop what `run_tensors` does not name."""

    # ---- the end of a run -----------------------------------------------------------------------------------
    def park(self) -> None:
        """The run is over: keep G and D (on the CPU, eval mode) so its last picture can still be drawn and
        saved; free the optimisers and the device memory."""
        if self.G is None:  # released
            return
        self.device = torch.device("cpu")
        for name in self.run_tensors:
            t = getattr(self, name)
            if t is not None:
                setattr(self, name, t.cpu())  # a Module moves in place and returns itself
        self.G.eval()
        self.D.eval()
        self.opt_g = self.opt_d = None
        self._buf = torch.zeros_like(self._buf, device="cpu")
        self.gen = torch.Generator().manual_seed(self.config.seed)
        self._on_park()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def release(self) -> None:
        """Drop tensors so GPU memory returns to the allocator's pool (and to the driver on CUDA)."""
        for name in self.run_tensors + ("opt_g", "opt_d", "_buf"):
            setattr(self, name, None)
        self._on_release()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
