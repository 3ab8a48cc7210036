"""Every private torch API ganlab uses, each behind one guard with a public fallback (docs/architecture.md,
"Private APIs").

The model is stylegan2-ada's `conv2d_gradfix`: use the private op only where it is known to work, else fall
back to public API that computes the same numbers, more slowly. "Known to work" is checked, not assumed from a
version list: the first call of each op (per device type) runs the private and the public way on small fixed
tensors and keeps the private one only if it exists, runs, and agrees exactly. A failed check warns once.
`ENABLED = False` forces every fallback (the tests run both paths and compare them).

    function        private path                                       public fallback
    adam_step       torch._fused_adam_ on the optimiser's own state    opt.step()
    lerp_           torch._foreach_lerp_                               Tensor.lerp_ on each pair
    copy_           torch._foreach_copy_                               Tensor.copy_ on each pair
    norms           torch._foreach_norm                                linalg.vector_norm of each tensor
    has_batchnorm   isinstance(m, nn.modules.batchnorm._BatchNorm)     isinstance of the public BatchNorm classes
    with_child      copy.copy and a new `_modules` dict                copy.deepcopy that shares every tensor

The probes draw no random numbers and read nothing back to the host except through torch.equal, so they leave
the training RNG and the no-host-sync checks alone.
"""
from __future__ import annotations

import copy
import math
import threading
import warnings
from typing import Callable, Sequence

import torch
from torch import nn

ENABLED = True  # False: always take the public fallback
_checked: dict[tuple[str, str], bool] = {}  # (op, device type) -> the private op passed its check
_check_lock = threading.Lock()


def _use_private(op: str, device_type: str) -> bool:
    """True when `op` may take its private path on this device type (checked on first use, then cached)."""
    if not ENABLED:
        return False
    ok = _checked.get((op, device_type))
    return _check(op, device_type) if ok is None else ok


def _check(op: str, device_type: str) -> bool:
    with _check_lock:
        key = (op, device_type)
        if key not in _checked:
            try:
                ok = bool(_CHECKS[op](torch.device(device_type)))
            except Exception:  # noqa: BLE001 - a missing op, a changed signature, ...: all mean "fall back"
                ok = False
            if not ok:
                warnings.warn(f"torch {torch.__version__}: the private {op} is missing or behaves differently on "
                              f"{device_type}; ganlab uses its public fallback (same numbers, slower)",
                              RuntimeWarning, stacklevel=4)
            _checked[key] = ok
        return _checked[key]


def check_all(device: torch.device) -> None:
    """Run every check for this device type now (a Trainer does when it is built), so none runs mid-step."""
    for op in _CHECKS if ENABLED else ():
        _use_private(op, "cpu" if op in _DEVICE_FREE else device.type)


_PROBE_SHAPES = ((3,), (2, 2), (2, 3))


def _probe(device: torch.device, offset: float = 0.0) -> list[torch.Tensor]:
    """Three small fixed tensors with values that are not round numbers: sin(0.37 k + offset + i), no RNG."""
    return [(torch.arange(math.prod(s), dtype=torch.float32, device=device) * 0.37 + offset + i).sin().reshape(s)
            for i, s in enumerate(_PROBE_SHAPES)]


def _same(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


# ---- Adam: one update on the optimiser's own state ------------------------------------------------------------
def _fused_adam(opt: torch.optim.Optimizer) -> None:
    """The private path: step_t += 1, then the fused kernel (m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    theta -= lr m_hat / (sqrt(v_hat) + eps)) on the state tensors torch.optim.Adam keeps."""
    group, state = opt.param_groups[0], opt.state
    params = group["params"]
    st = [state[p] for p in params]
    steps = [s["step"] for s in st]
    beta1, beta2 = group["betas"]
    with torch.no_grad():
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, [p.grad for p in params], [s["exp_avg"] for s in st],
                           [s["exp_avg_sq"] for s in st], [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
                           beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=False)


def _check_adam(device: torch.device) -> bool:
    """Two fused Adams from the same start: after three updates, the private path and opt.step() agree."""
    nets = [[nn.Parameter(t) for t in _probe(device)] for _ in range(2)]
    opts = [torch.optim.Adam(p, lr=1e-2, betas=(0.5, 0.999), fused=True) for p in nets]
    for i in range(3):
        for ps in nets:
            for p, g in zip(ps, _probe(device, offset=float(i))):
                p.grad = g.clone()
        opts[1].step()
        if i == 0:
            opts[0].step()  # the first step creates the state
        else:
            _fused_adam(opts[0])
    st = [[o.state[p][s] for p in ps for s in ("exp_avg", "exp_avg_sq", "step")] for o, ps in zip(opts, nets)]
    return _same(nets[0], nets[1]) and _same(st[0], st[1])


def adam_step(opt: torch.optim.Optimizer) -> None:
    """One Adam update from p.grad, for a plain fused Adam whose state exists (see ganlab.engine.optim).
    Private: the fused kernel called directly, skipping opt.step()'s Python bookkeeping. Public: opt.step()."""
    if _use_private("_fused_adam_", opt.param_groups[0]["params"][0].device.type):
        _fused_adam(opt)
    else:
        opt.step()


# ---- foreach ops (the weight average of G, gradient norms) ------------------------------------------------------
def _check_lerp(device: torch.device) -> bool:
    a, b = _probe(device), _probe(device, offset=1.0)
    torch._foreach_lerp_(a, b, 0.1)
    return _same(a, [x.lerp_(y, 0.1) for x, y in zip(_probe(device), b)])


def lerp_(dst: list[torch.Tensor], src: list[torch.Tensor], weight: float) -> None:
    """dst_i <- dst_i + weight (src_i - dst_i), in place, for every pair."""
    if _use_private("_foreach_lerp_", dst[0].device.type):
        torch._foreach_lerp_(dst, src, weight)
    else:
        for d, s in zip(dst, src, strict=True):
            d.lerp_(s, weight)


def _check_copy(device: torch.device) -> bool:
    a, b = _probe(device), _probe(device, offset=1.0)
    torch._foreach_copy_(a, b)
    return _same(a, b)


def copy_(dst: list[torch.Tensor], src: list[torch.Tensor]) -> None:
    """dst_i <- src_i, in place, for every pair."""
    if _use_private("_foreach_copy_", dst[0].device.type):
        torch._foreach_copy_(dst, src)
    else:
        for d, s in zip(dst, src, strict=True):
            d.copy_(s)


def _check_norm(device: torch.device) -> bool:
    a = _probe(device)
    return torch.equal(torch.stack(torch._foreach_norm(a)), torch.stack([torch.linalg.vector_norm(t) for t in a]))


def norms(tensors: list[torch.Tensor]) -> torch.Tensor:
    """(len(tensors),) the 2-norm of each tensor, on the device (no host sync)."""
    if _use_private("_foreach_norm", tensors[0].device.type):
        return torch.stack(torch._foreach_norm(tensors))
    return torch.stack([torch.linalg.vector_norm(t) for t in tensors])


# ---- module structure --------------------------------------------------------------------------------------------
_PUBLIC_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def _check_batchnorm(device: torch.device) -> bool:
    """_BatchNorm is still the common base of the public BatchNorms, and of no other norm layer."""
    base = nn.modules.batchnorm._BatchNorm
    return (all(issubclass(cls, base) for cls in _PUBLIC_BATCHNORMS)
            and not any(issubclass(cls, base) for cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.LayerNorm)))


def has_batchnorm(module: nn.Module) -> bool:
    """Whether any submodule is a BatchNorm (its batch statistics mix every sample of a forward pass)."""
    if _use_private("_BatchNorm", "cpu"):
        kinds: type | tuple[type, ...] = nn.modules.batchnorm._BatchNorm
    else:
        kinds = _PUBLIC_BATCHNORMS
    return any(isinstance(m, kinds) for m in module.modules())


def _shallow_with_child(module: nn.Module, name: str, child: nn.Module) -> nn.Module:
    m = copy.copy(module)  # a new __dict__ that shares the submodule dict: give it its own
    m._modules = {**module._modules, name: child}
    return m


def _deep_with_child(module: nn.Module, name: str, child: nn.Module) -> nn.Module:
    shared = {id(t): t for t in (*module.parameters(), *module.buffers())}  # deepcopy reuses these as they are
    m = copy.deepcopy(module, memo=shared)
    setattr(m, name, child)
    return m


def _check_with_child(device: torch.device) -> bool:
    net = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    out = _shallow_with_child(net, "1", nn.Identity())
    return (isinstance(out[1], nn.Identity) and isinstance(net[1], nn.Tanh) and out[0] is net[0]
            and out._modules is not net._modules)


def with_child(module: nn.Module, name: str, child: nn.Module) -> nn.Module:
    """A copy of `module` whose child `name` is `child`; every weight is shared and `module` is untouched, so
    it is safe while other threads use `module`. Private: copy.copy and a new `_modules` dict (no copying).
    Public: copy.deepcopy of the module tree with every parameter and buffer kept as it is (copies structure)."""
    if _use_private("Module._modules", "cpu"):
        return _shallow_with_child(module, name, child)
    return _deep_with_child(module, name, child)


_CHECKS: dict[str, Callable[[torch.device], bool]] = {
    "_fused_adam_": _check_adam, "_foreach_lerp_": _check_lerp, "_foreach_copy_": _check_copy,
    "_foreach_norm": _check_norm, "_BatchNorm": _check_batchnorm, "Module._modules": _check_with_child}
_DEVICE_FREE = frozenset({"_BatchNorm", "Module._modules"})  # Python-level checks: one per process
