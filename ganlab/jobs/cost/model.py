"""What a run costs before it starts, and the class limits that admission checks.

`estimate(config)` -> Cost: seconds per G step on this server and peak memory, from the shapes of the
networks the config builds (ganlab/models/shapes.py: the Trainer's own `build`, on the meta device).

Work of one G step, in forward passes of G (g) and D (d) over one batch of B samples (D's pass counts what
its packed input costs: pack p gives B / p rows of p-times-wider inputs):
- each of the d_steps D updates: G forward (g), D on real and fake (2d), D's backward (2 x 2d: gradients of
  the weights and of the inputs cost a forward each) -> g + 6d; a gradient penalty (WGAN-GP) or R1 adds a
  D forward, an input gradient kept as a graph and the double backward through both: ~8d;
- the G update: D on G's batch (d), back through D to its input (d) and through G (2g) -> 2d + 2g; each
  unrolled step (Metz et al.) adds a differentiable D update on 2B samples (2d forward, 4d graph-keeping
  gradient) that G's backward goes through again (~2x): ~24d, and its small calls.
- VAE: encoder (d) and decoder (g) forward, both backward -> 3(g + d). The 1-D theory game: as the GAN.
Every forward pass is measured as multiply-adds (Linear, Conv, ConvTranspose), values written (activations,
BatchNorm, ...) and kernel calls, by a walk over the layers of the networks built on the meta device; Adam
adds ~12 values touched per weight updated. A/B pairs advance together: their costs add.

Calibration: once per process, a fixed torch workload (matrix products, an elementwise pass, tiny ops with
autograd; ~0.1 s) measures this server's multiply-adds, values and kernel calls per second of one core's CPU
time (one torch thread, as the server trains each run): seconds = macs / mac_rate + values / value_rate +
calls x call_time. Estimates are CPU seconds of one worker, the unit in which the pool shares time.

The class limits that admission checks with these estimates: ganlab/jobs/cost/limits.py.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ganlab.config import TrainConfig

ADAM_VALUES = 12  # values read or written per weight by one Adam update (p, g, m, v, and their updates)
EXTRA_CALLS = 200  # kernel calls per step outside the networks' layers (noise, indexing, losses, autograd, Adam)
UNROLLED_CALLS = 100  # calls of one unrolled D step (functional_call, a graph-keeping gradient, the SGD update)
# Measured CPU time / the formula's, over the presets on the 2-core development machine (2026-12-07): 1.4
# (autograd's bookkeeping, transposed products in the backward pass, the allocator). With it every preset's
# estimate is within 0.9-1.4x of its measured step (README "Running a class", benchmarks/cost_check.py).
FIT = 1.4
TOY_EVAL_SAMPLES = 2500  # toy runs score mode coverage on this many samples every logging interval


# ---- work of one forward pass -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Work:
    """A forward pass: multiply-adds, values written (each module's output: also what autograd keeps for the
    backward), kernel calls; and the weights of the network."""
    macs: float = 0.0
    values: float = 0.0
    calls: float = 0.0
    params: int = 0

    def __add__(self, o: "Work") -> "Work":
        return Work(self.macs + o.macs, self.values + o.values, self.calls + o.calls, self.params + o.params)

    def __mul__(self, k: float) -> "Work":
        return Work(self.macs * k, self.values * k, self.calls * k, self.params)

    __rmul__ = __mul__


def _walk(m: nn.Module, shape: tuple[int, ...], acc: list[float]) -> tuple[int, ...]:
    """The output shape of module m on an input of `shape`; adds its multiply-adds, values written and kernel
    calls to acc. Linear: rows x in x out; Conv2d: output values x in/groups x kh x kw; ConvTranspose2d: input
    values x out/groups x kh x kw; every other module (activations, BatchNorm, Dropout, ...) keeps the shape."""
    if isinstance(m, nn.Sequential):
        for child in m:
            shape = _walk(child, shape, acc)
        return shape
    macs = 0.0
    if isinstance(m, nn.Linear):
        out = (*shape[:-1], m.out_features)
        macs = math.prod(out) * m.in_features
    elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = m.kernel_size, m.stride, m.padding, m.dilation
        n, _, h, w = shape
        if isinstance(m, nn.Conv2d):
            out = (n, m.out_channels, (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
                   (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
            macs = math.prod(out) * (m.in_channels // m.groups) * kh * kw
        else:
            oh, ow = m.output_padding
            out = (n, m.out_channels, (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1,
                   (w - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1)
            macs = math.prod(shape) * (m.out_channels // m.groups) * kh * kw
    elif isinstance(m, nn.Unflatten):
        d = m.dim % len(shape)
        out = (*shape[:d], *m.unflattened_size, *shape[d + 1:])
    elif isinstance(m, nn.Flatten):
        s, e = m.start_dim % len(shape), m.end_dim % len(shape)
        out = (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])
    else:
        out = shape
    acc[0] += macs
    acc[1] += math.prod(out)
    acc[2] += 1
    return out


def forward_work(net: nn.Module, batch: int, sample_shape: tuple[int, ...] = (), z_dim: int = 0,
                 n_classes: int = 0) -> Work:
    """Work of one forward pass of one of ganlab's networks (ganlab/models/) on `batch` samples: G's from
    noise (z_dim), D's from samples of `sample_shape` (packed: batch / pack rows). A shape walk over its
    layers (microseconds; a meta-device forward takes milliseconds per layer)."""
    from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator
    from ganlab.models.mlp import MLPDiscriminator, MLPGenerator

    acc = [0.0, 0.0, 0.0]
    if isinstance(net, (MLPGenerator, DCGANGenerator)):
        _walk(net.net, (batch, z_dim + n_classes), acc)
    elif isinstance(net, MLPDiscriminator):
        _walk(net.net, (batch // net.pack, (math.prod(sample_shape) + n_classes) * net.pack), acc)
    elif isinstance(net, DCGANDiscriminator):
        c, h, w = sample_shape
        feats = _walk(net.features, (batch // net.pack, c * net.pack, h, w), acc)
        _walk(net.head, feats, acc)
    else:
        raise TypeError(f"no cost model for {type(net).__name__}")
    return Work(acc[0], acc[1], acc[2], sum(p.numel() for p in net.parameters()))


# ---- the cost of a run --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speed:
    """This process's measured rates (calibrate())."""
    mac_per_s: float
    values_per_s: float
    call_s: float

    def seconds(self, w: Work) -> float:
        return FIT * (w.macs / self.mac_per_s + w.values / self.values_per_s + w.calls * self.call_s)

    def fastest(self, other: "Speed") -> "Speed":
        """Each rate at its best of the two measurements."""
        return Speed(max(self.mac_per_s, other.mac_per_s), max(self.values_per_s, other.values_per_s),
                     min(self.call_s, other.call_s))


@dataclass(frozen=True)
class Cost:
    seconds_per_step: float  # estimated on this server (calibrated), one G step of every run of the job
    bytes: int  # estimated peak memory of the job's runs
    macs: float  # multiply-adds per G step
    values: float  # values written per G step (activations, their gradients, optimiser state)
    calls: float  # kernel calls per G step
    image: bool = False  # an image run (its own step limit)
    parts: tuple = field(default=(), compare=False)  # one (seconds, bytes) per run


def _step_work(g: Work, d: Work, d_steps: int, penalty: bool, unrolled: int, vae: bool = False) -> Work:
    """Work of one G step from one forward of G (g) and of D (d) on the batch (module docstring)."""
    if vae:
        return 3 * (g + d)
    w = d_steps * (g + 6 * d) + 2 * d + 2 * g
    if penalty:
        w = w + d_steps * 8 * d
    if unrolled:
        w = w + unrolled * (24 * d + Work(calls=UNROLLED_CALLS))
    return w


def _adam(params: int, updates: int) -> Work:
    return Work(values=ADAM_VALUES * params * updates, calls=4 * updates)


def _train_cost(c: TrainConfig) -> tuple[Work, int]:
    """(work per G step, peak bytes) of one TrainConfig run."""
    from ganlab.data import POOL
    from ganlab.models.shapes import data_shape, on_meta

    shape, n_classes = data_shape(c)
    G, D = on_meta(c)
    B, n = c.batch_size, n_classes if c.conditional else 0
    g = forward_work(G, B, z_dim=c.z_dim, n_classes=n)
    d = forward_work(D, B, shape, n_classes=n)
    penalty = (c.loss == "wgan_gp" and c.gp_weight > 0) or c.r1_gamma > 0
    work = _step_work(g, d, c.d_steps, penalty, c.unrolled_steps, c.is_vae)
    work = work + _adam(g.params, 1) + _adam(d.params, 1 if c.is_vae else c.d_steps) + Work(calls=EXTRA_CALLS)
    if c.is_toy:  # mode coverage every logging interval: G on TOY_EVAL_SAMPLES, amortised per step
        work = work + forward_work(G, TOY_EVAL_SAMPLES, z_dim=c.z_dim) * (1.0 / c.log_every)
    # memory: weights, gradients, Adam's two moments (+ G's average), what autograd keeps of one step (G on B,
    # D on 2B, twice: the saved values and their gradients; each unrolled step keeps another D graph on 2B),
    # and the run's own copy of its data
    weights = 4 * g.params + 4 * d.params + (g.params if c.g_ema else 0)
    acts = 2 * (g.values + 2 * d.values) + (4 * d.values if penalty else 0) + 4 * c.unrolled_steps * d.values
    data = (POOL * 2) if c.is_toy else _data_rows(c) * math.prod(shape)
    return work, int(4 * (weights + acts + data))


def _data_rows(c: TrainConfig) -> int:
    return {"mnist": 5000, "digits": 1797, "cifar10": 50_000}.get(c.data, 60_000)


def _theory_cost(c) -> tuple[Work, int]:
    """The 1-D game (ganlab/theory/trainer.py): the GAN's step on MLPs of one input and one output, plus the
    grid quantities every logging interval (G on kde_samples, D on the grid), amortised."""
    from ganlab.models.mlp import MLPDiscriminator, MLPGenerator
    from ganlab.models.shapes import meta_device

    with meta_device():
        G = MLPGenerator(c.z_dim, (1,), c.g_width, c.g_depth, c.activation)
        D = MLPDiscriminator((1,), c.d_width, c.d_depth, c.activation)
    B = c.batch_size
    g, d = forward_work(G, B, z_dim=c.z_dim), forward_work(D, B, (1,))
    work = _step_work(g, d, c.d_steps, False, 0) + _adam(g.params, 1) + _adam(d.params, c.d_steps)
    evaluate = forward_work(G, c.kde_samples, z_dim=c.z_dim) + forward_work(D, c.grid_n, (1,))
    work = work + evaluate * (1.0 / c.log_every) + Work(calls=EXTRA_CALLS)
    weights = 4 * (g.params + d.params)
    acts = 2 * (g.values + 2 * d.values)
    return work, int(4 * (weights + acts + c.kde_samples * c.z_dim))


@functools.lru_cache(maxsize=1024)
def _work(config) -> tuple[Work, int]:
    if isinstance(config, TrainConfig):
        return _train_cost(config)
    return _theory_cost(config)


def estimate(config, speed: "Speed | None" = None) -> Cost:
    """The Cost of one run (a TrainConfig or a TheoryConfig) or of a job's runs (a sequence of them: the
    Mode collapse lab's A and B advance together, so their steps add)."""
    configs = tuple(config) if isinstance(config, (tuple, list)) else (config,)
    speed = speed or calibrate()
    parts, total = [], Work()
    memory = 0
    for c in configs:
        w, b = _work(c)
        parts.append((speed.seconds(w), b))
        total, memory = total + w, memory + b
    image = any(isinstance(c, TrainConfig) and not c.is_toy for c in configs)
    return Cost(speed.seconds(total), memory, total.macs, total.values, total.calls, image, tuple(parts))


# ---- calibration --------------------------------------------------------------------------------------------
_SPEED: Speed | None = None
_SAMPLES, _LAST = 0, 0.0
_SPEED_LOCK = threading.Lock()


def _best(fn: Callable[[], Any], reps: int, rounds: int = 7) -> float:
    """CPU seconds of this thread per call of fn: the best of `rounds` timings of `reps` calls, a few ms apart.
    CPU time, not wall time: what other processes take of the cores does not count (on a busy server wall
    time would make every run look several times dearer); the class limit is in seconds of one worker's core
    too. The best of several: a busy sibling core (shared caches, hyperthreads) slows some rounds by up to ~1.5x
    (measured here with 10 processes on 2 cores)."""
    fn()
    best = math.inf
    for _round in range(rounds):
        t0 = time.thread_time()
        for _rep in range(reps):
            fn()
        best = min(best, (time.thread_time() - t0) / reps)
        time.sleep(0.002)
    return max(best, 1e-9)


def measure() -> Speed:
    """Time a fixed workload (~0.1 s) on one torch thread (a server trains each run on one: GANLAB_TORCH_THREADS):
    (512, 256) x (256, 256) products (the layers of a toy run), an elementwise pass over 1M values, and tiny
    ops that autograd records (a toy step is mostly such calls)."""
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)  # the calling thread does all the work, so its CPU time is the cost
    try:
        with torch.no_grad():
            a, w = torch.randn(512, 256), torch.randn(256, 256)
            mm = _best(lambda: a @ w, 8)
            x = torch.randn(1 << 20)
            ew = _best(lambda: torch.relu(x), 8)
        t = torch.zeros(4, requires_grad=True)
        tiny = _best(lambda: t * 2.0, 200)
    finally:
        if threads != 1:
            torch.set_num_threads(threads)
    return Speed(mac_per_s=512 * 256 * 256 / mm, values_per_s=(1 << 20) / ew, call_s=tiny)


RESAMPLE_S = 10.0  # a later admission measures again at most this often ...
MAX_SAMPLES = 12  # ... until this many measurements were taken; the fastest of them stands


def calibrate() -> Speed:
    """This process's Speed: the fastest of up to MAX_SAMPLES measurements, one at the first admission and
    another at an admission every RESAMPLE_S seconds after it. One measurement can be 1.3-1.4x slow when the
    other core is busy (measured in a Streamlit server while its training process started: a run at 0.75 of
    the class limit was refused), and a slow measurement refuses runs that fit; the fastest of several is the
    machine's speed, and it only moves towards it."""
    global _SPEED, _SAMPLES, _LAST
    with _SPEED_LOCK:
        now = time.monotonic()
        if _SPEED is None or (_SAMPLES < MAX_SAMPLES and now - _LAST >= RESAMPLE_S):
            got = measure()
            _SPEED = got if _SPEED is None else _SPEED.fastest(got)
            _SAMPLES, _LAST = _SAMPLES + 1, now
        return _SPEED
