"""Widget values that survive a page switch.

Streamlit deletes a widget's value at the end of any run that did not draw that widget, so a student who
visits the Theory page and comes back would find the lab reset. Pages declare their widget defaults with
`defaults(...)` (never with `value=` on the widget); app.py calls `keep_widget_values()` on every run, which
re-assigns the declared keys and so keeps them alive while another page runs.

Re-assigning alone is not enough in Streamlit 1.67: a fragment run on the other page (the announcement banner
polls every few seconds) files a kept value under the widget's id, and then drops it as a stale widget's
(measured in Chromium: Theory's "D steps" 5 -> Latent space, idle a few seconds -> Theory showed 1). So each
full run also copies the values into a plain session-state dict, which no widget owns, and brings back from it
any value Streamlit dropped.
"""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

_REGISTRY = "_ganlab_persist"
_VALUES = "_ganlab_persist_values"  # key -> the value last seen: what a dropped widget value comes back as


def defaults(values: Mapping[str, Any]) -> None:
    """Set each key that has no value yet, and remember the keys so their values are kept across pages."""
    keep = st.session_state.setdefault(_REGISTRY, set())
    for k, v in values.items():
        keep.add(k)
        if k not in st.session_state:
            st.session_state[k] = v
            st.session_state.setdefault(_VALUES, {})[k] = v


def put(values: Mapping[str, Any]) -> None:
    """Overwrite widget values (presets, a restored share link); only before the widgets are drawn."""
    keep = st.session_state.setdefault(_REGISTRY, set())
    kept = st.session_state.setdefault(_VALUES, {})
    for k, v in values.items():
        keep.add(k)
        st.session_state[k] = kept[k] = v


def keep_widget_values() -> None:
    """At the top of every full run: each declared widget value re-assigned (so Streamlit keeps it while its
    widget is not drawn), or brought back when Streamlit dropped it anyway."""
    kept = st.session_state.setdefault(_VALUES, {})
    for k in list(st.session_state.get(_REGISTRY, ())):
        if k in st.session_state:
            kept[k] = st.session_state[k]
        if k in kept:
            st.session_state[k] = kept[k]
