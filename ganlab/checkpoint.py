"""Save and load runs: config + G and D weights + optimiser states + metric history, in one file.

The file is `torch.save` of a dict that holds only tensors and plain Python values (str, int, float, bool,
None, lists, tuples, dicts), so it loads with `torch.load(weights_only=True)`: the restricted unpickler
refuses any other object, so a crafted file cannot run code. Loading is size-capped, then checked: format
and version, required keys and their types, the config through the same validation as every other input,
and every weight's name and shape against freshly built models. Any failure raises `CheckpointError` with
one line a person can read, and nothing else is changed.

    save(trainer, "run.pt");  data = to_bytes(trainer)       # page download button
    run = load("run.pt")  # or bytes / an uploaded file
    G = run.make_generator()  # eval mode, CPU (a VAE's decoder)
    E = run.make_encoder()  # a VAE's encoder (saved in D's place)
    trainer = run.make_trainer()  # resume training where it stopped (a partial logging interval is dropped)
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import nn

from ganlab import __version__
from ganlab.config import IMAGE_DATA, TOY_DATA, ConfigError, TrainConfig, from_json
from ganlab.engine.history import History
from ganlab.engine.loop import INIT_LOCK, RunStatus
from ganlab.i18n import _

FORMAT = "ganlab-checkpoint"
FORMAT_VERSION = 1
MAX_BYTES = 20 * 2**20  # uploads larger than 20 MB are refused before they are read
SAMPLE_SHAPES = {"mnist": (1, 28, 28), "mnist-full": (1, 28, 28), "fashion-mnist": (1, 28, 28),
                 "digits": (1, 8, 8), "cifar10": (3, 32, 32)}
N_CLASSES = 10  # every labelled dataset ganlab knows has 10 classes
REQUIRED = {"format": str, "format_version": int, "config": str, "g_state": dict, "d_state": dict,
            "history": dict, "step": int}

assert set(SAMPLE_SHAPES) == set(IMAGE_DATA)


class CheckpointError(ValueError):
    """A file is not a loadable ganlab checkpoint; the message says why in one line."""


def sample_shape(config: TrainConfig) -> tuple[int, ...]:
    return (2,) if config.data in TOY_DATA else SAMPLE_SHAPES[config.data]


def n_classes(config: TrainConfig) -> int:
    return N_CLASSES if config.conditional else 0


# ---- saving ---------------------------------------------------------------------------------------------
def _cpu(state: Any) -> Any:
    """Tensors (nested in dicts/lists) moved to the CPU; everything else kept as it is."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)  # a copy: later steps never change a saved state
    if isinstance(state, dict):
        return {k: _cpu(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu(v) for v in state)
    return state


def state(trainer, optimizers: bool = True, average_only: bool = False) -> dict:
    """The checkpoint dict of a Trainer (call between steps, not while another thread steps it).

    average_only: store G's weight average (config.g_ema > 0) as the generator and no second copy -- half the
    generator's bytes, for files meant for sampling (the bundled demos); resuming one restarts the average."""
    h = trainer.history.state()
    g_avg = getattr(trainer, "G_ema", None)
    g_state, g_ema_state = trainer.G.state_dict(), None if g_avg is None else g_avg.state_dict()
    if average_only and g_ema_state is not None:
        g_state, g_ema_state = g_ema_state, None
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "ganlab_version": __version__,
        "torch_version": str(torch.__version__),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": trainer.config.to_json(),
        "sample_shape": list(trainer.data.sample_shape), "n_classes": int(trainer.data.n_classes),
        "g_state": _cpu(g_state), "d_state": _cpu(trainer.D.state_dict()), "g_ema_state": _cpu(g_ema_state),
        # a parked run (Trainer.park: training over) has no optimisers left: weights and history only
        "opt_g": _cpu(trainer.opt_g.state_dict()) if optimizers and trainer.opt_g is not None else None,
        "opt_d": _cpu(trainer.opt_d.state_dict()) if optimizers and trainer.opt_d is not None else None,
        "history": {"columns": list(h["columns"]), "data": torch.from_numpy(np.ascontiguousarray(h["data"])),
                    "stride": int(h["stride"]), "seen": int(h["seen"])},
        "step": int(trainer.step_count), "seconds": float(trainer.seconds), "status": str(trainer.status),
        "diverged_at": None if trainer.diverged_at is None else int(trainer.diverged_at),
        "fixed_z": trainer.fixed_z.detach().cpu(),
        "rng_state": trainer.gen.get_state(), "rng_device": trainer.device.type,
    }


def save(trainer, target: str | os.PathLike | IO[bytes], optimizers: bool = True,
         average_only: bool = False) -> None:
    """Write one checkpoint file (atomically when `target` is a path) or into a binary file object."""
    ckpt = state(trainer, optimizers, average_only)
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    else:
        torch.save(ckpt, target)


def to_bytes(trainer, optimizers: bool = True, max_bytes: int = MAX_BYTES) -> bytes:
    """The checkpoint as bytes (the page's download button). If optimiser states would push it past the
    upload cap (Adam keeps 2 numbers per weight: a width-64 DCGAN is ~22 MB with them, ~7 MB without),
    they are left out so the file can be uploaded again; a resume then starts fresh optimisers."""
    buf = io.BytesIO()
    save(trainer, buf, optimizers)
    if optimizers and buf.tell() > max_bytes:
        buf = io.BytesIO()
        save(trainer, buf, optimizers=False)
    return buf.getvalue()


# ---- loading --------------------------------------------------------------------------------------------
@dataclass
class Run:
    """A checked checkpoint: everything needed to sample from G (a VAE's decoder) or to resume training."""

    config: TrainConfig
    g_state: dict[str, torch.Tensor]
    d_state: dict[str, torch.Tensor]
    history: History
    step: int
    meta: dict[str, Any] = field(default_factory=dict)  # versions, created, seconds, status, ...
    opt_g: dict | None = None
    opt_d: dict | None = None
    fixed_z: torch.Tensor | None = None
    rng_state: torch.Tensor | None = None
    g_ema_state: dict[str, torch.Tensor] | None = None  # G's weight average (config.g_ema > 0)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return sample_shape(self.config)

    def make_generator(self, device: torch.device | str = "cpu") -> nn.Module:
        """G with the saved weights (its weight average if saved), in eval mode (BatchNorm: running stats)."""
        from ganlab.models import build

        with INIT_LOCK, torch.random.fork_rng(devices=[]):  # build() draws init weights from the global RNG
            G, _ = build(self.config, self.sample_shape, n_classes(self.config))
        G.load_state_dict(self.g_ema_state if self.g_ema_state is not None else self.g_state)
        return G.to(device).eval()  # the weight average when the run kept one: what its samples showed

    def make_encoder(self, device: torch.device | str = "cpu") -> nn.Module:
        """A VAE's encoder (saved in D's place) with its weights, in eval mode: x -> (mu, log sigma^2).
        CheckpointError for a GAN, whose D is no encoder."""
        if not self.config.is_vae:
            raise CheckpointError(f"only a VAE checkpoint has an encoder; this one holds a {self.config.model} GAN")
        from ganlab.models import build

        with INIT_LOCK, torch.random.fork_rng(devices=[]):
            _, E = build(self.config, self.sample_shape, n_classes(self.config))
        E.load_state_dict(self.d_state)
        return E.to(device).eval()

    def make_trainer(self, device: str = "auto", dataset=None, points: np.ndarray | None = None,
                     data_dir: str | None = None, quality: bool = True):
        """A Trainer that continues this run: weights, optimiser states, history, step count, fixed noise."""
        from ganlab.engine.factory import make_trainer

        trainer = make_trainer(self.config.replace(device=device), dataset=dataset, points=points,
                               data_dir=data_dir)
        if tuple(trainer.data.sample_shape) != self.sample_shape:
            raise CheckpointError(f"the data has samples of shape {tuple(trainer.data.sample_shape)} but the "
                                  f"checkpoint's models expect {self.sample_shape}")
        trainer.G.load_state_dict(self.g_state)
        trainer.D.load_state_dict(self.d_state)
        if trainer.G_ema is not None:  # the saved average, or (none saved) a fresh one from G's weights
            trainer.G_ema.load_state_dict(self.g_ema_state if self.g_ema_state is not None else self.g_state)
        try:
            if self.opt_g is not None and self.opt_d is not None:
                trainer.opt_g.load_state_dict(self.opt_g)
                trainer.opt_d.load_state_dict(self.opt_d)
        except (ValueError, KeyError, TypeError, RuntimeError) as e:
            raise CheckpointError(f"optimiser state does not fit the model: {_line(e)}") from None
        if quality:
            from ganlab import quality as q

            if any(c in self.history.columns for c in q.COLUMNS):
                q.attach(trainer)
        trainer.history = History.from_state(self.history.state(), trainer.history.capacity)
        trainer.step_count = self.step
        trainer.seconds = float(self.meta.get("seconds", 0.0))
        trainer.status = RunStatus(self.meta.get("status", RunStatus.READY))
        trainer.diverged_at = self.meta.get("diverged_at")
        if self.fixed_z is not None:
            trainer.fixed_z = self.fixed_z.to(trainer.device)
        if self.rng_state is not None and self.meta.get("rng_device") == trainer.device.type:
            try:
                trainer.gen.set_state(self.rng_state)
            except (RuntimeError, TypeError):
                pass  # a foreign RNG state only costs reproducibility, not correctness
        return trainer


def _line(e: BaseException, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()] or [type(e).__name__]
    # torch's weights_only refusal is many lines; the one that names the refused object is the useful one
    text = next((ln.split("error: ", 1)[-1] for ln in lines if "WeightsUnpickler error" in ln), lines[0])
    text = text.split(" was not an allowed global")[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read(source: str | os.PathLike | bytes | bytearray | IO[bytes], max_bytes: int) -> bytes:
    cap = f"{max_bytes / 2**20:.0f} MB"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"no checkpoint file at {path}")
        if path.stat().st_size > max_bytes:
            raise CheckpointError(f"file is {path.stat().st_size / 2**20:.1f} MB; checkpoints are capped at {cap}")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise CheckpointError(f"cannot read a checkpoint from a {type(source).__name__}")
    if len(data) > max_bytes:
        raise CheckpointError(f"file is larger than {cap}, the checkpoint size cap")
    if not data:
        raise CheckpointError("the file is empty")
    return data


def _check_state(name: str, got: dict, want: dict[str, torch.Tensor]) -> None:
    """Same parameter names and shapes as a freshly built model (checked on the meta device: no memory)."""
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in got.items()):
        raise CheckpointError(f"{name} weights must map names to tensors")
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or extra:
        what = ", ".join([f"missing {k}" for k in missing[:2]] + [f"unexpected {k}" for k in extra[:2]])
        raise CheckpointError(f"{name} weights do not match the architecture in the config ({what})")
    for k, v in want.items():
        if tuple(got[k].shape) != tuple(v.shape) or got[k].dtype != v.dtype:
            raise CheckpointError(f"{name} weight {k} has shape {tuple(got[k].shape)} {got[k].dtype}, but the "
                                  f"config builds {tuple(v.shape)} {v.dtype}")


def _check_history(h: dict) -> History:
    cols, data = h.get("columns"), h.get("data")
    if not (isinstance(cols, list) and all(isinstance(c, str) for c in cols)):
        raise CheckpointError("history columns must be a list of names")
    if not (isinstance(data, torch.Tensor) and data.dim() == 2 and data.shape[1] == len(cols)):
        raise CheckpointError("history data must be a (rows, columns) tensor")
    if not (isinstance(h.get("stride"), int) and isinstance(h.get("seen"), int) and h["stride"] >= 1):
        raise CheckpointError("history stride/seen must be whole numbers")
    return History.from_state({"columns": cols, "data": data.float().numpy(), "stride": h["stride"],
                               "seen": h["seen"]})


def load(source: str | os.PathLike | bytes | IO[bytes], max_bytes: int = MAX_BYTES) -> Run:
    """Read and check a checkpoint. Raises CheckpointError (a ValueError) with a one-line reason."""
    data = _read(source, max_bytes)
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - every way a file can be bad ends here, as one message
        raise CheckpointError(f"not a readable ganlab checkpoint ({type(e).__name__}: {_line(e)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError("this file is a PyTorch file but not a ganlab checkpoint")
    for key, kind in REQUIRED.items():
        if not isinstance(ckpt.get(key), kind) or isinstance(ckpt.get(key), bool):
            raise CheckpointError(f"checkpoint field {key!r} is missing or not a {kind.__name__}")
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint format version {ckpt['format_version']} is not supported "
                              f"(this ganlab {__version__} reads version {FORMAT_VERSION})")
    try:
        config = from_json(ckpt["config"])
    except ConfigError as e:
        raise CheckpointError(f"the checkpoint's config is invalid: {_line(e)}") from None
    from ganlab.models import build

    try:
        with torch.device("meta"):
            G, D = build(config, sample_shape(config), n_classes(config))
    except Exception as e:  # noqa: BLE001 - e.g. an architecture this version cannot build
        raise CheckpointError(f"cannot build the models the config describes: {_line(e)}") from None
    _check_state("generator", ckpt["g_state"], G.state_dict())
    _check_state("discriminator", ckpt["d_state"], D.state_dict())
    g_ema_state = ckpt.get("g_ema_state")
    if g_ema_state is not None:
        if not isinstance(g_ema_state, dict):
            raise CheckpointError("checkpoint field 'g_ema_state' must be a dict of tensors")
        _check_state("generator average", g_ema_state, G.state_dict())
    history = _check_history(ckpt["history"])
    opt_g, opt_d = ckpt.get("opt_g"), ckpt.get("opt_d")
    if not all(o is None or isinstance(o, dict) for o in (opt_g, opt_d)):
        raise CheckpointError("optimiser states must be dicts")
    fixed_z = ckpt.get("fixed_z")
    if fixed_z is not None and (not isinstance(fixed_z, torch.Tensor) or fixed_z.dim() != 2
                                or fixed_z.shape[1] != config.z_dim):
        raise CheckpointError(f"fixed noise must be a (n, {config.z_dim}) tensor")
    rng = ckpt.get("rng_state")
    meta = {k: ckpt.get(k) for k in ("format_version", "ganlab_version", "torch_version", "created", "seconds",
                                     "status", "diverged_at", "rng_device", "sample_shape", "n_classes")}
    if meta["status"] not in tuple(RunStatus):
        meta["status"] = RunStatus.READY.value
    if not isinstance(meta["seconds"], (int, float)) or isinstance(meta["seconds"], bool):
        meta["seconds"] = 0.0
    if not (meta["diverged_at"] is None or isinstance(meta["diverged_at"], int)):
        meta["diverged_at"] = None
    return Run(config, ckpt["g_state"], ckpt["d_state"], history, ckpt["step"], meta, opt_g, opt_d, fixed_z,
               rng if isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8 else None, g_ema_state)


def describe(run: Run) -> str:
    """One line for the page: what the checkpoint holds."""
    c = run.config
    kind = _("conditional {model}").format(model=c.model) if c.conditional else c.model
    loss = _("trained on the ELBO") if c.is_vae else _("loss {loss}").format(loss=c.loss)
    return _("{kind} on {data}, {loss}, {steps} steps, saved {created} by ganlab {version}").format(
        kind=kind, data=c.data, loss=loss, steps=run.step, created=run.meta.get("created") or "?",
        version=run.meta.get("ganlab_version") or "?")


def config_json(run: Run) -> str:
    return json.dumps(run.config.to_dict(), indent=2, sort_keys=True)
