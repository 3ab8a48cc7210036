"""What a class engine keeps per member (Member) and per chunk (Work: the working stack and its plan)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ganlab import losses
from ganlab.config import TrainConfig
from ganlab.data import Dataset
from ganlab.engine.batched import adam, stacked
from ganlab.engine.batched.stacked import Groups
from ganlab.engine.history import History
from ganlab.engine.loop import ConfigPacing
from ganlab.engine.trainer import BASE_COLUMNS, TOY_COLUMNS, Trainer

NETS = ("g", "d")  # stacked parameters (leaves that require grad)
STATE = ("g", "d", "ema", "g_m", "g_v", "d_m", "d_v", "sn", "steps")  # everything kept per member row


class Member(ConfigPacing):
    """One run in the stack: its config, generator, data and bookkeeping (the weights are rows of the stack)."""

    def __init__(self, mid: int, config: TrainConfig, data: Dataset, G, D, device: torch.device,
                 dtype: torch.dtype = torch.float32):
        self.id, self.config, self.data, self.device = mid, config, data, device
        self.G, self.D = G, D  # modules of this member's shapes: snapshots copy its rows into them
        self.G_ema = None
        self.loss = losses.get(config.loss)
        self.gen = torch.Generator(device).manual_seed(config.seed)
        self.fixed_z = torch.randn(64, config.z_dim, generator=self.gen, device=device)  # as the Trainer draws
        self.fixed_labels = None
        self.ema_on = bool(config.g_ema)
        self.step_count = 0
        self.status = "ready"
        self.diverged_at: int | None = None
        self.seconds = 0.0
        self.paused = False
        self.history = History(BASE_COLUMNS + (TOY_COLUMNS if data.centers is not None else ()))
        self.i = 0  # steps of the current logging interval done
        # d_loss, g_loss, D(x), D(G(z)) of the steps of this interval, in the parameters' precision
        self.acc = np.zeros((config.log_every, 4), np.float64 if dtype == torch.float64 else np.float32)
        self.grad_norms = (0.0, 0.0)  # of the last interval's last step (the Trainer's _grad_norms)
        # f(member) -> {column: value} at each logging step, on its materialised modules: image runs' quality
        # scores (ganlab.quality.attach, as on a Trainer)
        self.evaluators: list = []

    sample = Trainer.sample  # samples as the Trainer draws them (eval mode, its weight average when on)
    sampler = Trainer.sampler

    def steppable(self, paused_too: bool = False) -> bool:
        return self.status == "ready" and (paused_too or not self.paused) and self.step_count < self.budget


class Work:
    """A working stack for one chunk: the stepping members' rows, their plan and per-step buffers."""

    def __init__(self, state: dict[str, list[Tensor]], device: torch.device, members: list[Member],
                 rows: list[int] | None):
        """`state`: the engine's storage (per name a list of (M, ...) tensors); `rows`: the members' rows in it
        (None: every member steps, and the working stack is the storage itself)."""
        self.members, self.rows, self.device = members, rows, device
        if rows is None:
            self.t = state
        else:
            idx = torch.tensor(rows, dtype=torch.long, device=device)
            with torch.no_grad():
                self.t = {k: [x.detach().index_select(0, idx) for x in v] for k, v in state.items()}
            for k in NETS:
                for x in self.t[k]:
                    x.requires_grad_(True)
        # every member's data in one tensor, rows offset per member; members that share one data tensor (an
        # image data set: one copy per process, ganlab.data) share its rows instead of a copy each
        first = members[0].data.x
        shared = all(m.data.x is first for m in members)
        self.data = first if shared else torch.cat([m.data.x for m in members])
        sizes = [len(m.data.x) for m in members]
        starts = [0] * len(members) if shared else np.cumsum([0] + sizes[:-1])
        self.offsets = torch.tensor(starts, dtype=torch.long, device=self.device).view(-1, 1)
        self.sizes = sizes
        self.adam_g = adam.AdamRows.of(self.t["g"], self.t["g_m"], self.t["g_v"], self.t["steps"][0])
        self.adam_d = adam.AdamRows.of(self.t["d"], self.t["d_m"], self.t["d_v"], self.t["steps"][1])
        self.version = -1

    def replan(self, dtype: torch.dtype, version: int) -> None:
        """Per-member settings as groups and (R, ...) tensors (of the parameters' `dtype`), buffers sized for
        them; the plan of the engine's state `version`."""
        ms, dev, c0 = self.members, self.device, self.members[0].config
        R, B = len(ms), c0.batch_size
        f32 = dict(dtype=dtype, device=dev)  # float32 unless the default dtype was float64 at add()
        cs = [m.config for m in ms]
        self.d_groups = Groups([(m.loss.key, m.config.real_label) for m in ms], dev)
        self.g_groups = Groups([m.loss.key for m in ms], dev)
        self.D = max(c.d_steps for c in cs)
        # member r takes D steps D - d_r .. D - 1 of each G step (the last one, which makes the fake that G's
        # update reuses, is common to all)
        self.d_slots = [range(self.D - c.d_steps, self.D) for c in cs]
        self.d_active: list[Tensor | None] = []
        self.adam_d_plans, self.clip = [], []
        clip = [c.clip_value if m.loss.clip_weights else math.inf for m, c in zip(ms, cs)]
        for k in range(self.D):
            act = [k >= self.D - c.d_steps for c in cs]
            self.d_active.append(None if all(act) else torch.tensor(act, device=dev).view(-1, 1))
            self.adam_d_plans.append(adam.AdamPlan([c.d_lr for c in cs], [c.beta1 for c in cs],
                                                   [c.beta2 for c in cs], act, dev, dtype))
            bound = [b if a else math.inf for b, a in zip(clip, act)]
            self.clip.append(None if all(math.isinf(b) for b in bound) else torch.tensor(bound, **f32))
        self.adam_g_plan = adam.AdamPlan([c.g_lr for c in cs], [c.beta1 for c in cs], [c.beta2 for c in cs],
                                         None, dev, dtype)
        self.gp = self._subset([i for i, m in enumerate(ms) if m.loss.gradient_penalty and m.config.gp_weight],
                               [c.gp_weight for c in cs])
        self.r1 = self._subset([i for i, c in enumerate(cs) if c.r1_gamma], [0.5 * c.r1_gamma for c in cs])
        ema = [1.0 - c.g_ema if m.ema_on else 0.0 for m, c in zip(ms, cs)]
        self.ema_w = None if not any(ema) else torch.tensor(ema, **f32)
        # unrolled D (Metz et al.): members with k > 0 look ahead; K = the stack's largest k
        ks = [c.unrolled_steps for c in cs]
        self.K = max(ks)
        self.unrolled = None
        if self.K:
            ix = [i for i in range(R) if ks[i]]
            rows = stacked.rows_of(ix, R, dev)
            lrs, acts = [], []
            for j in range(self.K):
                on = [ks[i] > j for i in ix]
                lrs.append(torch.tensor([cs[i].unrolled_lr if o else 0.0 for i, o in zip(ix, on)], **f32))
                acts.append(None if all(on) else torch.tensor(on, device=dev).view(-1, 1))
            plain = [i for i in range(R) if not ks[i]]
            perm = None
            if plain:
                order = plain + ix
                perm = torch.tensor(sorted(range(R), key=order.__getitem__), dtype=torch.long, device=dev)
            self.unrolled = dict(rows=rows, lrs=lrs, acts=acts, perm=perm,
                                 plain=stacked.rows_of(plain, R, dev) if plain else None,
                                 groups=Groups([(ms[i].loss.key, cs[i].real_label) for i in ix], dev))
        # per-step buffers
        L = max(c.log_every for c in cs)
        self.buf = torch.zeros(L + 1, R, 4, **f32)  # rows 0..L-1: steps of the segment; row L: grad norms
        self.idx = torch.zeros(self.D, R, B, dtype=torch.long, device=dev)
        self.z = torch.zeros(self.D, R, B, c0.z_dim, **f32)
        self.uidx = torch.zeros(max(self.K, 1), R, B, dtype=torch.long, device=dev)
        self.version = version

    def _subset(self, ix: list[int], weights: list[float]):
        if not ix:
            return None
        dev = self.device
        return dict(rows=stacked.rows_of(ix, len(self.members), dev),
                    index=torch.tensor(ix, dtype=torch.long, device=dev),
                    w=torch.tensor([weights[i] for i in ix], dtype=self.t["g"][0].dtype, device=dev))
