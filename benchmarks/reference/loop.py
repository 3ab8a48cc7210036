"""The tutorials' GAN training loop, shared by every reference case (benchmarks/reference/__init__.py).

One step, as the tutorials (and PyTorch's DCGAN tutorial) write it:
    fake = G(z)
    D:  loss_D = BCE(D(x), 1) + BCE(D(fake.detach()), 0);  zero_grad, backward, Adam step
    G:  loss_G = BCE(D(fake), 1)  (the non-saturating loss);  zero_grad, backward, Adam step
    keep (loss_D.item(), loss_G.item())  (one host read per step, as a tutorial that logs its losses)
"""
from __future__ import annotations

import time
from types import ModuleType

import torch
from torch import nn


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train(case: ModuleType, steps: int, batch: int, device: str = "cpu", warmup: int = 20, seed: int = 0) -> dict:
    """Train `case` for warmup + steps G updates; returns {case, batch, steps, steps_per_sec, device, losses}."""
    dev = torch.device(device)
    torch.manual_seed(seed)
    netG, netD = case.networks()
    netG, netD = netG.to(dev), netD.to(dev)
    criterion = nn.BCELoss()
    optG = torch.optim.Adam(netG.parameters(), lr=case.LR, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=case.LR, betas=(0.5, 0.999))
    real_batches = case.real_batches(batch, dev)
    losses: list[tuple[float, float]] = []
    start = None
    for i in range(warmup + steps):
        if i == warmup:
            _sync(dev)
            start = time.perf_counter()
        real = next(real_batches)
        real_label = torch.ones(batch, 1, device=dev)
        fake_label = torch.zeros(batch, 1, device=dev)
        noise = torch.randn(batch, case.Z_DIM, device=dev)
        fake = netG(noise)

        # (1) D: maximise log D(x) + log(1 - D(G(z)))
        errD = criterion(netD(real), real_label) + criterion(netD(fake.detach()), fake_label)
        optD.zero_grad()
        errD.backward()
        optD.step()

        # (2) G: maximise log D(G(z)) (through the D just updated)
        errG = criterion(netD(fake), real_label)
        optG.zero_grad()
        errG.backward()
        optG.step()

        losses.append((errD.item(), errG.item()))
    _sync(dev)
    seconds = time.perf_counter() - start
    return {"case": case.NAME, "batch": batch, "steps": steps, "steps_per_sec": steps / seconds,
            "device": str(dev), "losses": losses}
