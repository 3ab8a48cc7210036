"""Stacked MLPs: R members' G or D as one set of (R, ...) tensors, run with batched matrix products.

Member r's Linear layer l is kept as its module keeps it, W_l[r] (out, in) contiguous, with its bias b_l[r]
(out,). One layer for all members: h_{l+1} = act(b_l + h_l W_l^T), computed as torch.baddbmm(b_l (R, 1, out),
h_l (R, B, in), W_l^T) -- one kernel where R single runs need R -- by `module_linear`, whose backward forms the
gradients as F.linear's does for one run (grad_h = g W, grad_W = g^T h: contiguous, as the fused Adam kernel
needs a gradient laid out like its parameter). Each member's products thus get the operands, in the layout,
of its single run's: MKL's sgemm rounds another layout (e.g. W^T stored (in, out), this stack's layout until
it differed on an AMD EPYC) differently in the last bit for thin shapes (in <= 8: z and the data's
coordinates; out = 2: G's output), and a GAN amplifies that over hundreds of steps. On a CPU (Layout.exact) a
product whose batched call still rounds unlike the single run's (batched_is_exact) is made as R single calls.

Spectral norm (Miyato et al. 2018) is stacked too: per member and layer a left and right singular vector
estimate u (R, out), v (R, in); every D forward in training mode does one power iteration (u <- W v / |W v|,
v <- W^T u / |W^T u|) and divides W by sigma = u^T W v, exactly as torch's spectral_norm parametrisation does
for a single module, so the member's D follows the single-run Trainer's D.

`Rows` selects members of a stack: None (all), a slice (contiguous rows: views, no copy) or a LongTensor.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

Rows = Union[None, slice, Tensor]
SN_EPS = 1e-12  # torch's spectral_norm default


def take(t: Tensor, rows: Rows) -> Tensor:
    if rows is None:
        return t
    if isinstance(rows, slice):
        return t[rows]
    return t.index_select(0, rows)


def rows_of(index: Sequence[int], total: int, device: torch.device) -> Rows:
    """The cheapest selector of `index` (sorted member rows) in a stack of `total` rows."""
    index = list(index)
    if index == list(range(total)):
        return None
    if index and index == list(range(index[0], index[-1] + 1)):
        return slice(index[0], index[-1] + 1)
    return torch.tensor(index, dtype=torch.long, device=device)


# ---- layout: which module tensors make up a stacked net ---------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """The Linear layers of an MLP G or D, in forward order, and how to run them stacked."""
    shapes: tuple[tuple[int, int], ...]  # (out, in) per layer
    act: str  # 'relu' | 'tanh' | 'leaky_relu'
    slope: float
    sn: bool
    pack: int = 1  # D only: PacGAN packing of the input
    # Layers with one output (D's score) per member as F.linear, the single run's own kernel: a batched product
    # with one output column rounds differently (in the last bit) from the matrix-vector product the BLAS uses
    # for one run, whatever the layout. With it (and module_linear for the
    # other layers), a stacked member is its single run bit for bit on a CPU, for R small kernels per such
    # layer; off on a GPU (launches are what counts).
    exact: bool = False
    tanh_out: bool = False  # G of image data: x = tanh(last layer), pixels in [-1, 1]

    @property
    def n_params(self) -> int:
        return 2 * len(self.shapes)


def linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.net if isinstance(m, nn.Linear)]


def module_tensors(module: nn.Module) -> tuple[list[Tensor], list[Tensor]]:
    """([W_0, b_0, W_1, b_1, ...], [u_0, v_0, u_1, v_1, ...]) of an MLP G or D, live (not copies), W in the
    module's (out, in) layout, as stacks hold it.

    With spectral norm W_l is the raw weight (`parametrizations.weight.original`), u/v the power-iteration
    vectors; without it the second list is empty."""
    params, sn = [], []
    for lin in linears(module):
        if parametrize.is_parametrized(lin, "weight"):
            p = lin.parametrizations.weight
            params += [p.original, lin.bias]
            sn += [p[0]._u, p[0]._v]
        else:
            params += [lin.weight, lin.bias]
    return params, sn


def layout_of(module: nn.Module, act: str, slope: float, pack: int = 1, exact: bool = False) -> Layout:
    lins = linears(module)
    sn = any(parametrize.is_parametrized(lin, "weight") for lin in lins)
    shapes = tuple((lin.out_features, lin.in_features) for lin in lins)
    tanh_out = isinstance(module.net[-1], nn.Tanh)
    return Layout(shapes, act if act in ("relu", "tanh") else "leaky_relu", slope, sn, pack, exact, tanh_out)


# ---- forward ---------------------------------------------------------------------------------------------
def _act(h: Tensor, lay: Layout) -> Tensor:
    """In place on baddbmm's fresh output (its backward does not need it): one (R, B, width) buffer less."""
    if lay.act == "relu":
        return torch.relu_(h)
    if lay.act == "tanh":
        return torch.tanh_(h)
    return F.leaky_relu_(h, lay.slope)


@torch.no_grad()
def _power_iteration(W: Tensor, u: Tensor, v: Tensor, active: Tensor | None) -> tuple[Tensor, Tensor]:
    """One step per member on W (R, out, in): u <- normalize(W v), v <- normalize(W^T u). Rows where
    `active` (R, 1) is False keep their vectors (a member that sits this D step out)."""
    u_new = F.normalize(torch.bmm(W, v.unsqueeze(2)).squeeze(2), dim=1, eps=SN_EPS)
    v_new = F.normalize(torch.bmm(W.mT, u_new.unsqueeze(2)).squeeze(2), dim=1, eps=SN_EPS)
    if active is not None:
        u_new, v_new = torch.where(active, u_new, u), torch.where(active, v_new, v)
    return u_new, v_new


class SNState:
    """Spectral norm for a forward over `rows` of a stack: u/v are read from, and the power iteration written
    back to, the stack's vectors `uv` [u_0, v_0, u_1, v_1, ...]. `active` (rows, 1) bool or None: the rows
    that really take this D step (the others keep their vectors)."""

    def __init__(self, uv: list[Tensor], rows: Rows = None, active: Tensor | None = None):
        self.uv, self.rows, self.active = uv, rows, active

    def weight(self, layer: int, W: Tensor, training: bool) -> Tensor:
        """W (R, out, in) -> W / sigma, sigma = u^T W v per member (u, v constants, as in torch)."""
        u_all, v_all = self.uv[2 * layer], self.uv[2 * layer + 1]
        u, v = take(u_all, self.rows), take(v_all, self.rows)
        if training:
            u, v = _power_iteration(W.detach(), u, v, self.active)
            with torch.no_grad():
                for dst, src in ((u_all, u), (v_all, v)):
                    if isinstance(self.rows, Tensor):
                        dst.index_copy_(0, self.rows, src)
                    else:
                        dst[self.rows if self.rows is not None else slice(None)].copy_(src)
        else:
            u, v = u.clone(), v.clone()
        sigma = (u * torch.bmm(W, v.unsqueeze(2)).squeeze(2)).sum(1)  # (R,)
        return W / sigma.view(-1, 1, 1)


# ---- a Linear layer per member, with the single run's products -------------------------------------------
def _fwd(h: Tensor, W: Tensor, b: Tensor, batched: bool) -> Tensor:  # b + h W^T
    if batched:
        return torch.baddbmm(b.unsqueeze(1), h, W.mT)
    return torch.stack([torch.addmm(c, x, w.t()) for x, w, c in zip(h.unbind(0), W.unbind(0), b.unbind(0))])


def _grad_h(g: Tensor, W: Tensor, batched: bool) -> Tensor:  # g W
    return torch.bmm(g, W) if batched else torch.stack([torch.mm(a, w) for a, w in zip(g.unbind(0), W.unbind(0))])


def _grad_W(g: Tensor, h: Tensor, batched: bool) -> Tensor:  # g^T h
    if batched:
        return torch.bmm(g.mT, h)
    return torch.stack([torch.mm(a.t(), x) for a, x in zip(g.unbind(0), h.unbind(0))])


_PRODUCTS = {"fwd": _fwd, "grad_h": _grad_h, "grad_W": _grad_W}


@functools.lru_cache(maxsize=256)
def batched_is_exact(product: str, R: int, B: int, n_in: int, n_out: int, dtype: torch.dtype, threads: int) -> bool:
    """Does the one batched call of `product` give, on this CPU, the bits of R single-run calls (torch.addmm /
    mm, as F.linear and its backward make them)? Probed once per shape on random numbers (its own generator:
    the global RNG is left alone). On an AMD EPYC (MKL, AVX2) it does for most shapes, but grad_W = g^T h (a
    transposed first operand) does not for a width of 5, 7 or 33, nor any product with B * in * out < 400 (torch's
    own loop instead of the BLAS): there the layer takes R single calls."""
    gen = torch.Generator().manual_seed(0)
    h, W, b, g = (torch.randn(*shape, generator=gen, dtype=dtype)
                  for shape in ((R, B, n_in), (R, n_out, n_in), (R, n_out), (R, B, n_out)))
    args = {"fwd": (h, W, b), "grad_h": (g, W), "grad_W": (g, h)}[product]
    fn = _PRODUCTS[product]
    return torch.equal(fn(*args, batched=True), fn(*args, batched=False))


def _batched(product: str, a: Tensor, B: int, n_in: int, n_out: int, exact: bool) -> bool:
    return not exact or batched_is_exact(product, a.shape[0], B, n_in, n_out, a.dtype, torch.get_num_threads())


class _ModuleLinear(torch.autograd.Function):
    """b + h W^T per member, W (R, out, in), and its gradients as F.linear's backward (torch.addmm / mm) forms
    them for one run: grad_h = g W, grad_W = g^T h (not baddbmm's backward, grad_W = (h^T g)^T: same math,
    other operand layouts, a transposed gradient), grad_b = sum over B of g. `exact`: each product as one
    batched call where that gives the single run's bits on this CPU (batched_is_exact), else R single calls.
    Its backward is made of differentiable ops, so double backward (gradient penalty, R1, unrolled D) works.
    It forms every gradient its inputs require (ctx.needs_input_grad, not what this backward pass asks for):
    detach constants."""

    @staticmethod
    def forward(ctx, h: Tensor, W: Tensor, b: Tensor, exact: bool) -> Tensor:
        ctx.save_for_backward(h, W)
        ctx.exact = exact
        return _fwd(h, W, b, _batched("fwd", h, h.shape[1], W.shape[2], W.shape[1], exact))

    @staticmethod
    def backward(ctx, g: Tensor):
        h, W = ctx.saved_tensors
        shape = (h.shape[1], W.shape[2], W.shape[1])
        gh = _grad_h(g, W, _batched("grad_h", h, *shape, ctx.exact)) if ctx.needs_input_grad[0] else None
        gW = _grad_W(g, h, _batched("grad_W", h, *shape, ctx.exact)) if ctx.needs_input_grad[1] else None
        gb = g.sum(1) if ctx.needs_input_grad[2] else None
        return gh, gW, gb, None


def module_linear(h: Tensor, W: Tensor, b: Tensor, exact: bool = False) -> Tensor:
    """h (R, B, in) -> b + h W^T (R, B, out) for W (R, out, in), b (R, out): each member's products with the
    operands its single run's F.linear has (see the module docstring); `exact` (a CPU): with its bits too."""
    return _ModuleLinear.apply(h, W, b, exact)


def forward(params: Sequence[Tensor], x: Tensor, lay: Layout, sn: SNState | None = None,
            training: bool = True) -> Tensor:
    """x (R, B, in) -> (R, B, out) through the stacked MLP `params` [W_0, b_0, ...] (each (R, ...)).
    For D, x is (R, B, d) (d: 2 for toy data, 784 for a flattened 28x28 digit) and is packed to
    (R, B / pack, d * pack) first (PacGAN); D returns (R, B / pack, 1). An image G ends in tanh."""
    h = x.reshape(x.shape[0], x.shape[1] // lay.pack, -1) if lay.pack > 1 else x
    n = len(lay.shapes)
    for i in range(n):
        W, b = params[2 * i], params[2 * i + 1]
        if lay.sn and sn is not None:
            W = sn.weight(i, W, training)
        if lay.exact and lay.shapes[i][0] == 1:
            # unbind, not h[r]: its backward stacks the R gradients at once (h[r]'s would fill R full-size zeros)
            h = torch.stack([F.linear(x, w, c) for x, w, c in zip(h.unbind(0), W.unbind(0), b.unbind(0))])
        else:
            h = module_linear(h, W, b, lay.exact)  # b + h W^T, per member
        if i < n - 1:
            h = _act(h, lay)
    return torch.tanh(h) if lay.tanh_out else h


# ---- per-member losses from the registry ----------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def d_loss_fn(loss, real_label: float) -> Callable[[Tensor, Tensor], Tensor]:
    """The registry's d_loss(r, f, real_label), vmapped over members: (G, B, 1) x2 -> (G,)."""
    return torch.vmap(functools.partial(loss.d_loss, real_label=real_label))


@functools.lru_cache(maxsize=None)
def g_loss_fn(loss) -> Callable[[Tensor], Tensor]:
    return torch.vmap(loss.g_loss)


class Groups:
    """Members of a stack grouped by a hashable key (e.g. their loss): each group's function runs once on
    its rows, and the results come back as one (R,) vector in member order."""

    def __init__(self, keys: Sequence, device: torch.device):
        order: dict = {}
        for i, k in enumerate(keys):
            order.setdefault(k, []).append(i)
        self.groups = [(k, rows_of(ix, len(keys), device)) for k, ix in order.items()]
        flat = [i for ix in order.values() for i in ix]
        self.perm = None if flat == list(range(len(keys))) else torch.tensor(
            sorted(range(len(flat)), key=flat.__getitem__), dtype=torch.long, device=device)

    def __call__(self, fn: Callable, *tensors: Tensor) -> Tensor:
        outs = [fn(k)(*(take(t, rows) for t in tensors)) for k, rows in self.groups]
        if len(outs) == 1 and self.perm is None:
            return outs[0]
        return torch.cat(outs)[self.perm] if self.perm is not None else torch.cat(outs)
