"""`python -m ganlab latent CHECKPOINT ...`: the Latent space page, headless.

    python -m ganlab latent run.pt interpolate --seeds 0 1 --mode slerp --frames 16 --out path.gif
    python -m ganlab latent run.pt sweep --seed 3 --dim 7 --out sweep.png
    python -m ganlab latent cgan.pt grid --styles 8 --out grid.png
    python -m ganlab latent cgan.pt morph --classes 3 8 --seed 2 --out morph.npz
    python -m ganlab latent toy.pt manifold --seeds 0 1 --out manifold.npz   (2-D toy runs: warped grid + path)
    python -m ganlab latent vae.pt encode --digits 7 4000 --mode lerp --frames 10 --out morph.gif   (a VAE:
        encode two real images, numbers into the run's data, here the embedded MNIST, and walk between codes)

The output kind follows the file suffix: .gif (animation), .npz (frames + z), .zip (one PNG per frame),
.png / .jpg (one grid image). Bad requests raise UsageError (one line on stderr, exit 2).
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from ganlab import imaging, latent
from ganlab.cli.common import UsageError

WHAT = ("interpolate", "sweep", "grid", "morph", "manifold", "encode")
SUFFIXES = (".gif", ".npz", ".zip", ".png", ".jpg", ".jpeg")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("latent", help="interpolations, sweeps and class grids of a checkpoint's generator")
    p.add_argument("checkpoint", help="a .pt file written by `train --out` or the app")
    p.add_argument("what", choices=WHAT)
    p.add_argument("--out", required=True, help="FILE.gif | .npz | .zip (PNG frames) | .png / .jpg (grid)")
    p.add_argument("--seeds", type=int, nargs=2, default=(0, 1), metavar=("A", "B"), help="interpolate: ends")
    p.add_argument("--mode", choices=tuple(latent.MODES), default="slerp", help="interpolate / encode: path")
    p.add_argument("--digits", type=int, nargs=2, default=(0, 1), metavar=("I", "J"),
                   help="encode (a VAE): the two real images, by number in the run's data")
    p.add_argument("--frames", type=int, default=10, help="interpolate / morph: frames (2..256)")
    p.add_argument("--seed", type=int, default=0, help="sweep / grid / morph: the z (style) seed")
    p.add_argument("--dim", type=int, default=0, help="sweep: which z dimension")
    p.add_argument("--label", type=int, default=0, help="conditional models: class of the samples")
    p.add_argument("--styles", type=int, default=8, help="grid: columns (1..32)")
    p.add_argument("--classes", type=int, nargs=2, default=(0, 1), metavar=("FROM", "TO"), help="morph: classes")
    p.add_argument("--fps", type=float, default=8.0, help="GIF frames per second")
    p.set_defaults(func=cmd_latent)
    return p


def frames_for(G, z_dim: int, args) -> tuple[np.ndarray, np.ndarray, int]:
    """(frames (N, C, H, W) in [-1, 1], z (N, d), images per row) for one request."""
    k = latent.n_classes(G)
    if k and not 0 <= args.label < k:
        raise ValueError(f"--label must be in 0..{k - 1}")
    if args.what == "interpolate":
        if not 2 <= args.frames <= 256:
            raise ValueError("--frames must be in 2..256")
        z0, z1 = latent.noise(args.seeds[0], z_dim)[0], latent.noise(args.seeds[1], z_dim)[0]
        z = latent.interpolate(z0, z1, args.frames, args.mode)
        return latent.render(G, z, np.full(len(z), args.label) if k else None), z, min(args.frames, 12)
    if args.what == "sweep":
        z = latent.sweep(latent.noise(args.seed, z_dim)[0], [args.dim], np.linspace(-3, 3, 9))
        return latent.render(G, z, np.full(len(z), args.label) if k else None), z, 9
    if not k:
        raise ValueError(f"'{args.what}' needs a conditional generator; this one takes no class label")
    if args.what == "grid":
        if not 1 <= args.styles <= 32:
            raise ValueError("--styles must be in 1..32")
        z, labels = latent.conditional_grid(k, args.styles, z_dim, args.seed)
        return latent.render(G, z, labels), z, args.styles
    if not 2 <= args.frames <= 256:
        raise ValueError("--frames must be in 2..256")
    z = latent.noise(args.seed, z_dim)[0]
    frames = latent.class_morph(G, z, args.classes[0], args.classes[1], args.frames)
    return frames, np.repeat(z[None], args.frames, 0), min(args.frames, 12)


def write(frames: np.ndarray, z: np.ndarray, nrow: int, out: Path, fps: float) -> None:
    suffix = out.suffix.lower()
    if suffix == ".gif":
        data = imaging.gif_bytes(frames, fps, scale=max(1, 224 // frames.shape[-1]))
    elif suffix == ".npz":
        data = imaging.frames_npz_bytes(frames, z=z)
    elif suffix == ".zip":
        data = imaging.frames_png_zip_bytes(frames, scale=4)
    else:
        grid = imaging.to_grid(frames, nrow)
        data = imaging.png_bytes(grid) if suffix == ".png" else imaging.jpeg_bytes(grid, quality=75)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def cmd_latent(args) -> int:
    from ganlab import checkpoint

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise UsageError(f"--out must end in one of {', '.join(SUFFIXES)}, got {out.name!r}")
    try:
        run = checkpoint.load(args.checkpoint)
        G = run.make_generator("cpu")
        if run.config.is_toy != (args.what == "manifold"):
            raise ValueError("'manifold' is for 2-D toy checkpoints, the other views for image generators")
        if args.what == "manifold":
            return _manifold(G, run.config.z_dim, args, out)
        if args.what == "encode":
            frames, z, nrow = _encode(run, G, args)
        else:
            frames, z, nrow = frames_for(G, run.config.z_dim, args)
    except ValueError as e:  # CheckpointError included
        raise UsageError(str(e)) from None
    write(frames, z, nrow, out, args.fps)
    print(f"wrote {out} ({len(frames)} images)")
    return 0


def _encode(run, G, args) -> tuple[np.ndarray, np.ndarray, int]:
    """A VAE: real images number I and J of the run's data -> codes -> `--frames` decoded frames between them."""
    from ganlab.data.images import load_images_or_fallback

    E = run.make_encoder("cpu")  # CheckpointError (a ValueError) for a GAN: it has no encoder
    if not 2 <= args.frames <= 256:
        raise ValueError("--frames must be in 2..256")
    x = load_images_or_fallback(run.config.data).x
    i, j = args.digits
    if not (0 <= i < len(x) and 0 <= j < len(x)):
        raise ValueError(f"--digits must be in 0..{len(x) - 1}")
    frames, z = latent.encode_path(G, E, x[i], x[j], args.frames, args.mode)
    return frames, z, min(args.frames, 12)


def _manifold(G, z_dim: int, args, out: Path) -> int:
    """NPZ: rows, cols (n_grid, n_fine, 2) warped grid lines; path_z, path_x (24, 2) the path in noise / data."""
    if out.suffix.lower() != ".npz":
        raise ValueError("'manifold' writes an .npz file")
    m = latent.toy_manifold(G, z_dim)
    p0, p1 = latent.noise(args.seeds[0], 2)[0], latent.noise(args.seeds[1], 2)[0]
    path_x = latent.toy_path(G, m["rest"], p0, p1, 24, args.mode)
    buf = io.BytesIO()
    np.savez_compressed(buf, rows=m["rows"], cols=m["cols"], grid=m["grid"],
                        path_z=latent.interpolate(p0, p1, 24, args.mode), path_x=path_x)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    print(f"wrote {out}")
    return 0
