"""The class engine (ganlab.engine.batched): stacked members follow their single-run Trainers.

Exactness: on a CPU a stacked member runs the Trainer's very arithmetic (float32, bit for bit; every product with
F.linear's operand layouts, and D's score layer per member: the engine's CPU default). Spectral norm's power iteration,
the unrolled look-ahead's second-order terms and the GPU layout (one batched product for the score layer too) round
differently in the last bit, which a GAN amplifies over hundreds of steps; so the "same numbers" checks run in
float64 (default dtype and data), where a member matches its Trainer to ~1e-12 over 200 steps whatever its
neighbours do.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from ganlab.config import ConfigError, TrainConfig
from ganlab.data import make_dataset
from ganlab.engine.batched import ClassEngine, NotStackable, stack_key
from ganlab.engine.batched.runner import MemberRunner
from ganlab.engine.batched.stacked import Layout, forward, module_tensors
from ganlab.engine.runner import TrainerRunner
from ganlab.engine.trainer import BASE_COLUMNS, TOY_COLUMNS, Trainer
from ganlab.losses import LOSSES

# small networks: the checks are about bookkeeping, not capacity
SMALL = TrainConfig(data="ring", z_dim=4, g_width=16, g_depth=2, d_width=16, d_depth=2, batch_size=32,
                    g_lr=1e-3, d_lr=2e-4, g_ema=0.9, steps=100_000, log_every=50, device="cpu")
TIGHT = dict(rtol=1e-9, atol=1e-11)  # float64


@pytest.fixture
def f64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _data(c: TrainConfig, double: bool):
    d = make_dataset(c, c.device)
    if double:
        d.x = d.x.double()
    return d


def _pair(cfgs, double=True, **kw):
    """An engine holding cfgs, and one Trainer per config (same seeds, same data)."""
    eng = ClassEngine(**kw)
    ids = [eng.add(c, dataset=_data(c, double)) for c in cfgs]
    trainers = [Trainer(c, dataset=_data(c, double)) for c in cfgs]
    return eng, ids, trainers


def _weights(mod) -> list[torch.Tensor]:
    params, sn = module_tensors(mod)
    return [t.detach().clone() for t in params + sn]


def _assert_same_run(eng, mid, tr, tol=TIGHT, what=""):
    """History (every column but wall time) and G, D (and weight-average) weights agree. The gradient norms
    are summed in another order (per member rows, not per tensor): 1e-6 relative at least."""
    m = eng.materialise(mid) if mid in eng.ids else eng.member(mid)
    h, ht = m.history.arrays(), tr.history.arrays()
    assert set(h) == set(ht), what
    assert len(h["step"]) == len(ht["step"]) > 0, what
    for k in ht:
        if k != "seconds":
            t = dict(rtol=max(tol["rtol"], 1e-6), atol=tol["atol"]) if k in ("g_grad", "d_grad") else tol
            np.testing.assert_allclose(h[k], ht[k], err_msg=f"{what} column {k}", **t)
    for a, b in ((m.G, tr.G), (m.D, tr.D)) + (((m.G_ema, tr.G_ema),) if tr.G_ema is not None else ()):
        for x, y in zip(_weights(a), _weights(b)):
            torch.testing.assert_close(x, y, msg=lambda s: f"{what}: {s}", **tol)
    assert m.step_count == tr.step_count and m.status == tr.status, what


def _step_trainer(tr, n, chunk=None):
    """Like TrainerRunner.step: flush at the budget."""
    chunk = chunk or n
    done = 0
    while done < n:
        k = min(chunk, n - done)
        tr.step(k)
        done += k
        if tr.step_count >= tr.config.steps:
            tr.flush()


# ---- every loss, in one stack, against its own Trainer -------------------------------------------------------
@pytest.mark.parametrize("fused,block", [(True, 0), (False, 4)], ids=["fused-adam", "public-adam-blocks-gpu-layout"])
def test_every_loss_matches_its_trainer(f64, fused, block):
    """One member per registry loss (different seeds, data, learning rates, real label), 200 steps: per-step
    losses (history logged every step), toy metrics and weights as their single runs. In one working stack
    with the fused Adam; in blocks of 4 and 2 rows with the public Adam and the GPU's layers (exact off)."""
    data = ["moons", "spiral", "moons", "grid", "spiral", "ring"]  # two with mode metrics (every step)
    cfgs = [SMALL.replace(loss=loss, seed=i, data=data[i], g_lr=1e-3 * (1 + i / 4), log_every=1,
                          real_label=0.9 if loss in ("minimax", "lsgan") else 1.0)
            for i, loss in enumerate(LOSSES)]
    assert sum(LOSSES[c.loss].gradient_penalty for c in cfgs) == 1  # its noise comes from the global RNG
    steps = 200 if fused else 60
    eng, ids, trs = _pair(cfgs, fused=fused, block=block, exact=fused)
    torch.manual_seed(7)
    eng.step(steps)
    for mid, tr, c in zip(ids, trs, cfgs):
        torch.manual_seed(7)  # the gradient penalty's interpolation weights (global RNG), as in the stack
        tr.step(steps)
        _assert_same_run(eng, mid, tr, what=c.loss)


def test_float32_members_are_their_trainers_bit_for_bit():
    """float32, the production dtype, on a CPU: with D's score layer per member (exact, the CPU default) every
    stacked member is its Trainer bit for bit over 200 steps; with the one batched product a GPU uses, the
    members stay close over 20 steps (the last bit differs, then the GAN amplifies it)."""
    cfgs = [SMALL.replace(loss=loss, seed=s) for s, loss in enumerate(("non_saturating", "hinge", "wgan", "lsgan"))]
    eng, ids, trs = _pair(cfgs, double=False)
    assert eng.lay_d.exact
    eng.step(200)
    for mid, tr in zip(ids, trs):
        tr.step(200)
        _assert_same_run(eng, mid, tr, tol=dict(rtol=0, atol=0), what=tr.config.loss)
    eng, ids, trs = _pair(cfgs[:3], double=False, exact=False)
    eng.step(20)
    for mid, tr in zip(ids, trs):
        tr.step(20)
        m = eng.materialise(mid)
        for x, y in zip(_weights(m.G) + _weights(m.D), _weights(tr.G) + _weights(tr.D)):
            torch.testing.assert_close(x, y, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("net", ["G", "D", "G-odd", "D-odd"])
def test_exact_layers_are_the_single_runs_kernels(net):
    """A stacked forward (the CPU's Layout.exact) computes each member's layer outputs and all gradients
    (weights, biases, input) as F.linear does for one run, bit for bit in float32, on the thin shapes of a 2-D
    toy GAN (z = 4, data 2 -> 2 outputs, a score; odd widths): where other layouts or MKL's batched products
    round differently on some CPUs."""
    shapes = {"G": ((16, 4), (16, 16), (2, 16)), "D": ((16, 2), (16, 16), (1, 16)),
              "G-odd": ((7, 5), (33, 7), (2, 33)), "D-odd": ((33, 2), (5, 33), (1, 5))}[net]
    lay = Layout(shapes, "leaky_relu", 0.2, sn=False, exact=True)
    R, B = 3, 64
    gen = torch.Generator().manual_seed(0)
    Ws = [torch.randn(R, o, i, generator=gen) for o, i in shapes]
    bs = [torch.randn(R, o, generator=gen) for o, _ in shapes]
    x = torch.randn(R, B, shapes[0][1], generator=gen, requires_grad=True)
    params = [t.requires_grad_(True) for W, b in zip(Ws, bs) for t in (W, b)]
    out = forward(params, x, lay)
    grads = torch.autograd.grad(out.pow(2).sum(), [x] + params)
    for r in range(R):
        xr = x[r].detach().clone().requires_grad_(True)
        mods = [torch.nn.Linear(i, o) for o, i in shapes]
        with torch.no_grad():
            for m, W, b in zip(mods, Ws, bs):
                m.weight.copy_(W[r])
                m.bias.copy_(b[r])
        h = xr
        for k, m in enumerate(mods):
            h = m(h)
            h = torch.nn.functional.leaky_relu(h, 0.2) if k < len(mods) - 1 else h
        assert torch.equal(out[r], h), f"{net} member {r} output"
        single = torch.autograd.grad(h.pow(2).sum(), [xr] + [t for m in mods for t in (m.weight, m.bias)])
        stacked_r = [g[r] for g in grads]
        for k, (a, b) in enumerate(zip(stacked_r, single)):
            assert torch.equal(a, b), f"{net} member {r} gradient {k}"
        assert all(g.is_contiguous() for g in grads[1:]), "the fused Adam needs gradients laid out as the params"


def test_exact_layers_twice_differentiable():
    """module_linear's own backward is itself differentiable (gradient penalty, R1, unrolled D)."""
    from ganlab.engine.batched.stacked import module_linear
    gen = torch.Generator().manual_seed(1)
    h, W, b = (torch.randn(*s, generator=gen, dtype=torch.float64, requires_grad=True)
               for s in ((2, 5, 3), (2, 4, 3), (2, 4)))
    for exact in (False, True):  # one batched call per product; the single run's calls where they differ
        fn = functools.partial(module_linear, exact=exact)
        assert torch.autograd.gradcheck(fn, (h, W, b))
        assert torch.autograd.gradgradcheck(fn, (h, W, b))


def test_remedies_match_their_trainers(f64):
    """Unrolled D (mixed k, one member without), D:G ratios 3 and 1, R1, WGAN-GP, weight clipping, with PacGAN
    packing and spectral norm in the stack, each against its own Trainer."""
    base = SMALL.replace(pack=2, spectral_norm=True)
    cfgs = [base.replace(seed=1, unrolled_steps=3, unrolled_lr=0.05),
            base.replace(seed=2, unrolled_steps=1, loss="hinge"),
            base.replace(seed=3, loss="wgan_gp", d_steps=3, g_ema=0.0),
            base.replace(seed=4, loss="lsgan", r1_gamma=1.0),
            base.replace(seed=5, loss="wgan", clip_value=0.05, d_steps=2)]
    eng, ids, trs = _pair(cfgs, block=3)  # two working stacks: 3 + 2 rows
    torch.manual_seed(11)
    eng.step(60)
    for mid, tr, c in zip(ids, trs, cfgs):
        torch.manual_seed(11)
        tr.step(60)
        _assert_same_run(eng, mid, tr, what=f"seed {c.seed}")


# ---- membership and commands ---------------------------------------------------------------------------------
def test_members_join_and_leave_without_disturbing_others(f64):
    a, b, c = (SMALL.replace(seed=s, loss=loss) for s, loss in ((1, "non_saturating"), (2, "hinge"), (3, "lsgan")))
    eng, (ia, ib), (ta, tb) = _pair([a, b])
    eng.step(60)
    ic = eng.add(c, dataset=_data(c, True))
    tc = Trainer(c, dataset=_data(c, True))
    eng.step(40)
    ta.step(100)
    _assert_same_run(eng, ia, ta, what="a before it leaves")
    eng.remove(ia)
    assert eng.ids == [ib, ic]
    eng.step(60)
    tb.step(160)
    tc.step(100)
    _assert_same_run(eng, ib, tb, what="b (neighbour joined, then left)")
    _assert_same_run(eng, ic, tc, what="c (joined mid-way)")


def test_pause_and_single_member_steps(f64):
    a, b = SMALL.replace(seed=1), SMALL.replace(seed=2, loss="minimax")
    eng, (ia, ib), (ta, tb) = _pair([a, b])
    eng.pause(ia)
    eng.step(50)
    assert (eng.member(ia).step_count, eng.member(ib).step_count) == (0, 50)
    eng.step(30, members=[ia])  # "step once" for the paused member: the other stays
    assert (eng.member(ia).step_count, eng.member(ib).step_count) == (30, 50)
    eng.step(10)
    assert (eng.member(ia).step_count, eng.member(ib).step_count) == (30, 60)
    eng.resume(ia)
    eng.step(60)
    ta.step(90)
    tb.step(120)
    _assert_same_run(eng, ia, ta, what="paused member")
    _assert_same_run(eng, ib, tb, what="its neighbour")


def test_nan_marks_only_that_member_diverged():
    a, b = SMALL.replace(seed=1, log_every=10), SMALL.replace(seed=2, log_every=10)
    eng = ClassEngine()
    ia, ib = eng.add(a), eng.add(b)
    eng.step(20)
    with torch.no_grad():  # blow up member a's G (as an absurd learning rate would)
        eng._state["g"][0][eng.ids.index(ia)].fill_(float("inf"))
    eng.step(15)
    ma, mb = eng.member(ia), eng.member(ib)
    assert ma.status == "diverged" and ma.diverged_at == 21 and ma.step_count == 30
    assert mb.status == "ready" and mb.step_count == 35 and len(mb.history) == 3
    assert np.isfinite(mb.history.arrays()["d_loss"]).all()
    eng.step(10)
    assert ma.step_count == 30 and mb.step_count == 45  # a is not stepped any more


def test_apply_changes_only_that_member(f64):
    a, b = SMALL.replace(seed=1, g_ema=0.0), SMALL.replace(seed=2)
    eng, (ia, ib), (ta, tb) = _pair([a, b])
    eng.step(50)
    ta.step(50)
    change = dict(loss="hinge", g_lr=5e-4, d_lr=1e-3, beta1=0.0, d_steps=2, g_ema=0.8, unrolled_steps=0)
    eng.apply(ia, **change)
    ta.apply(**change)
    assert eng.member(ia).config.loss == "hinge" and eng.member(ib).config.loss == "non_saturating"
    eng.step(50)
    ta.step(50)
    tb.step(100)
    _assert_same_run(eng, ia, ta, what="changed member")
    _assert_same_run(eng, ib, tb, what="unchanged neighbour")
    with pytest.raises(ConfigError, match="cannot change during a run"):
        eng.apply(ia, g_width=32)
    with pytest.raises(ConfigError):
        eng.apply(ia, g_lr=5.0)  # validated like any config


def test_budgets_and_logging_intervals_per_member(f64):
    """Different log_every and budgets in one stack: rows at each member's own logging steps, a partial
    interval flushed at the budget, as TrainerRunner does."""
    a = SMALL.replace(seed=1, log_every=10, steps=45)
    b = SMALL.replace(seed=2, log_every=25, steps=1000, data="grid")
    eng, (ia, ib), (ta, tb) = _pair([a, b])
    eng.step(60)
    _step_trainer(ta, 45)
    _step_trainer(tb, 60)
    assert eng.member(ia).history.arrays()["step"].tolist() == [10, 20, 30, 40, 45]
    assert eng.member(ib).history.arrays()["step"].tolist() == [25, 50]
    _assert_same_run(eng, ia, ta, what="budget 45")
    _assert_same_run(eng, ib, tb, what="log_every 25")


def test_history_columns_and_toy_metrics():
    eng = ClassEngine()
    ring, moons = eng.add(SMALL.replace(log_every=20)), eng.add(SMALL.replace(data="moons", log_every=20))
    eng.step(40)
    h = eng.member(ring).history.arrays()
    assert tuple(h) == BASE_COLUMNS + TOY_COLUMNS
    assert tuple(eng.member(moons).history.arrays()) == BASE_COLUMNS  # no mode centres: no mode metrics
    assert h["step"].tolist() == [20, 40]
    assert all(np.isfinite(h[k]).all() for k in h)
    assert 0 <= h["modes_captured"][-1] <= 8 and 0 <= h["high_quality_frac"][-1] <= 1


# ---- stack key ----------------------------------------------------------------------------------------------
def test_stack_key_groups_configs_and_refuses_mismatches():
    k = stack_key(SMALL)
    same = [SMALL.replace(seed=9, data="grid", loss="wgan_gp", g_lr=1e-4, d_steps=5, g_ema=0.0, log_every=7,
                          steps=10, r1_gamma=1.0, real_label=0.9),
            SMALL.replace(data="spiral", loss="hinge", unrolled_steps=3, unrolled_lr=0.1, beta2=0.9)]
    assert all(stack_key(c) == k for c in same)
    for change in (dict(g_width=32), dict(d_depth=3), dict(z_dim=8), dict(batch_size=64), dict(pack=2),
                   dict(spectral_norm=True), dict(activation="tanh")):
        assert stack_key(SMALL.replace(**change)) != k, change
    assert stack_key(SMALL.replace(activation="leaky_relu", leaky_slope=0.1)) != \
        stack_key(SMALL.replace(activation="leaky_relu", leaky_slope=0.2))
    eng = ClassEngine()
    eng.add(SMALL)
    with pytest.raises(NotStackable, match=r"G.s layers 4 -> 32 -> 32 -> 2 vs 4 -> 16 -> 16 -> 2"):
        eng.add(SMALL.replace(g_width=32))
    for bad, why in ((dict(model="dcgan", data="mnist"), "MLP"), (dict(g_batchnorm=True), "BatchNorm"),
                     (dict(d_dropout=0.3), "dropout"), (dict(optimizer="rmsprop"), "Adam"),
                     (dict(data="mnist", conditional=True), "unconditional")):
        with pytest.raises(NotStackable, match=why):
            stack_key(SMALL.replace(**bad))
    assert len(eng) == 1
    with pytest.raises(NotStackable, match=r"G.s layers 4 -> 16 -> 16 -> 784 vs 4 -> 16 -> 16 -> 2"):
        eng.add(SMALL.replace(data="mnist"))  # an MLP image run is stacked, but never with toy runs


def test_mnist_mlp_members_are_their_trainers_bit_for_bit():
    """The tutorials' MLP GAN on the embedded digits (mnist-mlp: 784-wide layers, tanh output, label smoothing,
    weight average) stacks too: on a CPU with one thread each member is its single-run Trainer bit for bit over
    200 steps, per loss, and the members share the one copy of the digits instead of a copy each."""
    from ganlab import presets

    base = presets.get("mnist-mlp").config.replace(device="cpu", log_every=50)
    cfgs = [base, base.replace(seed=1, loss="hinge", real_label=1.0, g_ema=0.0), base.replace(seed=2, loss="lsgan")]
    eng, ids, trs = _pair(cfgs, double=False)
    assert eng.lay_g.tanh_out and not eng.lay_d.tanh_out
    eng.step(200)
    work = eng._blocks[0]
    assert work.data is eng.member(ids[0]).data.x and not work.offsets.any()  # one copy of the 5,000 digits
    for mid, tr in zip(ids, trs):
        tr.step(200)
        _assert_same_run(eng, mid, tr, tol=dict(rtol=0, atol=0), what=tr.config.loss)


# ---- the runner surface --------------------------------------------------------------------------------------
def test_member_runner_snapshot_is_the_trainers():
    """A member alone runs the Trainer's kernels: its snapshot (points, heat-map, arrows, counts, history) is
    the TrainerRunner's; park keeps it viewable, release frees it."""
    c = SMALL.replace(seed=5, steps=70, log_every=25, data="grid")
    tr = TrainerRunner(c)
    eng = ClassEngine()
    mr = MemberRunner.add(eng, c)
    for r in (tr, mr):
        r.step(70)  # the budget: the partial interval is flushed
    a, b = tr.snapshot(), mr.snapshot()
    assert (b.step, b.status, b.config) == (a.step, a.status, a.config) == (70, "ready", c)
    for f in ("real", "fake", "arrows", "heat", "counts", "centers"):
        np.testing.assert_array_equal(getattr(b, f), getattr(a, f), err_msg=f)
    assert b.extent == a.extent and b.heat_is_prob == a.heat_is_prob
    for k in a.history:
        if k != "seconds":
            np.testing.assert_array_equal(b.history[k], a.history[k], err_msg=k)
    assert (mr.budget, mr.log_every, mr.step_count) == (70, 25, 70)
    mr.apply(g_lr=2e-4)
    assert mr.config.g_lr == 2e-4
    mr.park()
    assert eng.ids == [] and mr.snapshot().step == 70
    mr.release()


def test_fused_and_public_adam_agree():
    """The two stacked Adam paths (torch's fused kernel per lr group; public per-member tensor ops), with
    different learning rates and betas per member and a member that sits D steps out (d_steps)."""
    cfgs = [SMALL.replace(seed=1, g_lr=1e-3, d_steps=2), SMALL.replace(seed=2, g_lr=3e-4, beta1=0.0, beta2=0.9)]
    runs = []
    for fused in (True, False):
        eng = ClassEngine(fused=fused)
        ids = [eng.add(c) for c in cfgs]
        eng.step(30)
        runs.append([_weights(eng.materialise(i).G) + _weights(eng.member(i).D) for i in ids])
    for wf, wp in zip(*runs):
        for x, y in zip(wf, wp):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs the same checks on the device)")
def test_cuda_members_match_their_trainers(f64):
    cfgs = [SMALL.replace(device="cuda", loss=loss, seed=s, d_steps=2 if s == 2 else 1,
                          unrolled_steps=2 if s == 1 else 0, log_every=25)
            for s, loss in enumerate(("non_saturating", "hinge", "wgan_gp", "lsgan"))]
    for fused in (True, False):
        eng, ids, trs = _pair(cfgs, fused=fused)
        torch.manual_seed(3)
        eng.step(100)
        for mid, tr in zip(ids, trs):
            torch.manual_seed(3)
            tr.step(100)
            _assert_same_run(eng, mid, tr, tol=dict(rtol=1e-7, atol=1e-9), what=f"cuda {tr.config.loss}")
