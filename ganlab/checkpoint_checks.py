"""What a checkpoint file must be, so that opening one never costs more memory than its size.

ganlab.checkpoint.load runs these in two rounds (docs/architecture.md, "Reliability rules"):

  before torch.load  `check_zip`: the file is a zip archive (what torch.save writes) of a bounded number of
                     entries (read from its end record, before zipfile makes an object per entry), whose
                     uncompressed sizes -- declared in the directory AND counted while inflating
                     them, a few 64 KB chunks at a time -- add up to at most the file size cap. torch.save
                     stores entries uncompressed, so a real checkpoint unpacks to its own size, while a
                     deflated entry of zeros (a "zip bomb") would otherwise be inflated whole by torch.load.
  after torch.load   `check_tensors`: every tensor owns exactly its numbers (storage bytes = numel x element
                     size, no zero or overlapping strides, no offset into a bigger storage); then each field
                     against what the config determines: weights (`check_state`), the metric history (known
                     columns, at most `HISTORY_ROWS` rows: `check_history`), optimiser moments of the weights'
                     shapes (`check_optimizer`), fixed noise of (FIXED_SAMPLES, z_dim) (`check_fixed_z`),
                     `step` within [0, config.steps] (`check_step`).

Each refusal is a `CheckpointError` with one translated line in a student's words, never torch's own wording;
a name from the file appears in it only when it is a short plain identifier (`_plain`).
"""
from __future__ import annotations

import io
import zipfile
from typing import Any

import torch

from ganlab.engine.history import History
from ganlab.i18n import _

MAX_ENTRIES = 4096  # zip entries: one per tensor storage, ~6 more (a width-64 DCGAN with Adam: ~130)
DIRECTORY_BYTES = MAX_ENTRIES * 128  # the zip's central directory: ~74 bytes an entry in torch.save's files
PICKLE_BYTES = 256 * 2**10  # data.pkl, the file's structure: ~4 KB for the demos; unpickled, each byte
# makes at most a few dozen bytes of Python objects (an empty list per 2 bytes), so this bounds them too
HISTORY_ROWS = 1000  # History's capacity: what a run ever saves
RNG_BYTES = 16 * 2**10  # a CPU generator's state is 5,056 bytes, a CUDA one's 16
MAX_DEPTH = 6  # nesting of dicts and lists (opt_g -> state -> 0 -> exp_avg is the deepest: 4)
_CHUNK = 64 * 2**10


class CheckpointError(ValueError):
    """A file is not a loadable ganlab checkpoint; the message says why in one line."""


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f}"


# ---- before torch.load ------------------------------------------------------------------------------------
def check_zip(data: bytes, max_unpacked: int) -> None:
    """Refuse anything but a zip archive whose entries unpack to at most `max_unpacked` bytes in all."""
    not_ours = _("this file is not a readable ganlab checkpoint: ganlab saves checkpoints as .pt files with its "
                 "Download checkpoint button or `python -m ganlab train --out`")
    too_big = _("this file unpacks to more than {cap} MB; a ganlab checkpoint unpacks to about its own size, "
                "so this one was not saved by ganlab").format(cap=_mb(max_unpacked))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CheckpointError(not_ours)
    entries, directory = _directory(data)
    if entries > MAX_ENTRIES or directory > DIRECTORY_BYTES:
        raise CheckpointError(_("this file has far more parts than any ganlab checkpoint ({n}, at most {max}); it "
                                "was not saved by ganlab").format(n=entries, max=MAX_ENTRIES))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > max_unpacked:  # what each entry declares
                raise CheckpointError(too_big)
            pkl = [i for i in infos if i.filename.endswith("/data.pkl")]
            if len(pkl) != 1:
                raise CheckpointError(not_ours)
            if pkl[0].file_size > PICKLE_BYTES:  # e.g. 200,000 history column names
                raise CheckpointError(_("this file lists far more fields than any ganlab checkpoint ({kb} KB of "
                                        "names and numbers, at most {max} KB); it was not saved by ganlab").format(
                    kb=pkl[0].file_size // 1024, max=PICKLE_BYTES // 1024))
            total = 0
            for info in infos:  # what each entry really inflates to (a CRC or size mismatch raises)
                with z.open(info) as f:
                    while chunk := f.read(_CHUNK):
                        total += len(chunk)
                        if total > max_unpacked:
                            raise CheckpointError(too_big)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(_("this file is damaged or incomplete (the download may have been cut short); "
                                "save the checkpoint again")) from None


def _directory(data: bytes) -> tuple[int, int]:
    """(entries, bytes) of the zip's central directory, from its end record (APPNOTE 4.3.16) and, when there is
    one, zip64's (4.3.14), the larger of each: zipfile reads that many bytes of directory, whatever the count."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or len(data) < at + 22:
        return 0, 0  # is_zipfile found one: unreachable, and zipfile refuses it anyway
    entries = int.from_bytes(data[at + 10: at + 12], "little")
    size = int.from_bytes(data[at + 12: at + 16], "little")
    loc = at - 20  # the zip64 end record's locator sits right before the end record
    if loc >= 0 and data[loc: loc + 4] == b"PK\x06\x07":
        rec = int.from_bytes(data[loc + 8: loc + 16], "little")
        if data[rec: rec + 4] == b"PK\x06\x06":
            entries = max(entries, int.from_bytes(data[rec + 32: rec + 40], "little"))
            size = max(size, int.from_bytes(data[rec + 40: rec + 48], "little"))
    return entries, size  # a saturated field (0xFFFF, 0xFFFFFFFF) without its zip64 record stays too large


# ---- after torch.load -------------------------------------------------------------------------------------
def _dense(t: torch.Tensor) -> bool:
    """t owns exactly its numbers: storage bytes = numel x element size, starting at offset 0, strides a
    permutation of a contiguous layout's (channels_last conv weights pass; expanded, sliced, overlapping fail)."""
    if t.layout != torch.strided or t.is_quantized or t.device.type != "cpu":
        return False
    if t.storage_offset() != 0 or t.untyped_storage().nbytes() != t.numel() * t.element_size():
        return False
    if t.numel() == 0:
        return True
    expected = 1  # the stride a dim must have: the product of the sizes of the dims laid out inside it
    for stride, size in sorted((st, s) for s, st in zip(t.shape, t.stride()) if s != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def check_tensors(obj: Any, where: str = "", depth: int = 0) -> int:
    """Walk the loaded dicts / lists / tuples; every tensor must be dense (`_dense`). Returns the tensor count."""
    if depth > MAX_DEPTH:
        raise CheckpointError(_("this file is nested more deeply than any ganlab checkpoint"))
    if isinstance(obj, torch.Tensor):
        if not _dense(obj):
            raise CheckpointError(_("the file's tensor {name} is not stored the way ganlab saves tensors (it "
                                    "shares, repeats or skips numbers); save the checkpoint again with ganlab")
                                  .format(name=where or "?"))
        return 1
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return 0
    # a message names a tensor by its path of keys, each a short plain name: never echo a key the file chose
    return sum(check_tensors(v, ".".join(filter(None, (where, str(k) if _plain(k) else "?"))), depth + 1)
               for k, v in items)


def _plain(key: Any) -> bool:
    """A key worth naming in a message: a short identifier or a small index."""
    return (isinstance(key, int) and not isinstance(key, bool) and 0 <= key < 10_000) or (
        isinstance(key, str) and len(key) <= 40 and key.replace("_", "").replace(".", "").isalnum()
        and key.isascii())


def check_state(name: str, got: dict, want: dict[str, torch.Tensor]) -> None:
    """Same parameter names and shapes as a freshly built model (checked on the meta device: no memory)."""
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in got.items()):
        raise CheckpointError(_("the {net} weights must map names to tensors").format(net=name))
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or extra:
        what = ", ".join([_("missing {name}").format(name=k) for k in missing[:2]]
                         + [_("unexpected {name}").format(name=k if _plain(k) else "?") for k in extra[:2]])
        raise CheckpointError(_("the {net} weights do not match the architecture in the config ({what})").format(
            net=name, what=what))
    for k, v in want.items():
        if tuple(got[k].shape) != tuple(v.shape) or got[k].dtype != v.dtype:
            raise CheckpointError(_("{net} weight {name} has shape {shape} {dtype}, but the config builds "
                                    "{want} {want_dtype}").format(net=name, name=k, shape=tuple(got[k].shape),
                                                                  dtype=got[k].dtype, want=tuple(v.shape),
                                                                  want_dtype=v.dtype))


def known_columns() -> frozenset[str]:
    """Every metric-history column some ganlab trainer writes (toy, image, VAE, image quality)."""
    from ganlab import quality
    from ganlab.engine.trainer import BASE_COLUMNS, TOY_COLUMNS
    from ganlab.engine.vae import VAE_COLUMNS

    return frozenset(BASE_COLUMNS + TOY_COLUMNS + VAE_COLUMNS + quality.COLUMNS + quality.COND_COLUMNS)


def check_history(h: dict) -> History:
    """Known, distinct columns; a float (rows, columns) tensor of at most HISTORY_ROWS rows; whole stride/seen.
    (A History allocates capacity x columns numbers whatever the rows: unknown columns would be free to add.)"""
    cols, data = h.get("columns"), h.get("data")
    if not (isinstance(cols, list) and all(isinstance(c, str) for c in cols)):
        raise CheckpointError(_("history columns must be a list of names"))
    unknown = len(set(cols) - known_columns())
    if unknown or len(set(cols)) != len(cols):
        raise CheckpointError(_("the metric history has columns ganlab does not write ({n} unknown, {dup} "
                                "repeated); it was not saved by ganlab").format(n=unknown,
                                                                                dup=len(cols) - len(set(cols))))
    if not (isinstance(data, torch.Tensor) and data.dim() == 2 and data.shape[1] == len(cols)
            and data.is_floating_point()):
        raise CheckpointError(_("history data must be a (rows, columns) tensor"))
    if data.shape[0] > HISTORY_ROWS:
        raise CheckpointError(_("the metric history has {rows} rows; ganlab keeps at most {max}").format(
            rows=data.shape[0], max=HISTORY_ROWS))
    stride, seen = h.get("stride"), h.get("seen")
    if not (whole(stride) and whole(seen) and 1 <= stride <= 2**40 and 0 <= seen <= 2**50):
        raise CheckpointError(_("history stride/seen must be whole numbers"))
    return History.from_state({"columns": cols, "data": data.float().numpy(), "stride": stride, "seen": seen},
                              HISTORY_ROWS)


def whole(v: Any) -> bool:
    """A Python int that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def check_optimizer(name: str, opt: Any, params: list[torch.Tensor]) -> None:
    """A torch optimiser state_dict over `params` (the model's parameters, in order): each moment has its
    weight's shape and dtype, each step count is one number (Adam's exp_avg, exp_avg_sq, step; RMSprop's
    square_avg; SGD's momentum_buffer)."""
    bad = CheckpointError(_("the {net} optimiser state does not fit the model in the config").format(net=name))
    if opt is None:
        return
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)
            and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in opt["param_groups"])):
        raise bad
    ids = [i for g in opt["param_groups"] for i in g["params"]]
    if len(ids) != len(params) or len(set(ids)) != len(ids) or not all(whole(i) for i in ids):
        raise bad
    shape_of = dict(zip(ids, params))
    for i, entry in opt["state"].items():
        if i not in shape_of or not isinstance(entry, dict):
            raise bad
        p = shape_of[i]
        for v in entry.values():
            if isinstance(v, torch.Tensor) and not (v.shape == p.shape and v.dtype == p.dtype) \
                    and not (v.dim() == 0 and v.is_floating_point()):
                raise bad


def check_fixed_z(fixed_z: Any, z_dim: int) -> None:
    """The fixed noise every sample grid is drawn from: (FIXED_SAMPLES, z_dim) float32, as a Trainer draws it."""
    from ganlab.engine.trainer import FIXED_SAMPLES

    if fixed_z is None:
        return
    if not (isinstance(fixed_z, torch.Tensor) and tuple(fixed_z.shape) == (FIXED_SAMPLES, z_dim)
            and fixed_z.dtype == torch.float32):
        raise CheckpointError(_("the fixed noise must be {rows} x {z_dim} float32 numbers, as ganlab saves it")
                              .format(rows=FIXED_SAMPLES, z_dim=z_dim))


def check_step(step: int, steps: int) -> None:
    """The run's step count within its budget [0, config.steps] (a negative one would lengthen a resume)."""
    if not 0 <= step <= steps:
        raise CheckpointError(_("the step count {step} must lie between 0 and the run's {steps} steps").format(
            step=step, steps=steps))


def rng_state(rng: Any) -> torch.Tensor | None:
    """The saved generator state when it is one (a small uint8 vector), else None: a foreign one only costs
    reproducibility."""
    if isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8 and rng.dim() == 1 and rng.numel() <= RNG_BYTES:
        return rng
    return None
