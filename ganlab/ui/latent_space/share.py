"""Latent space page: its share link (ganlab/latent_link.py's rules) read once per session, kept in the address
bar, and shown under the view.

A link names a bundled demo, never a student's run or upload: for those the link leaves `source` out (it then
opens the same view on the bundled demo) and the page says so.
"""
from __future__ import annotations

import streamlit as st

from ganlab import latent_link
from ganlab.i18n import _
from ganlab.ui import lang, links, state

READY, WARNINGS = "lat_link_ready", "lat_link_warnings"


def init() -> list[str]:
    """First visit in this session: the URL's demo, mode and view settings into the widgets' values; every run
    returns that link's warnings, for the page to show."""
    ss = st.session_state
    if not ss.get(READY):
        source, mode, values, warnings = latent_link.restore(st.query_params.to_dict())
        if source is not None:
            values.update(lat_kind="bundled", lat_bundled=latent_link.SOURCES[source][0])
        if mode is not None:
            values["lat_mode"] = mode
        state.put(values)
        ss[READY], ss[WARNINGS] = True, warnings
    return ss.get(WARNINGS, [])


def source_of(src) -> str | None:
    """The bundled demo `src` is, by its picker label (None: a run or an upload)."""
    ss = st.session_state
    if ss.get("lat_kind") != "bundled" or not src.key.startswith("bundled:"):
        return None
    return latent_link.source_name(ss.get("lat_bundled", ""))


def params(src, mode: str) -> dict[str, str]:
    return {**latent_link.share_params(source_of(src), mode, st.session_state), **lang.link_params()}


def sync_url(src, mode: str) -> None:
    """The address bar is always a link to this view."""
    q = params(src, mode)
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


def box(src, mode: str) -> None:
    with st.expander(_("Share this view")):
        if source_of(src) is None:
            st.caption(_("Your own runs and uploads stay yours: this link opens the same view on the bundled demo."))
        st.markdown(_("This link opens the Latent space page with the same generator, mode and settings (the "
                      "address bar shows it too):"))
        st.code(links.share_url(params(src, mode)), language=None)
