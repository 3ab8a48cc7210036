"""A network's layer list and weight counts, as Keras's `model.summary()` prints them (for pages and tests).

Keras counts a BatchNormalization layer as 4 numbers per feature: gamma and beta (trainable) and the moving
mean and variance (non-trainable). PyTorch keeps the last two as buffers, not parameters, so
`keras_count = trainable + running statistics` is the number to compare with a Keras model's "Total params".
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Layer:
    kind: str  # the module's class name: Linear, LeakyReLU, BatchNorm1d, Dropout, ConvTranspose2d, ...
    detail: str  # "100 -> 128", "slope 0.01", "128 features", "p 0.3", ...
    params: int  # trainable weights
    stats: int  # running statistics (BatchNorm's mean and variance): Keras's non-trainable params


def _detail(m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return f"{m.in_features} -> {m.out_features}"
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        return f"{m.in_channels} -> {m.out_channels}, {m.kernel_size[0]}x{m.kernel_size[1]} stride {m.stride[0]}"
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return f"{m.num_features} features, momentum {m.momentum:g}"
    if isinstance(m, nn.LeakyReLU):
        return f"slope {m.negative_slope:g}"
    if isinstance(m, nn.Dropout):
        return f"p {m.p:g}"
    if isinstance(m, nn.Embedding):
        return f"{m.num_embeddings} x {m.embedding_dim}"
    if isinstance(m, nn.Unflatten):
        return "to " + "x".join(map(str, m.unflattened_size))
    return ""


def layers(model: nn.Module) -> list[Layer]:
    """The leaf modules of `model` in registration order (a Sequential's order is its forward order)."""
    out = []
    for m in model.modules():
        if next(m.children(), None) is not None:
            continue
        params = sum(p.numel() for p in m.parameters(recurse=False))
        stats = sum(b.numel() for b in m.buffers(recurse=False) if b.is_floating_point())  # not num_batches_tracked
        out.append(Layer(type(m).__name__, _detail(m), params, stats))
    return out


def keras_count(model: nn.Module) -> int:
    """Trainable weights + BatchNorm running statistics: Keras's "Total params" for the same network."""
    return sum(layer.params + layer.stats for layer in layers(model))


def networks(config, sample_shape: tuple[int, ...], n_classes: int = 0) -> dict[str, list[Layer]]:
    """{'G': layers, 'D': layers} of the networks `config` builds (on the meta device: no memory, no RNG).
    For a VAE the two are the decoder (G's network) and the encoder (D's mirror)."""
    from ganlab.models import build

    with torch.device("meta"):
        G, D = build(config, tuple(sample_shape), n_classes)
    return {"G": layers(G), "D": layers(D)}
