"""Share links: a page's setup as URL query params, and the part of reading one back that every page shares.

Every link keeps the page's language (`lang=zh`), and `lang` is a key every page accepts (ganlab/ui/lang.py)."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlencode

import streamlit as st

from ganlab import config as cfg
from ganlab.config import TrainConfig
from ganlab.i18n import _
from ganlab.ui import lang

CUSTOM = "(custom)"


def share_url(params: Mapping[str, str]) -> str:
    """This page's address with `params` as its query string."""
    base = ""
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:  # no browser context (a script run without one): the link stays relative
        pass
    return f"{base}?{urlencode(params)}"


def setup_params(preset: str, config: TrainConfig) -> dict[str, str]:
    """The query params every setup link starts with: the preset's name (unless CUSTOM), then the config's
    non-default fields."""
    q = {} if preset == CUSTOM else {"preset": preset}
    q.update(config.to_query())
    q.update(lang.link_params())
    return q


def read(params: Mapping[str, Any], link_keys: frozenset[str], presets: tuple[str, ...], default: str,
         page: str) -> tuple[dict[str, str], str, bool, list[str]]:
    """(params with one value per key, preset, whether config fields were given, warnings).

    Unknown keys and a preset of another page become warnings; the preset is `default` unless the link names a
    valid one, or CUSTOM when the link gives config fields without a preset."""
    params = {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}
    warnings: list[str] = []
    unknown = sorted(set(params) - link_keys - {lang.PARAM})
    if unknown:
        warnings.append(_("ignored unknown link parameter(s): {names}").format(names=", ".join(unknown)))
    fields_given = any(k in cfg.FIELD_TYPES for k in params)
    preset = params.get("preset", CUSTOM if fields_given else default)
    if preset not in presets and preset != CUSTOM:
        warnings.append(_("preset {preset!r} is not {page} preset; choose one of {presets}").format(
            preset=preset, page=page, presets=", ".join(presets)))
        preset = default
    return params, preset, fields_given, warnings
