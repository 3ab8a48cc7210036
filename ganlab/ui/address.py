"""This session's client address: who the student is on the network, beside the owner cookie they could clear.

The websocket handshake gives the TCP peer (`st.context.ip_address`) and the headers; ganlab/jobs/clients.py
decides the address from them (X-Forwarded-For only from a proxy named in GANLAB_TRUSTED_PROXIES). Read once
per session: a session's websocket does not change its peer.

Streamlit 1.67 says `ip_address is None` both for a browser on the server machine (peer 127.0.0.1 or ::1) and
when there is no browser at all (AppTest, bare mode); the headers tell the two apart: a real handshake always
has some (Host, at least). No browser gives no address, and then no per-address limit applies.
"""
from __future__ import annotations

import streamlit as st

from ganlab.jobs import clients

KEY = "_ganlab_client_address"
LOCALHOST = "127.0.0.1"


def request() -> tuple[str | None, list[str]]:
    """(peer, X-Forwarded-For header values) of this session's handshake; (None, []) without a browser."""
    try:
        headers = st.context.headers
        peer = st.context.ip_address
    except Exception:  # no script run context
        return None, []
    if not headers:
        return None, []
    return peer or LOCALHOST, headers.get_all("X-Forwarded-For")


def address() -> str | None:
    """The client address of this session (None: no browser)."""
    if KEY not in st.session_state:
        peer, forwarded = request()
        st.session_state[KEY] = clients.client_address(peer, forwarded, clients.trusted_proxies())
    return st.session_state[KEY]
