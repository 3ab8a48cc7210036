"""Widget values that survive a page switch.

Streamlit deletes a widget's value at the end of any run that did not draw that widget, so a student who
visits the Theory page and comes back would find the lab reset. Pages declare their widget defaults with
`defaults(...)` (never with `value=` on the widget); app.py calls `keep_widget_values()` on every run, which
re-assigns the declared keys and so keeps them alive while another page runs.
"""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

_REGISTRY = "_ganlab_persist"


def defaults(values: Mapping[str, Any]) -> None:
    """Set each key that has no value yet, and remember the keys so their values are kept across pages."""
    keep = st.session_state.setdefault(_REGISTRY, set())
    for k, v in values.items():
        keep.add(k)
        if k not in st.session_state:
            st.session_state[k] = v


def put(values: Mapping[str, Any]) -> None:
    """Overwrite widget values (presets, a restored share link); only before the widgets are drawn."""
    keep = st.session_state.setdefault(_REGISTRY, set())
    for k, v in values.items():
        keep.add(k)
        st.session_state[k] = v


def keep_widget_values() -> None:
    for k in list(st.session_state.get(_REGISTRY, ())):
        if k in st.session_state:
            st.session_state[k] = st.session_state[k]
