"""Latent-space tools: interpolation (lerp / slerp), per-dimension sweeps, class-conditional grids, class morphs,
a VAE's encoder (real images -> codes, so two real digits can be interpolated), the warped noise manifold of
2-D toy generators, and animation export (GIF, NPZ, PNG zip).

Noise vectors are numpy float32: a single z is (d,), a batch (N, d). `render` is the one place a generator
runs: it takes numpy in and gives numpy out, so callers (pages, the CLI) never handle tensors.

Why slerp: for z ~ N(0, I_d) with large d, ||z|| concentrates at sqrt(d) (the "soap bubble"). The straight
line between two such vectors cuts through the inside of the shell: at t = 1/2 its norm is about
sqrt(d / 2), a region G never saw in training. slerp walks along the great circle instead, keeping the norm
(White 2016, "Sampling Generative Networks").
"""
from __future__ import annotations

import numpy as np
import torch

from ganlab.engine import torch_compat

# ---- interpolation -------------------------------------------------------------------------------------------


def _ts(t) -> tuple[np.ndarray, bool]:
    t = np.asarray(t, dtype=np.float64)
    return t.reshape(-1, 1), t.ndim == 0


def lerp(z0: np.ndarray, z1: np.ndarray, t) -> np.ndarray:
    """z(t) = (1 - t) z0 + t z1.  z0, z1: (d,); t: scalar -> (d,) or (n,) -> (n, d)."""
    ts, scalar = _ts(t)
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    out = ((1 - ts) * z0 + ts * z1).astype(np.float32)  # (n, d)
    return out[0] if scalar else out


def slerp(z0: np.ndarray, z1: np.ndarray, t, eps: float = 1e-4) -> np.ndarray:
    """Spherical interpolation along the great circle from z0 to z1, with the norm lerped between the ends.

    omega = angle(z0, z1);  z(t) = [sin((1-t) omega) u0 + sin(t omega) u1] / sin(omega) * ((1-t)|z0| + t|z1|)
    with u = z / |z|. Near-parallel ends (sin(omega) < eps) fall back to lerp (the arc is a line there);
    a zero vector has no direction, so that case is lerp too. Anti-parallel ends (omega ~ pi) have no unique
    great circle: we fall back to lerp as well (rare for random z: it needs z1 ~ -z0).
    """
    ts, scalar = _ts(t)
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, t)
    u0, u1 = z0 / n0, z1 / n1
    omega = np.arccos(np.clip(u0 @ u1, -1.0, 1.0))
    s = np.sin(omega)
    if s < eps:
        return lerp(z0, z1, t)
    direction = (np.sin((1 - ts) * omega) * u0 + np.sin(ts * omega) * u1) / s  # (n, d), unit length
    out = (direction * ((1 - ts) * n0 + ts * n1)).astype(np.float32)
    return out[0] if scalar else out


MODES = {"lerp": lerp, "slerp": slerp}


def interpolate(z0: np.ndarray, z1: np.ndarray, n: int, mode: str = "slerp") -> np.ndarray:
    """n evenly spaced points from z0 to z1 (both ends included) -> (n, d) float32."""
    if mode not in MODES:
        raise ValueError(f"unknown interpolation {mode!r}; choose one of {', '.join(MODES)}")
    if n < 2:
        raise ValueError(f"an interpolation needs at least 2 frames, got {n}")
    return MODES[mode](z0, z1, np.linspace(0.0, 1.0, n))


def noise(seed: int, z_dim: int, n: int = 1) -> np.ndarray:
    """z ~ N(0, I) from a seed, the same on every machine: (n, z_dim) float32 (torch's CPU generator)."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(n, z_dim, generator=g).numpy()


# ---- sweeps and grids ----------------------------------------------------------------------------------------


def sweep(z: np.ndarray, dims, values) -> np.ndarray:
    """One row per dim, one column per value: z with z[dim] = value.  z (d,) -> (len(dims) * len(values), d)."""
    z = np.asarray(z, np.float32)
    dims, values = list(dims), np.asarray(values, np.float32)
    out = np.repeat(z[None], len(dims) * len(values), 0).reshape(len(dims), len(values), -1)  # (D, V, d)
    for i, k in enumerate(dims):
        if not 0 <= k < z.shape[0]:
            raise ValueError(f"dimension {k} is outside z (z has {z.shape[0]} dimensions)")
        out[i, :, k] = values
    return out.reshape(-1, z.shape[0])


def conditional_grid(n_classes: int, n_styles: int, z_dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows = classes, columns = styles (one fixed z per column, shared by every row).

    Returns z (n_classes * n_styles, z_dim) and labels (n_classes * n_styles,) int64, row-major, so
    `to_grid(render(G, z, labels), nrow=n_styles)` puts digit c in row c.
    """
    styles = noise(seed, z_dim, n_styles)  # (S, d)
    z = np.tile(styles, (n_classes, 1))  # (K * S, d): row c repeats the S styles
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n_styles)  # (K * S,)
    return z, labels


def class_codes(G: torch.nn.Module, y0: int, y1: int, n: int) -> np.ndarray:
    """The label code G sees, walked from class y0 to class y1 in n steps -> (n, E).

    Our conditional generators (mlp, dcgan) concatenate e(y) = W[y], a learned nn.Embedding row, to z.
    Interpolating the one-hot vector, (1-t) onehot(y0) + t onehot(y1), gives W^T((1-t) e_y0 + t e_y1) =
    (1-t) W[y0] + t W[y1]: for a linear embedding the two choices are the same path, so we lerp the rows.
    (slerp would not help: the codes are not Gaussian noise and their norms mean nothing in particular.)
    """
    W = _embedding(G).weight.detach().cpu().numpy()  # (K, E)
    k = W.shape[0]
    if not (0 <= y0 < k and 0 <= y1 < k):
        raise ValueError(f"classes must be in 0..{k - 1}, got {y0} and {y1}")
    return lerp(W[y0], W[y1], np.linspace(0.0, 1.0, n))


def class_morph(G: torch.nn.Module, z: np.ndarray, y0: int, y1: int, n: int) -> np.ndarray:
    """Images that change class y0 -> y1 while keeping the style z (d,) fixed -> (n, C, H, W) in [-1, 1]."""
    codes = class_codes(G, y0, y1, n)  # (n, E)
    zs = np.repeat(np.asarray(z, np.float32)[None], n, 0)  # (n, d)
    return render(G, zs, codes=codes)


class _Codes(torch.nn.Module):
    """Stands in for G.embed: returns the given codes (b, E) whatever the labels."""

    def __init__(self, codes: torch.Tensor):
        super().__init__()
        self.codes = codes

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.codes


def _with_codes(G: torch.nn.Module, codes: torch.Tensor) -> torch.nn.Module:
    """A copy of G (same weights) whose `embed` returns `codes`; G itself is untouched (sessions may share it)."""
    _embedding(G)
    return torch_compat.with_child(G, "embed", _Codes(codes))


def _embedding(G: torch.nn.Module) -> torch.nn.Embedding:
    emb = getattr(G, "embed", None)
    if not isinstance(emb, torch.nn.Embedding):
        raise ValueError("this generator is not conditional (it has no label embedding)")
    return emb


def n_classes(G: torch.nn.Module) -> int:
    """Number of classes of a conditional generator, 0 for an unconditional one."""
    emb = getattr(G, "embed", None)
    return emb.num_embeddings if isinstance(emb, torch.nn.Embedding) else 0


# ---- running G --------------------------------------------------------------------------------------------------


def render(G: torch.nn.Module, z: np.ndarray, labels: np.ndarray | None = None, codes: np.ndarray | None = None,
           batch: int = 256) -> np.ndarray:
    """G(z) in eval mode, batched, under no_grad -> numpy: images (N, C, H, W) in [-1, 1], toy points (N, 2).

    z: (N, d) or (d,). labels: (N,) int class ids for a conditional G (default class 0). codes: (N, E) label
    embeddings fed to G in place of e(labels) (used by class morphs; see `class_codes`).
    G may be shared between sessions: it is only read (and left in the train/eval mode it was in).
    """
    z = np.asarray(z, np.float32)
    z = z[None] if z.ndim == 1 else z
    k = n_classes(G)
    dev = next(G.parameters()).device
    if k and labels is None:
        labels = np.zeros(len(z), np.int64)
    was = G.training
    G.eval()  # BatchNorm: running statistics, so one image does not depend on the rest of the batch
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(z), batch):
                zb = torch.from_numpy(z[i:i + batch]).to(dev)  # (b, d)
                yb = None if not k else torch.as_tensor(np.asarray(labels)[i:i + batch], dtype=torch.long,
                                                        device=dev)  # (b,)
                g = G
                if codes is not None:
                    cb = torch.as_tensor(np.asarray(codes, np.float32)[i:i + batch], device=dev)  # (b, E)
                    g = _with_codes(G, cb)
                out.append(g(zb, yb).float().cpu().numpy())
    finally:
        G.train(was)
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def encode(E: torch.nn.Module, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """A VAE encoder's mean code mu(x) of each image: x (N, C, H, W) in [-1, 1] -> (N, z_dim) float32.

    q(z | x) = N(mu, diag sigma^2); its mean is the code of x (the decoder of mu(x) is x's reconstruction). A GAN
    has no such map from images to noise: reaching a real image's z needs an optimisation ("GAN inversion")."""
    from ganlab.models.vae import encode as vae_encode

    x = np.asarray(x, np.float32)
    dev = next(E.parameters()).device
    was = E.training
    E.eval()  # BatchNorm on running statistics: a code does not depend on the rest of the batch
    try:
        with torch.no_grad():
            out = [vae_encode(E, torch.from_numpy(x[i:i + batch]).to(dev))[0].float().cpu().numpy()
                   for i in range(0, len(x), batch)]
    finally:
        E.train(was)
    return np.concatenate(out)


def encode_path(G: torch.nn.Module, E: torch.nn.Module, x0: np.ndarray, x1: np.ndarray, n: int,
                mode: str = "lerp") -> tuple[np.ndarray, np.ndarray]:
    """Two real images -> their codes -> n frames along the path between them (ends included).

    x0, x1: (C, H, W) in [-1, 1]. Returns (frames (n, C, H, W) = decoder(z(t)), z (n, d)); frames[0] and
    frames[-1] are the reconstructions of x0 and x1."""
    z0, z1 = encode(E, np.stack([x0, x1]))  # (d,) each
    z = interpolate(z0, z1, n, mode)
    return render(G, z), z


def toy_manifold(G: torch.nn.Module, z_dim: int, n_grid: int = 11, span: float = 2.5, n_fine: int = 60,
                 seed: int | None = None) -> dict[str, np.ndarray]:
    """How G maps the plane of the first two noise dimensions into 2-D data space (GAN Lab's warped grid).

    The noise grid z[0], z[1] in [-span, span] (n_grid lines each way, each line sampled at n_fine points);
    the other dims are fixed at 0 (seed None: the mean of N(0, I)) or at one draw from `noise(seed)`.
    Returns rows (n_grid, n_fine, 2): lines of constant z[1]; cols (n_grid, n_fine, 2): lines of constant z[0];
    grid (n_grid,) the noise values; rest (z_dim,) the fixed z (dims 0 and 1 set to 0).
    """
    if z_dim < 2:
        raise ValueError("the manifold view needs at least 2 noise dimensions")
    rest = np.zeros(z_dim, np.float32) if seed is None else noise(seed, z_dim)[0]
    rest[:2] = 0
    a = np.linspace(-span, span, n_grid, dtype=np.float32)  # line positions
    s = np.linspace(-span, span, n_fine, dtype=np.float32)  # positions along a line
    z = np.repeat(rest[None], 2 * n_grid * n_fine, 0).reshape(2, n_grid, n_fine, z_dim)
    z[0, :, :, 0], z[0, :, :, 1] = s[None, :], a[:, None]  # rows: z[1] = a_i, z[0] runs along the line
    z[1, :, :, 0], z[1, :, :, 1] = a[:, None], s[None, :]  # cols: z[0] = a_i, z[1] runs
    x = render(G, z.reshape(-1, z_dim)).reshape(2, n_grid, n_fine, -1)  # (2, n_grid, n_fine, 2)
    return {"rows": x[0], "cols": x[1], "grid": a, "rest": rest}


def toy_path(G: torch.nn.Module, rest: np.ndarray, p0, p1, n: int = 24, mode: str = "lerp") -> np.ndarray:
    """Where an interpolation path in the manifold's noise plane lands: (p0 -> p1 in z[0:2]) -> (n, 2)."""
    z = np.repeat(np.asarray(rest, np.float32)[None], n, 0)  # (n, d)
    z[:, :2] = interpolate(np.asarray(p0, np.float32), np.asarray(p1, np.float32), n, mode)
    return render(G, z)
