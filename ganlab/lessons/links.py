"""A lesson step's link: a page's url path and the setup in its query string, checked the way the page reads it.

The pages read their links in ganlab/ui/ (Streamlit): the Mode collapse lab in ui/mode_collapse/setup.py
(`restore`), the Image GAN in ui/image_gan/setup.py (`restore`, `restore_b`), both on top of ui/links.py
(`read`). This module may not import them (no Streamlit outside ganlab/ui/), so it applies the same rules to
the same engine pieces (ganlab.config's `from_query` / `from_dict`, ganlab.presets). The Theory and Latent space
pages read their links with Streamlit-free modules, ganlab/theory/link.py and ganlab/latent_link.py: their
`restore` is called here as it is. Everywhere this module is stricter: what a page would only *warn* about (an
unknown key, another page's preset, a value its widget cannot show) is an error here. tests/test_lessons.py feeds
every shipped link to the pages' own functions and checks that the key sets below equal theirs.

Class takes no parameters, so a step may only open it bare.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from ganlab import config as cfg
from ganlab import latent_link
from ganlab.config import ConfigError
from ganlab.presets import PRESETS
from ganlab.theory import link as theory_link

PAGES = {"": "Mode collapse lab", "image_gan": "Image GAN", "latent_space": "Latent space", "theory": "Theory",
         "class": "Class"}
LANG_PARAM = "lang"  # the page adds the reader's language; a lesson link never fixes it

# Mode collapse lab (ui/mode_collapse/setup.py): run A's config fields, the preset, compare, and run B's
# differences in the loss, rates and remedies as b_<field>.
MC_RUN_FIELDS = ("loss", "g_lr", "d_lr", "d_steps", "unrolled_steps", "pack", "gp_weight", "r1_gamma")
MC_KEYS = frozenset(cfg.FIELD_TYPES) | {"preset", "compare"} | {f"b_{f}" for f in MC_RUN_FIELDS}
TOY_PRESETS = tuple(n for n, p in PRESETS.items() if p.config.is_toy)
# Image GAN (ui/image_gan/setup.py): config fields, the preset, compare and run B's preset.
IG_KEYS = frozenset(cfg.FIELD_TYPES) | {"preset", "compare", "b_preset"}
IMAGE_PRESETS = tuple(n for n, p in PRESETS.items() if not p.config.is_toy)
# Latent space (ganlab/latent_link.py): `source` (a bundled demo), `mode`, one of the modes a generator offers
# (image generators: interpolation, sliders, conditional; a VAE adds encode; a toy generator has toy_manifold),
# and the mode's view settings (seed_a, seed_b, path, ...).
LATENT_MODES = latent_link.MODES
LATENT_KEYS = latent_link.LINK_KEYS
# Theory (ganlab/theory/link.py): data, loss, g_lr, d_lr, d_steps, steps, seed, ... as the page's widgets take them.
THEORY_KEYS = theory_link.LINK_KEYS
KEYS = {"": MC_KEYS, "image_gan": IG_KEYS, "latent_space": LATENT_KEYS, "theory": THEORY_KEYS,
        "class": frozenset()}
CONFIG_PAGES = ("", "image_gan")  # pages whose keys are TrainConfig's fields (too many to list in a message)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Link:
    """A page and its query parameters, in the order written."""

    page: str  # a url path among PAGES ("" is the Mode collapse lab)
    params: tuple[tuple[str, str], ...] = ()

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params)

    def url(self, lang: str | None = None) -> str:
        """A relative address: `image_gan?preset=mnist-dcgan`, `?preset=ring-collapse`, `theory`; with
        `lang="zh"` the link also switches the page to 简体中文 (English is every page's default)."""
        params = list(self.params) + ([(LANG_PARAM, "zh")] if lang == "zh" else [])
        return self.page + (f"?{urlencode(params)}" if params else "")


def parse(text: str) -> Link:
    """`page?key=value&...` -> a checked Link; ValueError with the reason otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected text like 'image_gan?preset=mnist-dcgan', got {text!r}")
    page, _, query = text.strip().lstrip("/").partition("?")
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; pages are " + ", ".join(repr(p) for p in PAGES))
    try:
        params = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise ValueError(f"query {query!r} is not key=value pairs joined by '&'") from None
    keys = [k for k, _v in params]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"parameter(s) given twice: {', '.join(twice)}")
    if LANG_PARAM in keys:
        raise ValueError("leave 'lang' out: the page adds the reader's language")
    unknown = sorted(set(keys) - KEYS[page])
    if unknown:
        allowed = "config fields (ganlab/config.py)" if page in CONFIG_PAGES else ", ".join(sorted(KEYS[page]))
        raise ValueError(f"the {PAGES[page]} page does not read {', '.join(unknown)}"
                         + (f"; it reads {allowed}" if KEYS[page] else "; it takes no parameters"))
    link = Link(page, params)
    CHECKS.get(page, lambda q: None)(link.query)
    return link


def _flag(q: dict[str, str], key: str) -> None:
    if key in q and q[key].strip().lower() not in TRUE + FALSE:
        raise ValueError(f"{key}: expected 1 or 0, got {q[key]!r}")


def _config(q: dict[str, str], preset: str, default: str) -> cfg.TrainConfig:
    """Run A's config as the page builds it: the link's config fields over the defaults when it gives any
    (the preset then only names the setup), else the preset's config."""
    if any(k in cfg.FIELD_TYPES for k in q):
        return cfg.from_query(q)
    return PRESETS[preset if preset != "(custom)" else default].config


def _check_mode_collapse(q: dict[str, str]) -> None:
    preset = q.get("preset", "ring-collapse")
    if preset not in TOY_PRESETS:
        raise ValueError(f"preset {preset!r} is not a Mode collapse lab preset; choose one of {', '.join(TOY_PRESETS)}")
    _flag(q, "compare")
    try:
        a = _config(q, preset, "ring-collapse")
        if not a.is_toy:
            raise ValueError(f"data {a.data!r} is image data; this page trains on 2-D toy data")
        b_given = {f: q[f"b_{f}"] for f in MC_RUN_FIELDS if f"b_{f}" in q}
        if b_given:
            cfg.from_dict({**a.to_dict(), **b_given})
    except ConfigError as e:
        raise ValueError(str(e)) from None


def _check_image_gan(q: dict[str, str]) -> None:
    preset = q.get("preset", "mnist-dcgan")
    for key, name in (("preset", preset), ("b_preset", q.get("b_preset", "mnist-dcgan"))):
        if name not in IMAGE_PRESETS:
            raise ValueError(f"{key} {name!r} is not an Image GAN preset; choose one of {', '.join(IMAGE_PRESETS)}")
    _flag(q, "compare")
    try:
        if _config(q, preset, "mnist-dcgan").is_toy:
            raise ValueError("this page trains on images; the 2-D toy data lives on the Mode collapse lab")
    except ConfigError as e:
        raise ValueError(str(e)) from None


def _check_latent(q: dict[str, str]) -> None:
    """The page's own reading (ganlab/latent_link.py); any warning it would show is an error here."""
    _source, mode, _values, warnings = latent_link.restore(q)
    try:
        latent_link.view_values(mode or latent_link.IMAGE_MODES[0], q)  # the reason itself, not "defaults kept"
    except ConfigError as e:
        raise ValueError(str(e)) from None
    if warnings:
        raise ValueError(warnings[0])


def _check_theory(q: dict[str, str]) -> None:
    """The page's own reading (ganlab/theory/link.py): what it would refuse with a warning is an error here."""
    try:
        theory_link.parse(q)
    except ConfigError as e:
        raise ValueError(str(e)) from None


CHECKS = {"": _check_mode_collapse, "image_gan": _check_image_gan, "latent_space": _check_latent,
          "theory": _check_theory}
