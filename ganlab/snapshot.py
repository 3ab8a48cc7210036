"""Snapshot: what a page draws, as plain numpy arrays and JPEG bytes, built in the worker thread.

Toy runs: real and generated points (<= 1,000 each), D's heat-map on a grid over the data's box, G's gradient
arrows -grad_x L_G at generated points, per-mode counts. Image runs: the fixed-noise sample grid as JPEG bytes,
a grid of real images and a bounded timeline of earlier grids. Both: the downsampled metric history.

`take(trainer, views)` builds one; `RunViews` holds what a run's snapshots share and compute once (the toy view
box, the real-image grid, the timeline), so the Trainer itself knows nothing of display.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ganlab.config import TrainConfig
from ganlab.imaging import jpeg_bytes, to_grid
from ganlab.metrics import mode_counts

N_POINTS = 1000
N_ARROWS = 150
GRID_N = 64
MAX_FRAMES = 48


@dataclass(frozen=True)
class Snapshot:
    config: TrainConfig
    step: int
    status: str  # 'ready' | 'diverged'
    diverged_at: int | None
    seconds: float
    history: dict[str, np.ndarray]
    note: str = ""
    # toy
    real: np.ndarray | None = None  # (<=1000, 2)
    fake: np.ndarray | None = None  # (<=1000, 2)
    arrows: np.ndarray | None = None  # (N_ARROWS, 2) -grad_x L_G at fake[:N_ARROWS]
    heat: np.ndarray | None = None  # (GRID_N, GRID_N) D(x) (probability) or raw critic score; rows = y
    heat_is_prob: bool = True
    extent: tuple[float, float, float, float] | None = None  # xmin, xmax, ymin, ymax
    centers: np.ndarray | None = None
    counts: np.ndarray | None = None  # (M,) high-quality samples per mode
    # images
    grid_jpeg: bytes | None = None
    real_jpeg: bytes | None = None
    grid_nrow: int = 8
    frames: tuple[tuple[int, bytes], ...] = field(default_factory=tuple)  # (step, jpeg) timeline


class RunViews:
    """Per run: the pictures every snapshot of it shares, each computed once (at the run's first snapshot)."""

    def __init__(self) -> None:
        self.frames = FrameStore()
        self._extent: tuple[float, float, float, float] | None = None
        self._real_jpeg: bytes | None = None

    def extent(self, trainer) -> tuple[float, float, float, float]:
        """The square box the toy views draw (fixed for the run so frames line up)."""
        if self._extent is None:
            self._extent = trainer.data.bounds()
        return self._extent

    def real_jpeg(self, trainer) -> bytes:
        if self._real_jpeg is None:
            self._real_jpeg = real_grid_jpeg(trainer)
        return self._real_jpeg


def real_grid_jpeg(trainer) -> bytes:
    """64 real images as a JPEG grid (rows = classes for conditional runs), for real-vs-fake."""
    data, c = trainer.data, trainer.config
    x, y = data.x, data.y  # all of it: files may be sorted by class (the embedded MNIST is)
    if c.conditional and y is not None:
        k = data.n_classes
        per = [x[y == i][: 64 // k] for i in range(k)]
        x = torch.stack([p[i] for p in per for i in range(64 // k)])  # row i = class i
    else:
        idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(c.seed))[:64]
        x = x[idx.to(x.device)]  # a fixed random 64 of the whole set
    x = x[:64].cpu().numpy()
    nrow = 64 // data.n_classes if c.conditional else 8
    return jpeg_bytes(to_grid(x, nrow), 3 if x.shape[-1] <= 8 else 2)


class FrameStore:
    """At most MAX_FRAMES (step, jpeg) frames; when full, every other old frame is dropped (even coverage)."""

    def __init__(self, capacity: int = MAX_FRAMES):
        self.capacity = capacity
        self.frames: list[tuple[int, bytes]] = []

    def add(self, step: int, jpeg: bytes) -> None:
        if self.frames and self.frames[-1][0] == step:
            self.frames[-1] = (step, jpeg)
            return
        if len(self.frames) >= self.capacity:
            self.frames = self.frames[::2]
        self.frames.append((step, jpeg))


def _toy_views(trainer, views: RunViews) -> dict:
    d = trainer.data
    xmin, xmax, ymin, ymax = extent = views.extent(trainer)
    dev = trainer.device
    fake, _ = trainer.sample(N_POINTS, seed=trainer.config.seed + 1)
    gx, gy = torch.linspace(xmin, xmax, GRID_N, device=dev), torch.linspace(ymin, ymax, GRID_N, device=dev)
    pts = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1).reshape(-1, 2)  # (GRID_N^2, 2), row-major in y
    D = trainer.D
    was = D.training
    D.eval()
    try:
        with torch.no_grad():
            s = torch.cat([_score(D, pts[i:i + 4096]) for i in range(0, len(pts), 4096)])
        heat = torch.sigmoid(s) if trainer.loss.probabilistic else s
        # Arrows: -grad_x of G's per-sample loss, the direction G's update pushes each generated point.
        x = fake[:N_ARROWS].clone().requires_grad_(True)
        g_loss = trainer.loss.g_loss(_score(D, x)) * x.shape[0]
        (grad,) = torch.autograd.grad(g_loss, x)
    finally:
        D.train(was)
    fake_np = fake.cpu().numpy()
    out = dict(real=d.x[:N_POINTS].cpu().numpy(), fake=fake_np, arrows=(-grad).cpu().numpy(),
               heat=heat.reshape(GRID_N, GRID_N).cpu().numpy(), heat_is_prob=trainer.loss.probabilistic,
               extent=extent, centers=d.centers)
    if d.centers is not None:
        out["counts"] = mode_counts(fake_np, d.centers, d.std)[0]
    return out


def _score(D, x: torch.Tensor) -> torch.Tensor:
    """Per-point score even for a packed D (PacGAN): each point is repeated `pack` times."""
    pack = getattr(D, "pack", 1)
    if pack > 1:
        x = x.repeat_interleave(pack, 0)
    return D(x).reshape(-1)


def grid(trainer) -> tuple[bytes, int]:
    """An image run's sample grid now, from its fixed noise: (JPEG, images per row)."""
    c = trainer.config
    with torch.no_grad():
        G = trainer.sampler  # G, or its weight average when config.g_ema > 0
        was = G.training
        G.eval()
        x = G(trainer.fixed_z, trainer.fixed_labels).cpu().numpy()
        G.train(was)
    nrow = 8  # images per grid row
    if c.conditional:  # sample i has class i % k (fixed_labels): regroup so that row c shows class c
        k = trainer.data.n_classes
        nrow = 64 // k
        x = x[: nrow * k].reshape(nrow, k, *x.shape[1:]).swapaxes(0, 1).reshape(-1, *x.shape[1:])
    scale = 3 if x.shape[-1] <= 8 else 2
    return jpeg_bytes(to_grid(x[:64], nrow), scale), nrow


def take(trainer, views: RunViews | None = None) -> Snapshot:
    """The run now. `views`: the run's RunViews (a runner keeps one); None computes the shared pictures afresh
    and keeps no timeline."""
    c = trainer.config
    frames = views.frames if views is not None else None
    views = views or RunViews()
    base = dict(config=c, step=trainer.step_count, status=trainer.status, diverged_at=trainer.diverged_at,
                seconds=trainer.seconds, history=trainer.history.arrays(), note=trainer.data.note)
    if trainer.data.is_toy:
        return Snapshot(**base, **_toy_views(trainer, views))
    jpeg, nrow = grid(trainer)
    if frames is not None and (trainer.step_count % c.log_every == 0 or trainer.step_count >= c.steps
                               or not frames.frames):
        frames.add(trainer.step_count, jpeg)  # one frame per logging step (snapshots also come in between)
    return Snapshot(**base, grid_jpeg=jpeg, real_jpeg=views.real_jpeg(trainer), grid_nrow=nrow,
                    frames=tuple(frames.frames) if frames is not None else ())
