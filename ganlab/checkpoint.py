"""Save and load runs: config + G and D weights + optimiser states + metric history, in one file.

The file is `torch.save` of a dict that holds only tensors and plain Python values (str, int, float, bool,
None, lists, tuples, dicts), so it loads with `torch.load(weights_only=True)`: the restricted unpickler
refuses any other object, so a crafted file cannot run code. Loading is size-capped and costs at most about
the file's size (ganlab/checkpoint_checks.py: the zip's unpacked size before torch.load, then dense tensors,
known history columns, weights, optimiser moments and fixed noise of the shapes the config builds, a step
within the budget); then checked: format and version, required keys and their types, the config through the
same validation as every other input. Any failure -- MemoryError included -- raises `CheckpointError` with one
translated line a student can read, and nothing else is changed.

    save(trainer, "run.pt");  data = to_bytes(trainer)       # page download button
    run = load("run.pt")  # or bytes / an uploaded file
    info = run.summary()  # what a page shows of it: config, step, meta, curves (no tensors to keep around)
    G = run.make_generator()  # eval mode, CPU (a VAE's decoder)
    E = run.make_encoder()  # a VAE's encoder (saved in D's place)
    trainer = run.make_trainer()  # resume training where it stopped (a partial logging interval is dropped)
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import nn

from ganlab import __version__
from ganlab import checkpoint_checks as checks
from ganlab.checkpoint_checks import CheckpointError
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

_META_TEXT = re.compile(r"[0-9A-Za-z.+:_-]{1,40}")  # versions and dates as ganlab writes them; shown on pages

assert set(SAMPLE_SHAPES) == set(IMAGE_DATA)


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
@dataclass(frozen=True)
class Summary:
    """What a page shows of a checkpoint, without its tensors: what a session may keep (a Run holds the whole
    file: weights, optimiser moments, ...). `describe` and `config_json` take either."""

    config: TrainConfig
    step: int
    meta: dict[str, Any]
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # the history's columns (<= 1,000 rows each)


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

    def summary(self, curves: bool = True) -> Summary:
        return Summary(self.config, self.step, dict(self.meta), self.history.arrays() if curves else {})

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
        except (ValueError, KeyError, TypeError, RuntimeError):
            raise CheckpointError(_("the optimiser state does not fit the model in the config")) from None
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


def _read(source: str | os.PathLike | bytes | bytearray | IO[bytes], max_bytes: int) -> bytes:
    cap = _("{mb} MB").format(mb=f"{max_bytes / 2**20:.0f}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(_("no checkpoint file at {path}").format(path=path))
        if path.stat().st_size > max_bytes:
            raise CheckpointError(_("the file is {size} MB; checkpoints are capped at {cap}").format(
                size=f"{path.stat().st_size / 2**20:.1f}", cap=cap))
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise CheckpointError(_("cannot read a checkpoint from a {kind}").format(kind=type(source).__name__))
    if len(data) > max_bytes:
        raise CheckpointError(_("the file is larger than {cap}, the checkpoint size cap").format(cap=cap))
    if not data:
        raise CheckpointError(_("the file is empty"))
    return data


def load(source: str | os.PathLike | bytes | IO[bytes], max_bytes: int = MAX_BYTES) -> Run:
    """Read and check a checkpoint. Raises CheckpointError (a ValueError) with a one-line reason, translated."""
    try:
        data = _read(source, max_bytes)
        checks.check_zip(data, max_bytes)  # before torch.load: no entry may inflate past the cap
        return _checked(data)
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError(_("the server ran out of memory while opening this file, and nothing changed; try "
                                "again in a minute, or ask your teacher")) from None
    except Exception:  # noqa: BLE001 - every other way a file can be bad ends here, as one message
        raise CheckpointError(_("this file is not a readable ganlab checkpoint: its contents are not what ganlab "
                                "saves")) from None


def _checked(data: bytes) -> Run:
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - torch's words (pickle, weights_only) mean nothing to a student
        raise CheckpointError(_("this file is not a readable ganlab checkpoint: it holds something other than the "
                                "tensors, numbers and text ganlab saves")) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(_("this file is a PyTorch file but not a ganlab checkpoint"))
    for key, kind in REQUIRED.items():
        if not isinstance(ckpt.get(key), kind) or isinstance(ckpt.get(key), bool):
            raise CheckpointError(_("checkpoint field {key} is missing or not a {kind}").format(
                key=repr(key), kind=kind.__name__))
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(_("checkpoint format version {got} is not supported (this ganlab {version} reads "
                                "version {want})").format(got=ckpt["format_version"], version=__version__,
                                                          want=FORMAT_VERSION))
    try:
        config = from_json(ckpt["config"])
    except ConfigError as e:
        raise CheckpointError(_("the checkpoint's config is invalid: {error}").format(error=_first_line(e))) from None
    from ganlab.models import build

    try:
        with torch.device("meta"):
            G, D = build(config, sample_shape(config), n_classes(config))
    except Exception:  # noqa: BLE001 - e.g. an architecture this version cannot build
        raise CheckpointError(_("this ganlab cannot build the models the checkpoint's config describes")) from None
    checks.check_state(_("generator"), ckpt["g_state"], G.state_dict())
    checks.check_state(_("discriminator"), ckpt["d_state"], D.state_dict())
    g_ema_state = ckpt.get("g_ema_state")
    if g_ema_state is not None:
        if not isinstance(g_ema_state, dict):
            raise CheckpointError(_("checkpoint field 'g_ema_state' must be a dict of tensors"))
        checks.check_state(_("generator average"), g_ema_state, G.state_dict())
    checks.check_tensors(ckpt)  # the shape checks above read no numbers; everything below does
    checks.check_step(ckpt["step"], config.steps)
    history = checks.check_history(ckpt["history"])
    opt_g, opt_d = ckpt.get("opt_g"), ckpt.get("opt_d")
    checks.check_optimizer(_("generator"), opt_g, list(G.parameters()))
    checks.check_optimizer(_("discriminator"), opt_d, list(D.parameters()))
    fixed_z = ckpt.get("fixed_z")
    checks.check_fixed_z(fixed_z, config.z_dim)
    return Run(config, ckpt["g_state"], ckpt["d_state"], history, ckpt["step"], _meta(ckpt), opt_g, opt_d, fixed_z,
               checks.rng_state(ckpt.get("rng_state")), g_ema_state)


def _meta(ckpt: dict) -> dict[str, Any]:
    """The descriptive fields, each kept only when it is what ganlab writes (pages show some of them)."""
    meta = {k: ckpt.get(k) for k in ("format_version", "ganlab_version", "torch_version", "created", "seconds",
                                     "status", "diverged_at", "rng_device", "sample_shape", "n_classes")}
    for k in ("ganlab_version", "torch_version", "created", "rng_device"):
        if not (isinstance(meta[k], str) and _META_TEXT.fullmatch(meta[k])):
            meta[k] = None
    if meta["status"] not in tuple(RunStatus):
        meta["status"] = RunStatus.READY.value
    seconds = meta["seconds"]
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e9):
        meta["seconds"] = 0.0
    if not (checks.whole(meta["diverged_at"]) and 0 <= meta["diverged_at"] <= ckpt["step"]):
        meta["diverged_at"] = None
    if not (isinstance(meta["sample_shape"], list) and len(meta["sample_shape"]) <= 4
            and all(checks.whole(n) for n in meta["sample_shape"])):
        meta["sample_shape"] = None
    if not checks.whole(meta["n_classes"]):
        meta["n_classes"] = None
    return meta


def _first_line(e: BaseException, limit: int = 160) -> str:
    text = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(run: Run | Summary) -> str:
    """One line for the page: what the checkpoint holds."""
    c = run.config
    kind = _("conditional {model}").format(model=c.model) if c.conditional else c.model
    loss = _("trained on the ELBO") if c.is_vae else _("loss {loss}").format(loss=c.loss)
    return _("{kind} on {data}, {loss}, {steps} steps, saved {created} by ganlab {version}").format(
        kind=kind, data=c.data, loss=loss, steps=run.step, created=run.meta.get("created") or "?",
        version=run.meta.get("ganlab_version") or "?")


def config_json(run: Run | Summary) -> str:
    return json.dumps(run.config.to_dict(), indent=2, sort_keys=True)
