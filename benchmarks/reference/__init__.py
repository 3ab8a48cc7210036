"""The reference GAN loops: plain PyTorch, written the way the tutorials write them, one module per bench case.

They are the yardstick every `ganlab bench` speed ratio is measured against. Each case module says what it
trains (its networks, how it draws a real batch, its learning rate); `loop.train` is the tutorials' loop they all
share: sample z, one D update on BCE(real -> 1) + BCE(fake -> 0), one G update on BCE(D(fake) -> 1), Adam
(0.5, 0.999), and both losses read back to the host after every step, as a tutorial prints or keeps them.

    python -m benchmarks.reference toy   --steps 2000 --batch 256    # ring of 8 Gaussians, MLPs 2x128
    python -m benchmarks.reference mnist-mlp --steps 300 --batch 100 # MNIST-sized MLP GAN (784-128-128)
    python -m benchmarks.reference dcgan --steps 100 --batch 64      # the 28x28 DCGAN

Image data is random but correctly shaped (speed does not depend on the pixels). Nothing here reads a file.
"""
from __future__ import annotations

from types import ModuleType

from benchmarks.reference import dcgan, loop, mnist_mlp, toy

# bench case name -> its module (networks(z_dim) -> (G, D), real_batches(batch, device), Z_DIM, LR)
CASES: dict[str, ModuleType] = {"toy": toy, "mnist-mlp": mnist_mlp, "dcgan": dcgan}


def case(name: str) -> ModuleType:
    if name not in CASES:
        raise KeyError(f"no reference loop for {name!r}; there are {', '.join(CASES)}")
    return CASES[name]


def steps_per_sec(name: str, steps: int, batch: int, device: str = "cpu", warmup: int = 20) -> float:
    """G steps per second of the reference loop for case `name`, timed over `steps` after `warmup` untimed."""
    return loop.train(case(name), steps=steps, batch=batch, device=device, warmup=warmup)["steps_per_sec"]


def param_counts(name: str) -> tuple[int, int]:
    """(G, D) parameter counts of the case's reference networks."""
    G, D = case(name).networks()
    return sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())
