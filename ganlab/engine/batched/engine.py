"""ClassEngine: many MLP GAN runs with the same network shapes (toy runs, or MLP image runs: key.py), trained by
one stacked step.

Each member is a single run in all but storage: its own seed (same initial weights as a Trainer with that
seed), its own generator for data indices and noise (drawn in the Trainer's order, so a member follows the
single-run Trainer step for step), data set, loss, learning rates, betas, D:G ratio, real label, penalties,
clipping, unrolled steps, weight average, budget, pause, history and divergence. The step itself is one set
of batched kernels for all members (see stacked.py, adam.py).

State lives in `_state`: per name a list of (M, ...) tensors, one row per member (insertion order). A chunk
(`step(n)`) trains working stacks (work.py): `_state` itself when one block holds every member, else gathered
copies of the stepping members' rows (blocks of `block` rows: 8 on a CPU, all on a GPU), written back at the
end of the chunk. Host syncs: one read of each block's device log buffer per segment -- a segment ends where
some member's logging interval (or budget) ends, so with members in step (the usual case: chunks of whole
logging intervals) that is once per `log_every` steps.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import threading
import time
from typing import Any, Iterable

import numpy as np
import torch
from torch import Tensor

from ganlab import losses
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import Dataset, make_dataset
from ganlab.engine import remedies
from ganlab.engine.batched import adam, stacked
from ganlab.engine.batched.key import NotStackable, StackKey, stack_key
from ganlab.engine.batched.stacked import take
from ganlab.engine.batched.work import NETS, STATE, Member, Work
from ganlab.engine.loop import seeded_init
from ganlab.engine.trainer import LIVE_KEYS, TOY_COLUMNS, TOY_EVAL_SAMPLES
from ganlab.metrics import mode_stats
from ganlab.models import build

CPU_BLOCK = 8


class ClassEngine:
    """Runs with one stack key (see key.py), trained together. Every public method holds the engine's
    lock: one worker steps it, commands and snapshots (MemberRunner) wait for the chunk in progress."""

    def __init__(self, key: StackKey | None = None, fused: bool | None = None, block: int | None = None,
                 exact: bool | None = None):
        self.key = key
        self.fused = adam.FUSED_ADAM if fused is None else bool(fused) and adam.FUSED_ADAM
        self.device = torch.device(key.device) if key is not None else None
        self._members: list[Member] = []
        self._state: dict[str, list[Tensor]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._blocks: list[Work] = []  # the last working stacks, reused while nothing changes
        # rows per working stack: on a CPU, blocks of 8 members keep a layer's activations (8 x 512 x 128
        # floats, 2 MB) in cache and were faster per run-step than one block of 30 (ring-collapse, one thread:
        # 557 vs 475 run-steps/s of CPU time; a single Trainer: 396); on a GPU one block (fewest launches).
        # None: that default; 0: one block whatever the device.
        self._block = block
        # D's score layer per member, as the single run computes it (stacked.Layout.exact): None = on a CPU
        self._exact = exact
        self._version = 0  # bumped by every change a plan depends on
        self.lay_g = self.lay_d = None
        self.dtype = torch.float32  # of the parameters: set by the first member (torch's default dtype then)

    # ---- membership -------------------------------------------------------------------------------------
    def add(self, config: TrainConfig, points: np.ndarray | None = None, dataset: Dataset | None = None) -> int:
        """A new member (step 0, weights as `Trainer(config)` builds them). Returns its id."""
        key = stack_key(config)
        with self._lock:
            if self.key is None:
                self.key, self.device = key, torch.device(key.device)
            elif key != self.key:
                raise NotStackable("this config does not fit the stack: " + "; ".join(key.diff(self.key)))
            data = dataset if dataset is not None else make_dataset(config, self.device, points)
            data.x = data.x.to(self.device)
            with seeded_init(config.seed):  # the Trainer's RNG discipline: same seed, same initial weights
                G, D = build(config, data.sample_shape, 0)
            G.to(self.device)
            D.to(self.device)
            dtype = next(G.parameters()).dtype  # torch's default dtype (float32 unless a test asks for float64)
            lay_g = stacked.layout_of(G, config.activation, config.leaky_slope, exact=self.exact)
            lay_d = stacked.layout_of(D, config.activation, config.leaky_slope, config.pack, self.exact)
            if self.lay_g is None:
                self.dtype, self.lay_g, self.lay_d = dtype, lay_g, lay_d
            elif dtype != self.dtype:
                raise NotStackable(f"this stack holds {self.dtype} weights; the new run's are {dtype}")
            elif (lay_g.shapes, lay_d.shapes) != (self.lay_g.shapes, self.lay_d.shapes):  # the key holds them
                raise NotStackable(f"this config's networks do not fit the stack: G {lay_g.shapes} vs "
                                   f"{self.lay_g.shapes}, D {lay_d.shapes} vs {self.lay_d.shapes}")
            m = Member(next(self._ids), config, data, G, D, self.device, dtype)
            self._append_rows(G, D)
            self._members.append(m)
            self._changed()
            return m.id

    def _append_rows(self, G, D) -> None:
        gp, _ = stacked.module_tensors(G)
        dp, sn = stacked.module_tensors(D)

        def stackable(ts):  # rows in the module's layout ((out, in) weights): see stacked.py
            return [t.detach().contiguous().unsqueeze(0) for t in ts]

        g, d = stackable(gp), stackable(dp)
        z = torch.zeros(1, dtype=torch.float32, device=self.device)  # Adam step counts (float32, as torch keeps them)
        new = dict(g=g, d=d, ema=[t.clone() for t in g], g_m=[torch.zeros_like(t) for t in g],
                   g_v=[torch.zeros_like(t) for t in g], d_m=[torch.zeros_like(t) for t in d],
                   d_v=[torch.zeros_like(t) for t in d], sn=[t.detach().clone().unsqueeze(0) for t in sn],
                   steps=[z, z.clone()])
        with torch.no_grad():
            if not self._state:
                self._state = {k: [t.clone() for t in v] for k, v in new.items()}
            else:
                self._state = {k: [torch.cat([a.detach(), b]) for a, b in zip(self._state[k], new[k])]
                               for k in STATE}
        for k in NETS:
            for t in self._state[k]:
                t.requires_grad_(True)

    def remove(self, mid: int) -> None:
        """Drop a member and its rows (the others keep theirs, bit for bit)."""
        with self._lock:
            r = self._row(mid)
            keep = [i for i in range(len(self._members)) if i != r]
            self._members.pop(r)
            if keep:
                idx = torch.tensor(keep, dtype=torch.long, device=self.device)
                with torch.no_grad():
                    self._state = {k: [t.detach().index_select(0, idx) for t in v] for k, v in self._state.items()}
                for k in NETS:
                    for t in self._state[k]:
                        t.requires_grad_(True)
            else:
                self._state = {}
            self._changed()

    @property
    def block(self) -> int | None:
        """Rows per working stack (None: all members in one)."""
        if self._block is not None:
            return self._block or None
        return CPU_BLOCK if self.device is not None and self.device.type == "cpu" else None

    @block.setter
    def block(self, rows: int | None) -> None:
        with self._lock:
            self._block = rows
            self._blocks = []

    @property
    def exact(self) -> bool:
        """D's score layer per member, as a single run computes it (stacked.Layout.exact; default: on a CPU)."""
        if self._exact is not None:
            return self._exact
        return self.device is not None and self.device.type == "cpu"

    @exact.setter
    def exact(self, on: bool) -> None:
        with self._lock:
            self._exact = bool(on)
            if self.lay_d is not None:
                self.lay_d = dataclasses.replace(self.lay_d, exact=self._exact)

    def _changed(self) -> None:
        self._version += 1
        self._blocks = []

    def _row(self, mid: int) -> int:
        for i, m in enumerate(self._members):
            if m.id == mid:
                return i
        raise KeyError(f"no member {mid} in this class engine")

    def member(self, mid: int) -> Member:
        return self._members[self._row(mid)]

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self._members]

    def __len__(self) -> int:
        return len(self._members)

    # ---- commands -------------------------------------------------------------------------------------------
    def pause(self, mid: int) -> None:
        with self._lock:
            self.member(mid).paused = True

    def resume(self, mid: int) -> None:
        with self._lock:
            self.member(mid).paused = False

    def apply(self, mid: int, **changes: Any) -> None:
        """Change one member's live settings between steps (ganlab.engine.trainer.LIVE_KEYS), keeping its
        weights; the others are untouched."""
        fixed = sorted(set(changes) - LIVE_KEYS)
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change during a run; start a new run instead")
        with self._lock:
            m = self.member(mid)
            new = m.config.replace(**changes)
            m.loss = losses.get(new.loss)
            if new.g_ema and not m.ema_on:  # start the average from G's current weights (Trainer._set_ema)
                r = self._row(mid)
                with torch.no_grad():
                    for e, g in zip(self._state["ema"], self._state["g"]):
                        e[r].copy_(g[r])
                self._blocks = []  # a gathered working stack would hold the old row
            m.ema_on = bool(new.g_ema)
            m.config = new
            self._version += 1

    # ---- training ---------------------------------------------------------------------------------------------
    def step(self, n: int = 1, members: Iterable[int] | None = None) -> None:
        """Advance every member that is not paused (or exactly those of `members`, paused or not: a page's
        "step once") by n G steps, each stopping early at its budget (where its partial logging interval is
        flushed) or when it diverges."""
        with self._lock:
            named = members is not None
            want = set(self.ids if members is None else members)
            for mid in want:
                self._row(mid)  # KeyError for an unknown id
            todo = {mid: n for mid in want}
            blocks: list[Work] = []
            while True:
                ms = [m for m in self._members if m.id in want and todo[m.id] > 0 and m.steppable(named)]
                if not ms:
                    break
                blocks = self._working(ms, blocks)
                for w in blocks:
                    if w.version != self._version:
                        w.replan(self.dtype, self._version)
                S = min(min(todo[m.id], m.log_every - m.i, m.budget - m.step_count) for m in ms)
                t0 = time.perf_counter()
                with torch.enable_grad():
                    for s in range(S):
                        for w in blocks:
                            self._train_step(w, s, log_grads=s == S - 1)
                dt = time.perf_counter() - t0
                for w in blocks:
                    self._end_segment(w, S, dt)
                for m in ms:
                    todo[m.id] -= S
            for w in blocks:
                self._write_back(w)

    def _working(self, ms: list[Member], blocks: list[Work]) -> list[Work]:
        """The working stacks for members `ms`: blocks of at most `self.block` rows (the storage itself when
        one block holds every member), kept across chunks while nothing changes."""
        if blocks and [m for w in blocks for m in w.members] == ms:
            return blocks
        for w in blocks:
            self._write_back(w)
        if self._blocks and [m for w in self._blocks for m in w.members] == ms:
            return self._blocks
        rows = [self._members.index(m) for m in ms]
        k = self.block or len(rows)
        self._blocks = [Work(self._state, self.device, [self._members[r] for r in rows[i:i + k]],
                             None if rows[i:i + k] == list(range(len(self._members))) else rows[i:i + k])
                        for i in range(0, len(rows), k)]
        return self._blocks

    def _write_back(self, work: Work) -> None:
        if work.rows is None:
            return
        idx = torch.tensor(work.rows, dtype=torch.long, device=self.device)
        with torch.no_grad():
            for k, v in self._state.items():
                for dst, src in zip(v, work.t[k]):
                    dst.index_copy_(0, idx, src.detach())

    def _draw(self, w: Work) -> None:
        """Each member's data indices and noise from its own generator, in the Trainer's order: per D step
        randint (indices) then randn (noise), then one randint per unrolled step."""
        B, Z = w.members[0].config.batch_size, w.members[0].config.z_dim
        for r, m in enumerate(w.members):
            g, n = m.gen, w.sizes[r]
            for k in w.d_slots[r]:
                torch.randint(0, n, (B,), generator=g, device=self.device, out=w.idx[k, r])
                torch.randn(B, Z, generator=g, device=self.device, out=w.z[k, r])
            for j in range(m.config.unrolled_steps):
                torch.randint(0, n, (B,), generator=g, device=self.device, out=w.uidx[j, r])

    def _real(self, w: Work, idx: Tensor, rows=None) -> Tensor:
        """(R, B) member-local indices -> (R, B, d) samples from each member's own data (d: 2 for toy points, the
        flattened pixels for images)."""
        idx = take(idx + w.offsets, rows) if rows is not None else idx + w.offsets
        return w.data.index_select(0, idx.reshape(-1)).view(*idx.shape, -1)

    def _D(self, w: Work, params, x: Tensor, rows=None, active=None) -> Tensor:
        sn = stacked.SNState(w.t["sn"], rows, active) if self.lay_d.sn else None
        return stacked.forward(params, x, self.lay_d, sn)

    def _train_step(self, w: Work, s: int, log_grads: bool) -> None:
        self._draw(w)
        g_params = w.t["g"]
        fake = None
        for k in range(w.D):
            real = self._real(w, w.idx[k])
            if k == w.D - 1:
                fake = stacked.forward(g_params, w.z[k], self.lay_g)  # kept with its graph for G's update
                d_loss, r, f, d_grads = self._d_update(w, k, real, fake.detach())
            else:
                with torch.no_grad():
                    fake_ng = stacked.forward(g_params, w.z[k], self.lay_g)
                d_loss, r, f, d_grads = self._d_update(w, k, real, fake_ng)
        # D's weights are constants of G's update: detached, so that module_linear's backward (which forms every
        # gradient its inputs require) skips D's weight gradients, as autograd skips them for the single run
        f_g = self._unrolled_scores(w, fake) if w.unrolled else self._D(w, [p.detach() for p in w.t["d"]], fake)
        g_loss = w.g_groups(lambda key: stacked.g_loss_fn(losses.get(key)), f_g)
        g_grads = torch.autograd.grad(g_loss.sum(), g_params)  # only G's gradients
        self._adam(w.adam_g, g_params, g_grads, w.t["g_m"], w.t["g_v"], w.adam_g_plan, w.t["steps"][0])
        if w.ema_w is not None:  # theta_avg <- theta_avg + (1 - decay) (theta_G - theta_avg), per member
            with torch.no_grad():
                for e, p in zip(w.t["ema"], g_params):
                    e.lerp_(p, w.ema_w.view(-1, *([1] * (p.dim() - 1))))
        if log_grads:
            norms = [_row_norms(g_grads), _row_norms(d_grads)]
            w.buf[-1, :, :2] = torch.stack(norms, 1)
        with torch.no_grad():
            torch.stack([d_loss, g_loss.detach(), torch.sigmoid(r).mean((1, 2)), torch.sigmoid(f).mean((1, 2))],
                        1, out=w.buf[s])

    def _adam(self, rows, params, grads, m, v, plan, steps) -> None:
        if self.fused:
            adam.step_fused(rows, grads, plan, steps)
        else:
            adam.step_public(params, grads, m, v, plan, steps)

    def _d_update(self, w: Work, k: int, real: Tensor, fake: Tensor):
        d, act = w.t["d"], w.d_active[k]
        r, f = self._D(w, d, torch.cat([real, fake], 1), active=act).chunk(2, 1)  # one forward, real and fake
        d_loss = w.d_groups(lambda key: stacked.d_loss_fn(losses.get(key[0]), key[1]), r, f)
        for sub, penalty in ((w.gp, self._gp), (w.r1, self._r1)):
            if sub is not None:
                rows = sub["rows"]
                pen = sub["w"] * penalty(w, rows, take(act, rows) if act is not None else None,
                                         take(real, rows), take(fake, rows))
                d_loss = d_loss + pen if rows is None else d_loss.index_add(0, sub["index"], pen)
        grads = torch.autograd.grad(d_loss.sum(), d)
        self._adam(w.adam_d, d, grads, w.t["d_m"], w.t["d_v"], w.adam_d_plans[k], w.t["steps"][1])
        if w.clip[k] is not None:  # WGAN: D's weights into [-c, c] after the step (c = inf: not clipped)
            remedies.clip_weights_(d, w.clip[k])
        return d_loss.detach(), r.detach(), f.detach(), grads

    def _sub_D(self, w: Work, rows, active):
        params = [take(p, rows) for p in w.t["d"]]
        return lambda x: self._D(w, params, x, rows, active)

    def _gp(self, w, rows, active, real, fake) -> Tensor:
        return losses.gradient_penalty(self._sub_D(w, rows, active), real, fake, batch_dims=2)

    def _r1(self, w, rows, active, real, fake) -> Tensor:
        return losses.r1_penalty(self._sub_D(w, rows, active), real, batch_dims=2)

    def _unrolled_scores(self, w: Work, fake: Tensor) -> Tensor:
        """D's scores on the fakes after its unrolled look-ahead (remedies.unrolled_d) for the members with
        k > 0 (step j on a fresh real batch; a member with k <= j keeps its weights: eta_j = 0); plain D(fake)
        for the others."""
        u = w.unrolled
        rows = u["rows"]
        fk = take(fake, rows)

        def d_loss_at(j: int, params: list[Tensor]) -> Tensor:
            real = self._real(w, w.uidx[j], rows)
            r, f = self._D(w, params, torch.cat([real, fk], 1), rows, u["acts"][j]).chunk(2, 1)
            return u["groups"](lambda key: stacked.d_loss_fn(losses.get(key[0]), key[1]), r, f).sum()

        params = remedies.unrolled_d([take(p, rows) for p in w.t["d"]], d_loss_at, u["lrs"])
        scores = self._D(w, params, fk, rows)
        if u["plain"] is None:
            return scores
        plain = self._D(w, [take(p, u["plain"]) for p in w.t["d"]], take(fake, u["plain"]), u["plain"])
        return torch.cat([plain, scores])[u["perm"]]

    # ---- logging ---------------------------------------------------------------------------------------------
    def _end_segment(self, w: Work, S: int, dt: float) -> None:
        """The one host read of a segment: every member's S rows; members at a logging step log (toy metrics
        sampled for all of them at once), members at their budget flush, NaN/inf marks a member diverged."""
        host = w.buf.cpu().numpy()
        logging, flushing = [], []
        for r, m in enumerate(w.members):
            m.acc[m.i:m.i + S] = host[:S, r]
            m.i += S
            m.step_count += S
            if m.i == m.log_every:
                m.grad_norms = tuple(float(x) for x in host[-1, r, :2])
                logging.append((r, m))
            elif m.step_count >= m.budget:
                flushing.append((r, m))
        for m in w.members:  # stepping time (as the Trainer counts it: logging goes to the next interval)
            m.seconds += dt
        for m_id, row in self._log_rows(w, logging + flushing).items():
            if row is not None:
                m = self.member(m_id)
                row["seconds"] = m.seconds
                m.history.append(row)

    def _log_rows(self, w: Work, members: list[tuple[int, Member]]) -> dict[int, dict | None]:
        """History rows (None: the member diverged in this interval) of the members that log now."""
        out: dict[int, dict | None] = {}
        evaluate = []
        for r, m in members:
            rows = m.acc[:m.i]
            bad = ~np.isfinite(rows).all(1)
            n, m.i = m.i, 0
            if bad.any():
                m.status, m.diverged_at = "diverged", m.step_count - n + 1 + int(np.argmax(bad))
                out[m.id] = None
                continue
            row = dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), rows.mean(0).tolist()))
            row.update(step=m.step_count, g_grad=m.grad_norms[0], d_grad=m.grad_norms[1])
            out[m.id] = row
            if m.data.centers is not None:
                evaluate.append((r, m))
        if evaluate:
            for (r, m), stats in zip(evaluate, self._toy_metrics(w, evaluate)):
                out[m.id].update(stats)
        for r, m in members:
            row = out[m.id]
            if row is not None and not all(math.isfinite(row[k]) for k in ("g_grad", "d_grad")):
                m.status, m.diverged_at = "diverged", m.step_count
                out[m.id] = None
            elif row is not None and m.evaluators:  # image runs: quality scores from the member's own modules
                _materialise(m, w.t, r)  # its rows as the working stack has them now
                for ev in m.evaluators:
                    row.update(ev(m))
        return out

    @torch.no_grad()
    def _toy_metrics(self, w: Work, members: list[tuple[int, Member]]) -> list[dict[str, float]]:
        """Mode coverage of TOY_EVAL_SAMPLES samples per member (ganlab.engine.trainer.toy_evaluator), from
        its weight average when that is on; noise from the member's own generator, as the Trainer draws it."""
        Z = w.members[0].config.z_dim
        z = torch.stack([torch.randn(TOY_EVAL_SAMPLES, Z, generator=m.gen, device=self.device) for _, m in members])
        idx = torch.tensor([r for r, _ in members], dtype=torch.long, device=self.device)
        use_ema = torch.tensor([m.ema_on for _, m in members], device=self.device)
        params = [torch.where(use_ema.view(-1, *([1] * (g.dim() - 1))), e.index_select(0, idx),
                              g.detach().index_select(0, idx)) for g, e in zip(w.t["g"], w.t["ema"])]
        x = stacked.forward(params, z, self.lay_g).cpu().numpy()
        out = []
        for (_, m), xm in zip(members, x):
            s = mode_stats(xm, m.data.centers, m.data.std)
            out.append({k: float(s[k]) for k in TOY_COLUMNS})
        return out

    # ---- a member's weights as modules (snapshots, checkpoints) -----------------------------------------------
    def materialise(self, mid: int) -> Member:
        """Copy member `mid`'s current weights into its G, D (and G_ema) modules; returns the member."""
        with self._lock:
            m = self.member(mid)
            _materialise(m, self._state, self._row(mid))
            return m


@torch.no_grad()
def _materialise(m: Member, state: dict[str, list[Tensor]], r: int) -> None:
    """Row r of `state` (the engine's storage, or a working stack) into member m's G, D (and G_ema) modules."""
    _copy_row(m.G, state["g"], r)
    _copy_row(m.D, state["d"], r, state.get("sn"))
    if m.ema_on:
        if m.G_ema is None:
            import copy
            m.G_ema = copy.deepcopy(m.G).eval().requires_grad_(False)
        _copy_row(m.G_ema, state["ema"], r)
    else:
        m.G_ema = None


def _row_norms(grads) -> Tensor:
    """(R,) per-member L2 norm over all of a net's gradients (the Trainer's norm of per-tensor norms)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads], 1),
                                    dim=1)


def _copy_row(module, stack: list[Tensor], r: int, sn: list[Tensor] | None = None) -> None:
    params, uv = stacked.module_tensors(module)
    for p, t in zip(params, stack):
        p.copy_(t[r])
    for b, t in zip(uv, sn or []):
        b.copy_(t[r])
