"""Which MLP runs can share one stacked step: `stack_key(config)` (2-D toy runs; unconditional MLP image GANs
such as mnist-mlp too; which runs the job layer stacks: ganlab/jobs/placement.py `stackable`).

Members of one stack must have networks of the same shapes and the same batch, on the same device. The key
holds the ordered (name, shape) of G's and D's parameters as `ganlab.models.build` makes them for the config
(on the meta device: ganlab/models/shapes.py), so a field that changes a network -- g_widths, d_widths, or one
added later -- changes the key without being listed here; plus what the stacked step needs beyond shapes
(activation and its slope, spectral norm, pack, batch size, device, z_dim). Everything a student may change
while a run is live (loss, learning rates, betas, D:G ratio, real label, gradient penalty, R1, weight clipping,
unrolled steps, weight average, budget) and the seed and data set are per member, so they are not in the key.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from ganlab.config import ConfigError, TrainConfig
from ganlab.models.shapes import Shapes, describe, param_shapes


class NotStackable(ConfigError):
    """The config cannot join a stack (or not this one); the message says why."""


@dataclass(frozen=True)
class StackKey:
    g_shapes: Shapes  # G's parameters: ((name, shape), ...) in the module's order
    d_shapes: Shapes  # D's (spectral norm shows in the names: ...parametrizations.weight.original)
    z_dim: int
    activation: str
    leaky_slope: float | None  # only for leaky_relu
    spectral_norm: bool
    pack: int
    batch_size: int
    device: str
    model: str = "mlp"
    sample_dim: int = 2

    def diff(self, other: "StackKey") -> list[str]:
        """What differs, readable: "G's layers 2 -> 32 -> 32 -> 2 vs 2 -> 16 -> 16 -> 2", "pack 2 vs 1"."""
        out = []
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a == b:
                continue
            if f.name in ("g_shapes", "d_shapes"):
                out.append(f"{f.name[0].upper()}'s layers {describe(a)} vs {describe(b)}")
            else:
                out.append(f"{f.name} {a!r} vs {b!r}")
        return out


def refusal(config: TrainConfig) -> str | None:
    """Why this config cannot be stacked at all, or None."""
    if config.model != "mlp" or config.conditional:
        return "only unconditional MLP runs are stacked"
    if config.g_batchnorm:
        return "G's BatchNorm is not stacked (its batch statistics and running buffers are per run)"
    if config.d_dropout:
        return ("D's dropout is not stacked: its masks come from torch's global RNG, one draw per forward, "
                "which a stacked step cannot reproduce for each member")
    if config.optimizer != "adam":
        return f"the stacked optimiser is Adam; optimizer {config.optimizer!r} runs on the single-run Trainer"
    return None


def stack_key(config: TrainConfig) -> StackKey:
    """The key that groups configs into one stack. Raises NotStackable for a config no stack can take."""
    from ganlab.engine.trainer import resolve_device

    why = refusal(config)
    if why:
        raise NotStackable(why)
    g, d = param_shapes(config)
    return StackKey(g, d, config.z_dim, config.activation,
                    config.leaky_slope if config.activation == "leaky_relu" else None, config.spectral_norm,
                    config.pack, config.batch_size, str(resolve_device(config.device)))
