"""The Latent space page's share link: which bundled demo, which mode, and the settings of that mode's view as
URL query params, and reading one back (no Streamlit here: ganlab/lessons/links.py checks a lesson's link with
the rules the page uses; the page is ganlab/ui/latent_space/).

    source   a bundled demo by name (SOURCES); never a student's run, an upload or a path: a link opens the
             same view for anyone, and a run of yours stays yours (the page then leaves `source` out)
    mode     interpolation, sliders, conditional, encode (a VAE) or toy_manifold (a 2-D toy generator)
    ...      the mode's own settings (VIEW): seed_a / seed_b and path=lerp|slerp for an interpolation, ...

A value must fit its widget, else the link's view settings are all left at their defaults (source and mode
still apply), with a warning; unknown keys and settings of another mode are ignored, with a warning.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ganlab.config import ConfigError, check
from ganlab.i18n import N_, _

SEED_MAX = 2**31 - 1
# link name -> (the picker's label, shown with _(), the asset's file name)
SOURCES = {"mnist-dcgan": (N_("MNIST DCGAN (demo)"), "demo-mnist-dcgan.pt"),
           "mnist-cgan": (N_("MNIST conditional GAN (demo)"), "demo-mnist-cgan.pt"),
           "mnist-vae": (N_("MNIST VAE (demo)"), "demo-mnist-vae.pt")}
IMAGE_MODES = ("interpolation", "sliders", "conditional")  # any image generator
VAE_MODES = (*IMAGE_MODES, "encode")  # a VAE also encodes real digits
TOY_MODES = ("toy_manifold",)  # a 2-D toy generator
MODES = (*VAE_MODES, *TOY_MODES)
SOURCE_MODES = {"mnist-dcgan": IMAGE_MODES, "mnist-cgan": IMAGE_MODES, "mnist-vae": VAE_MODES}
PATHS = ("slerp", "lerp")
N_CLASSES = 10  # the demos' (and MNIST's) classes: a class picker's values are 0..9

# mode -> {link name: (widget key, default, domain)}; a domain is a tuple of choices, or (lowest, highest, step)
# for a number (ints: whole numbers, floats: multiples of step from lowest).
VIEW: dict[str, dict[str, tuple[str, Any, tuple]]] = {
    "interpolation": {"endpoints": ("lat_i_how", "seeds", ("seeds", "samples")),
                      "seed_a": ("lat_i_a", 0, (0, SEED_MAX, 1)), "seed_b": ("lat_i_b", 1, (0, SEED_MAX, 1)),
                      "sheet": ("lat_i_sheet", 0, (0, SEED_MAX, 1)), "sample_a": ("lat_i_pa", 0, (0, 15, 1)),
                      "sample_b": ("lat_i_pb", 1, (0, 15, 1)), "path": ("lat_i_mode", "slerp", PATHS),
                      "frames": ("lat_i_n", 10, (4, 32, 1)), "fps": ("lat_i_fps", 8, (2, 24, 1))},
    "sliders": {"seed": ("lat_s_seed", 0, (0, SEED_MAX, 1))},
    "conditional": {"styles": ("lat_c_styles", 8, (2, 10, 1)), "seed": ("lat_c_seed", 0, (0, SEED_MAX, 1)),
                    "class_from": ("lat_c_from", 0, (0, N_CLASSES - 1, 1)),
                    "class_to": ("lat_c_to", 1, (0, N_CLASSES - 1, 1)), "column": ("lat_c_col", 0, (0, 9, 1)),
                    "frames": ("lat_c_n", 10, (4, 24, 1))},
    "encode": {"class_a": ("lat_e_ca", 3, (0, N_CLASSES - 1, 1)), "class_b": ("lat_e_cb", 8, (0, N_CLASSES - 1, 1)),
               "path": ("lat_e_mode", "lerp", PATHS), "frames": ("lat_e_n", 10, (4, 24, 1))},
    "toy_manifold": {"grid": ("lat_t_grid", 11, (5, 21, 2)), "span": ("lat_t_span", 2.5, (1.0, 4.0, 0.5)),
                     "rest": ("lat_t_rest", "zero", ("zero", "seed")),
                     "rest_seed": ("lat_t_rseed", 0, (0, SEED_MAX, 1)),
                     "seed_a": ("lat_t_a", 0, (0, SEED_MAX, 1)), "seed_b": ("lat_t_b", 1, (0, SEED_MAX, 1)),
                     "path": ("lat_t_mode", "lerp", ("lerp", "slerp"))},
}
DEFAULTS = {key: default for view in VIEW.values() for key, default, _dom in view.values()}  # widget key -> value
LINK_KEYS = frozenset({"source", "mode"}).union(*VIEW.values())
LANG_PARAM = "lang"  # every page accepts the reader's language (ganlab/ui/lang.py)
DEFAULT_SOURCE = "mnist-dcgan"


def source_name(label: str) -> str | None:
    """A bundled demo's link name from its picker label (None: not a bundled demo)."""
    return next((name for name, (lab, _file) in SOURCES.items() if lab == label), None)


def _value(name: str, text: str, default: Any, domain: tuple) -> Any:
    """One link value as its widget holds it; ConfigError with the reason otherwise."""
    text = text.strip()
    if isinstance(default, str):
        check(text in domain, _("{name}: {value!r} is not one of {choices}").format(
            name=name, value=text, choices=", ".join(domain)))
        return text
    lo, hi, step = domain
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    whole = isinstance(default, int)
    fits = math.isfinite(v) and lo <= v <= hi and math.isclose((v - lo) / step, round((v - lo) / step),
                                                               abs_tol=1e-9)
    check(fits, _("{name} must be a number from {lo:g} to {hi:g} in steps of {step:g}; got {value!r}").format(
        name=name, lo=lo, hi=hi, step=step, value=text) if not whole or step != 1 else
        _("{name} must be a whole number from {lo} to {hi}; got {value!r}").format(name=name, lo=lo, hi=hi,
                                                                                  value=text))
    return int(round(v)) if whole else lo + round((v - lo) / step) * step


def view_values(mode: str, params: Mapping[str, str]) -> dict[str, Any]:
    """{widget key: value} for the settings of `mode`'s view that `params` give (others are left out);
    ConfigError with the first reason one does not fit its widget."""
    values: dict[str, Any] = {}
    for name, (key, default, domain) in VIEW[mode].items():
        if name in params:
            values[key] = _value(name, str(params[name]), default, domain)
    if "lat_c_col" in values or "lat_c_styles" in values:
        styles, col = values.get("lat_c_styles", DEFAULTS["lat_c_styles"]), values.get("lat_c_col", 0)
        check(col < styles, _("column {column} is not among the {styles} styles (0 to {last})").format(
            column=col, styles=styles, last=styles - 1))
    return values


def restore(params: Mapping[str, Any]) -> tuple[str | None, str | None, dict[str, Any], list[str]]:
    """(source, mode, {widget key: value} of the mode's view, warnings) from URL params. source / mode are None
    when the link names none (or a wrong one: a warning says so); the view values are those the link gives."""
    params = {k: str(v[-1] if isinstance(v, list) else v) for k, v in params.items()}
    warnings: list[str] = []
    unknown = sorted(set(params) - LINK_KEYS - {LANG_PARAM})
    if unknown:
        warnings.append(_("ignored unknown link parameter(s): {names}").format(names=", ".join(unknown)))
    source = params.get("source", "").strip() or None
    if source is not None and source not in SOURCES:
        warnings.append(_("source {source!r} is not a bundled demo; choose one of {choices}").format(
            source=source, choices=", ".join(SOURCES)))
        source = None
    mode = params.get("mode", "").strip().lower() or None
    offered = SOURCE_MODES[source] if source else MODES
    if mode is not None and mode not in offered:
        warnings.append((_("mode {mode!r} is not a mode of {source}; choose one of {choices}") if source else
                         _("mode {mode!r} is not a Latent space mode; choose one of {choices}")).format(
            mode=mode, source=source, choices=", ".join(offered)))
        mode = None
    view = VIEW[mode or IMAGE_MODES[0]]  # no mode: the page opens an image generator's first
    other = sorted(k for k in set(params) & LINK_KEYS - {"source", "mode"} if k not in view)
    if other:
        warnings.append(_("ignored {names}: not settings of the {mode} view").format(
            names=", ".join(other), mode=mode or IMAGE_MODES[0]))
    try:
        values = view_values(mode or IMAGE_MODES[0], params)
    except ConfigError as e:
        warnings.append(_("the link's view settings could not be used ({error}); their defaults are kept").format(
            error=e))
        values = {}
    return source, mode, values, warnings


def share_params(source: str | None, mode: str, state: Mapping[str, Any]) -> dict[str, str]:
    """URL query params for a view: the bundled demo (None: a run or an upload, left out), the mode, and the
    mode's settings that differ from their defaults (`state`: widget key -> value)."""
    q = {"source": source} if source else {}
    q["mode"] = mode
    for name, (key, default, _domain) in VIEW.get(mode, {}).items():
        v = state.get(key, default)
        if v != default:
            q[name] = f"{v:g}" if isinstance(v, float) else str(v)
    return q
