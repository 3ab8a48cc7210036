"""The Theory page's share link: its setup as URL query params, and reading one back (no Streamlit here, so
ganlab/lessons/links.py checks a lesson's link with the very rules the page uses).

A link names the page's settings by the TheoryConfig field they set (`data`, `loss`, `g_lr`, `d_lr`, `d_steps`,
`steps`, `z_dist`, `z_dim`, `seed`; `means`, `stds`, `weights` with `data=custom`) plus `dopt_steps`, the D steps
of "Freeze G, train D to optimum". A value must fit the page's widget (a learning rate from its slider, at most
10 D steps, ...) and the whole setup must pass TheoryConfig; otherwise the link keeps the defaults, with a
warning. Unknown keys are ignored, with a warning. Links never carry identity (run ids, owners, paths).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ganlab.config import ConfigError, check
from ganlab.i18n import _
from ganlab.theory.config import DATA_PRESETS, LOSS_KEYS, Z_DISTS, TheoryConfig, parse_floats

CUSTOM = "custom"  # the data picker's "type your own mixture"
LRS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)  # the learning-rate sliders' stops
# The page's settings and their defaults (the widgets' values; the page keys them with its prefix).
DEFAULTS: dict[str, Any] = {"data": "gaussian", "means": "-1, 2", "stds": "0.5, 0.5", "weights": "1, 1",
                            "loss": "non_saturating", "g_lr": 1e-3, "d_lr": 1e-3, "d_steps": 1,
                            "steps": TheoryConfig().steps, "z_dist": "normal", "z_dim": 1, "seed": 0,
                            "dopt_steps": 800}
# Whole-number settings: (lowest, highest, multiple of) as the page's number inputs take them.
WHOLE = {"d_steps": (1, 10, 1), "steps": (1, 1_000_000, 1), "z_dim": (1, 4, 1), "seed": (0, 2**31 - 1, 1),
         "dopt_steps": (50, 5000, 50)}
MIXTURE = ("means", "stds", "weights")  # text; only with data=custom
LINK_KEYS = frozenset(DEFAULTS)
LANG_PARAM = "lang"  # every page accepts the reader's language (ganlab/ui/lang.py)


def config(values: Mapping[str, Any]) -> TheoryConfig:
    """The TheoryConfig the page's settings describe; ConfigError (translated) when they do not make one."""
    kw: dict[str, Any] = {k: values[k] for k in ("loss", "g_lr", "d_lr", "d_steps", "steps", "z_dist", "z_dim",
                                                  "seed")}
    if values["data"] == CUSTOM:
        kw.update({k: parse_floats(values[k], k) for k in MIXTURE})
        return TheoryConfig(**kw)
    return TheoryConfig.from_preset(values["data"], **kw)


def _value(key: str, text: str) -> Any:
    """One link value as the page's widget holds it; ConfigError with the reason otherwise."""
    text = text.strip()
    if key == "data":
        check(text in DATA_PRESETS or text == CUSTOM, _("data {data!r} is not a Theory density; choose one of "
                                                        "{choices}").format(data=text,
                                                                            choices=", ".join((*DATA_PRESETS, CUSTOM))))
    elif key == "loss":
        check(text in LOSS_KEYS, _("loss {loss!r} is not a minimax game; choose one of {choices}").format(
            loss=text, choices=", ".join(LOSS_KEYS)))
    elif key == "z_dist":
        check(text in Z_DISTS, _("z_dist must be one of {choices}; got {value!r}").format(
            choices=", ".join(Z_DISTS), value=text))
    elif key in ("g_lr", "d_lr"):
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        stop = next((s for s in LRS if math.isclose(v, s, rel_tol=1e-9)), None)
        check(stop is not None, _("{name}: {value!r} is not one of the page's learning rates ({choices})").format(
            name=key, value=text, choices=", ".join(f"{s:g}" for s in LRS)))
        return stop
    elif key in WHOLE:
        lo, hi, every = WHOLE[key]
        try:
            v = float(text)
            whole = math.isfinite(v) and v == int(v)
        except ValueError:
            whole = False
        check(whole, _("{name}: expected a whole number, got {value!r}").format(name=key, value=text))
        check(lo <= v <= hi and int(v) % every == 0,
              _("{name} must be between {lo} and {hi}{every}; got {value}").format(
                  name=key, lo=lo, hi=hi, value=int(v),
                  every=_(", in steps of {n}").format(n=every) if every > 1 else ""))
        return int(v)
    return text


def _one_each(params: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v[-1] if isinstance(v, list) else v) for k, v in params.items()}


def parse(params: Mapping[str, Any]) -> dict[str, Any]:
    """The page's settings: the link's (LINK_KEYS; others are left out) over the defaults; ConfigError with the
    first reason they do not fit the page's widgets or make no valid TheoryConfig."""
    params = _one_each(params)
    values = dict(DEFAULTS)
    values.update({k: _value(k, v) for k, v in params.items() if k in LINK_KEYS})
    mixture = sorted(k for k in MIXTURE if k in params)
    if mixture and values["data"] != CUSTOM:
        raise ConfigError(_("{names} only apply with data=custom").format(names=", ".join(mixture)))
    config(values)
    return values


def restore(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the page's settings, warnings) from URL params: every setting the link gives over the defaults, when
    together they make a valid TheoryConfig; else the defaults, with the reason."""
    params = _one_each(params)
    warnings: list[str] = []
    unknown = sorted(set(params) - LINK_KEYS - {LANG_PARAM})
    if unknown:
        warnings.append(_("ignored unknown link parameter(s): {names}").format(names=", ".join(unknown)))
    try:
        values = parse(params)
    except ConfigError as e:
        warnings.append(_("the link's setup could not be used ({error}); the defaults are kept").format(error=e))
        values = dict(DEFAULTS)
    return values, warnings


def share_params(values: Mapping[str, Any]) -> dict[str, str]:
    """URL query params for these settings: the ones that differ from the defaults (the mixture's text only with
    data=custom), in a stable order."""
    out = {}
    for k, default in DEFAULTS.items():
        v = values.get(k, default)
        if v == default or (k in MIXTURE and values.get("data") != CUSTOM):
            continue
        out[k] = f"{v:g}" if isinstance(v, float) else str(v)
    return out
