"""MemberRunner: one member of a ClassEngine with the job manager's runner surface (ganlab.jobs.manager).

Pages read a member exactly as they read a toy Trainer: `snapshot()` copies the member's current rows into
its own G, D (and weight-average) modules and hands a Trainer-like view to `ganlab.snapshot.take`, so the
Snapshot is built by the same code (points, heat-map, arrows, mode counts, history). Copying happens at
snapshot time only (a few times a second at most), never in the step.

Stepping: the scheduler steps the whole engine (`engine.step(n)`); `MemberRunner.step(n)` steps this member
alone (others stay where they are), for the page's "step once" or a member that runs by itself.
"""
from __future__ import annotations

import contextlib
from typing import Any

import torch

from ganlab import checkpoint as ckpt
from ganlab.config import TrainConfig
from ganlab.engine.batched.engine import ClassEngine, Member
from ganlab.engine.weights import RunWeights, weights_of
from ganlab.snapshot import RunViews, Snapshot, grid, take


class MemberView:
    """What `ganlab.snapshot.take` reads of a Trainer, for one member (or a parked copy of it)."""

    def __init__(self, member: Member):
        self.m = member

    def __getattr__(self, name: str) -> Any:  # config, step_count, status, diverged_at, seconds, history, data,
        return getattr(self.m, name)  # loss, device, G, D, G_ema, gen, fixed_z, fixed_labels, sample, sampler


class MemberRunner:
    def __init__(self, engine: ClassEngine, member_id: int):
        self.engine, self.id = engine, member_id
        self._member: Member = engine.member(member_id)
        self._view = MemberView(self._member)
        self.views = RunViews()
        self._parked = False
        self._weights: RunWeights | None = None  # the last copy weights() made
        if not self._member.config.is_toy:  # an image run's timeline: a grid at each logging step
            self._member.evaluators.append(self._timeline_frame)

    @classmethod
    def add(cls, engine: ClassEngine, config: TrainConfig, score: bool = False, **kw) -> "MemberRunner":
        """A new member of `engine`; `score`: an image run logs the quality columns (ganlab.quality), as
        RunSpec(score=True) makes a single run log them."""
        runner = cls(engine, engine.add(config, **kw))
        if score and not config.is_toy:
            from ganlab import quality

            quality.attach(runner._member)
        return runner

    @property
    def config(self) -> TrainConfig:
        return self._member.config

    @property
    def status(self) -> str:
        return self._member.status

    @property
    def diverged_at(self) -> int | None:
        return self._member.diverged_at

    @property
    def step_count(self) -> int:
        return self._member.step_count

    @property
    def budget(self) -> int:
        return self._member.budget

    @property
    def log_every(self) -> int:
        return self._member.log_every

    @property
    def history(self):
        return self._member.history

    def step(self, n: int) -> dict[str, float]:
        """This member alone, n G steps (up to its budget, where the partial interval is flushed)."""
        if not self._parked:
            self.engine.step(n, members=[self.id])
        return self._member.history.last()

    @contextlib.contextmanager
    def _materialised(self):
        """The member's modules hold its current rows for the block (under the engine's lock while it trains)."""
        if self._parked:
            yield
            return
        with self.engine._lock:
            self.engine.materialise(self.id)
            yield

    def _timeline_frame(self, member: Member) -> dict:
        """Called by the engine at each logging step, on the member's materialised modules: the grid of that
        step joins the timeline (a single run publishes at its logging steps; a stacked one whenever its page
        asks). Logs no column."""
        self.views.frames.add(member.step_count, grid(member)[0])
        return {}

    def snapshot(self) -> Snapshot:
        with self._materialised():
            return take(self._view, self.views)

    def apply(self, **changes: Any) -> None:
        if self._parked:
            self._member.config = self._member.config.replace(**changes)
            return
        self.engine.apply(self.id, **changes)

    def holds_networks(self) -> bool:
        return self._view.G is not None

    def weights(self) -> RunWeights | None:
        """The member's rows copied into CPU modules of its own (its parked modules once the run is over)."""
        if self._parked:
            return weights_of(self._view, copy_modules=False)
        held, m = self._weights, self._member
        if held is not None and held.step == m.step_count and held.config is m.config:
            return held  # nothing moved since the last copy
        with self._materialised():
            self._weights = weights_of(self._view, copy_modules=True)
            return self._weights

    def checkpoint(self, optimizers: bool = True) -> bytes | None:
        """The member as a checkpoint file, without Adam's moments (they are rows of the stack, not the
        member's optimiser state): a resume starts fresh ones."""
        if self._member.G is None:
            return None
        with self._materialised():
            return ckpt.to_bytes(self._view, optimizers=False)

    def pause(self) -> None:
        self.engine.pause(self.id)

    def resume(self) -> None:
        self.engine.resume(self.id)

    def park(self) -> None:
        """The run is over: keep its weights (CPU modules, eval mode) and a little data; leave the stack."""
        if self._parked:
            return
        m = self.engine.materialise(self.id)
        self.engine.remove(self.id)
        self._parked = True
        for mod in (m.G, m.D, m.G_ema):
            if mod is not None:
                mod.cpu().eval()
        m.device = torch.device("cpu")
        m.data.x = m.data.x[:2000].cpu()
        m.fixed_z = m.fixed_z.cpu()
        m.gen = torch.Generator().manual_seed(m.config.seed)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def release(self) -> None:
        """Drop everything (GPU memory included); the engine forgets the member."""
        if not self._parked and self.id in self.engine.ids:
            self.engine.remove(self.id)
        self._parked = True
        m = self._member
        m.G = m.D = m.G_ema = m.fixed_z = None
        m.data = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
