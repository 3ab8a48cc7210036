"""The networks a config would build, without building them: each data set's sample shape, and the ordered
(name, shape) of G's and D's parameters.

The shapes come from the one model-building function the Trainer and the class engine call
(`ganlab.models.build`), run on torch's meta device (no memory, no RNG draws, a few ms), so every field that
changes a network (g_widths, d_widths, pack, conditional, spectral norm, ...) is seen, including fields added
later. Stack keys (ganlab/engine/batched/key.py) and run costs (ganlab/jobs/cost/) are computed from these.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from ganlab.config import TOY_DATA, TrainConfig

Shapes = tuple[tuple[str, tuple[int, ...]], ...]  # ((parameter name, shape), ...) in registration order

# data set -> (sample shape, classes): what ganlab.data.make_dataset gives, known without loading the data
IMAGE_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "mnist": ((1, 28, 28), 10),
    "mnist-full": ((1, 28, 28), 10),
    "fashion-mnist": ((1, 28, 28), 10),
    "digits": ((1, 8, 8), 10),
    "cifar10": ((3, 32, 32), 10),  # make_dataset asks for size 32
}


def data_shape(config: TrainConfig) -> tuple[tuple[int, ...], int]:
    """(sample shape, number of classes) of the config's data: toy points are (2,) without classes."""
    if config.data in TOY_DATA:
        return (2,), 0
    return IMAGE_SHAPES[config.data]


class _NoRandomInit(TorchFunctionMode):
    """Skips in-place random initialisation while networks are built on the meta device: meta tensors hold no
    values, and torch's meta `normal_` imports torch._dynamo on first use (seconds on a busy server)."""

    SKIP = frozenset({torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.bernoulli_,
                      torch.Tensor.exponential_, torch.Tensor.random_})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.SKIP or getattr(func, "__module__", None) == "torch.nn.init":
            return args[0] if args else kwargs["tensor"]
        # spectral norm's power iteration at build time (its values are meaningless on meta; torch's meta mv
        # imports torch._dynamo too): the right shapes, no work
        if func is torch.mv:
            return args[0].new_empty(args[0].shape[0])
        if func is torch.vdot:
            return args[0].new_empty(())
        if func in (torch.Tensor.__truediv__, torch.Tensor.div, torch.div) and isinstance(args[1], torch.Tensor) \
                and args[1].dim() == 0:  # weight / sigma
            return args[0]
        if func is F.normalize:
            return kwargs["out"] if kwargs.get("out") is not None else args[0]
        return func(*args, **kwargs)


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Modules made inside have meta tensors (shapes only) and skip their random initialisation."""
    with torch.device("meta"), _NoRandomInit():
        yield


def on_meta(config: TrainConfig) -> tuple[nn.Module, nn.Module]:
    """(G, D) as `ganlab.models.build` makes them for this config, with meta tensors (shapes only)."""
    from ganlab.models import build

    shape, n_classes = data_shape(config)
    with meta_device():
        return build(config, shape, n_classes)


def _named(module: nn.Module) -> Shapes:
    return tuple((name, tuple(p.shape)) for name, p in module.named_parameters())


@functools.lru_cache(maxsize=512)
def param_shapes(config: TrainConfig) -> tuple[Shapes, Shapes]:
    """(G's, D's) ordered parameter names and shapes, e.g. (('net.0.weight', (128, 2)), ('net.0.bias', (128,)),
    ...). Cached per config (a TrainConfig is frozen and hashable)."""
    G, D = on_meta(config)
    return _named(G), _named(D)


def describe(shapes: Shapes) -> str:
    """'2 -> 128 -> 128 -> 2' for an MLP's weights (the widths a student typed), else the weights' shapes."""
    weights = [s for name, s in shapes if name.endswith("weight") or name.endswith("weight.original")]
    if weights and all(len(s) == 2 for s in weights):
        return " -> ".join([str(weights[0][1])] + [str(s[0]) for s in weights])
    return ", ".join(f"{name} {'x'.join(map(str, s))}" for name, s in shapes)
