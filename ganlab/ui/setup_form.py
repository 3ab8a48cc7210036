"""What the training pages' setup forms share (Mode collapse lab, Image GAN).

A setup form keeps its widget values in st.session_state under the page's prefix (no widget gets `value=`), so
a preset or a share link writes them before the widgets are drawn (ganlab/ui/state.py keeps them across page
switches). While a run is active (`locked`), only the settings a live run can take (LIVE_KEYS: losses,
learning rates, betas, D steps, remedies other than packing, the step budget) stay editable; the page sends
them to the running job (controls.sync_live).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import streamlit as st

from ganlab.engine.trainer import LIVE_KEYS
from ganlab.losses import LOSSES


def loss_label(key: str) -> str:
    """The loss's name as the user reads it ('Non-saturating'); an unknown key as itself."""
    return LOSSES[key].label if key in LOSSES else key


def locked_out(name: str, locked: bool) -> bool:
    """Is the setting `name` disabled? While a run is active, all but the live-changeable ones are."""
    return locked and name not in LIVE_KEYS


def number(col, label: str, name: str, locked: bool, *, prefix: str, key: str | None = None, off: bool = False,
           **kw: Any) -> None:
    """A number input for the config field `name` (value under `key`, else prefix + name), disabled while the
    run holds it (locked_out) or when it does not apply (`off`, e.g. a DCGAN width for an MLP)."""
    col.number_input(label, key=key or prefix + name, disabled=locked_out(name, locked) or off, **kw)


def restore_once(prefix: str, restore_into_widgets: Callable[[Mapping[str, Any]], list[str]]) -> list[str]:
    """First visit in this session: `restore_into_widgets(the URL's query params)` writes the link's setup (or
    the default preset) into the widgets' values and returns its warnings. Every run returns those warnings."""
    ss = st.session_state
    if not ss.get(prefix + "ready"):
        warnings = restore_into_widgets(st.query_params.to_dict())
        ss[prefix + "ready"] = True
        ss[prefix + "link_warnings"] = warnings
    return ss.get(prefix + "link_warnings", [])
