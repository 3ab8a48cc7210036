"""Images out of arrays: tiled grids, JPEG, PNG, animated GIF, NPZ and a zip of PNG frames.

Every function takes images as (N, C, H, W) float arrays in [-1, 1] (the generators' tanh range) or an
already tiled (H, W, C) uint8 grid, and returns bytes (or uint8 arrays). Pillow is imported on first use.
"""
from __future__ import annotations

import io
import zipfile

import numpy as np


def to_uint8(frames: np.ndarray, scale: int = 1) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (N, H*scale, W*scale, C) uint8: x -> round((x + 1) * 127.5), nearest upscale."""
    x = ((np.clip(frames, -1, 1) + 1) * 127.5).round().astype(np.uint8).transpose(0, 2, 3, 1)
    if scale > 1:
        x = x.repeat(scale, 1).repeat(scale, 2)
    return x


def to_grid(x: np.ndarray, nrow: int = 8, pad: int = 2) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (rows*(H+pad)+pad, nrow*(W+pad)+pad, C) uint8 tiled image, row-major."""
    n, ch, h, w = x.shape
    rows = -(-n // nrow)
    out = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, ch), dtype=np.uint8)
    img = to_uint8(x)
    for i in range(n):
        r, c = divmod(i, nrow)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img[i]
    return out


def pil_image(img: np.ndarray):
    """(H, W, C) uint8 with C = 1 or 3 -> a PIL image (grey or RGB)."""
    from PIL import Image

    return Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)


def jpeg_bytes(grid: np.ndarray, scale: int = 1, quality: int = 90) -> bytes:
    """(H, W, C) uint8 grid -> JPEG, upscaled `scale` times (nearest); what live views send (it encodes far
    faster than PNG)."""
    return _encode(grid, "JPEG", scale, quality=quality)


def png_bytes(grid: np.ndarray, scale: int = 1) -> bytes:
    """(H, W, C) uint8 grid -> PNG (lossless), upscaled `scale` times (nearest)."""
    return _encode(grid, "PNG", scale)


def _encode(grid: np.ndarray, fmt: str, scale: int, **kw) -> bytes:
    im = pil_image(grid)
    if scale > 1:
        from PIL import Image

        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def images_jpeg(x: np.ndarray, nrow: int = 8, scale: int = 4, quality: int = 92) -> bytes:
    """(N, C, H, W) in [-1, 1] -> one JPEG grid, nrow images a row, upscaled `scale` times (nearest)."""
    return jpeg_bytes(to_grid(x, max(1, min(nrow, len(x)))), scale, quality)


def gif_bytes(frames: np.ndarray, fps: float = 8.0, scale: int = 4, bounce: bool = True) -> bytes:
    """Animated GIF of frames (N, C, H, W) in [-1, 1], looping forever; bounce plays it forth and back."""
    imgs = to_uint8(frames, scale)
    if bounce and len(imgs) > 2:
        imgs = np.concatenate([imgs, imgs[-2:0:-1]])
    pil = [pil_image(im) for im in imgs]
    if pil and pil[0].mode == "RGB":  # GIF holds <= 256 colours: one palette fitted to all frames at once
        pal = pil_image(np.concatenate(imgs[:: max(1, len(imgs) // 16)], 0)).quantize(256)
        pil = [im.quantize(palette=pal, dither=0) for im in pil]
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=int(round(1000 / fps)), loop=0,
                optimize=False, disposal=1)
    return buf.getvalue()


def frames_npz_bytes(frames: np.ndarray, **arrays: np.ndarray) -> bytes:
    """NPZ with `frames` (N, C, H, W) float32 in [-1, 1] plus any named arrays (z, labels, t)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=np.asarray(frames, np.float32), **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def frames_png_zip_bytes(frames: np.ndarray, scale: int = 1) -> bytes:
    """A zip of frame_000.png, frame_001.png, ... (one PNG per frame)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i, img in enumerate(to_uint8(frames, scale)):
            zf.writestr(f"frame_{i:03d}.png", png_bytes(img))
    return buf.getvalue()
