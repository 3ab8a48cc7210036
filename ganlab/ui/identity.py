"""Who a student is: an owner id that survives a reload, a second tab and a short network drop.

Streamlit starts a new session on every reload, so `st.session_state` alone forgets the student. The owner id
also lives in a first-party cookie (`ganlab_owner`, 12 random bytes as hex, SameSite=Strict, 12 hours):
the browser sends it with the websocket handshake of every later session, where `st.context.cookies` reads
it. Another browser or a private window has no cookie, so it is another student. Share links carry the
setup only, never this id.

The cookie is written by a few lines of JavaScript run once per session (`st.html(...,
unsafe_allow_javascript=True)`); the value comes from `secrets.token_hex`, never from user input.
"""
from __future__ import annotations

import re
import secrets

import streamlit as st

COOKIE = "ganlab_owner"
MAX_AGE_S = 12 * 3600  # a school day; a new day is a new anonymous student
_VALID = re.compile(r"^[0-9a-f]{24}$")
_WRITTEN = "_ganlab_owner_cookie_written"


def new_id() -> str:
    return secrets.token_hex(12)


def valid(owner: object) -> bool:
    return isinstance(owner, str) and bool(_VALID.match(owner))


def from_cookie() -> str | None:
    """The owner id this browser sent with the session's first request, if it is one of ours."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser context (bare mode)
        return None  # (AppTest hands out a mock here: `valid` refuses anything but our hex string)
    return value if valid(value) else None


def remember(owner: str) -> None:
    """Write the cookie once per session (an invisible element), unless the browser already sent this id."""
    if st.session_state.get(_WRITTEN) == owner or from_cookie() == owner:
        st.session_state[_WRITTEN] = owner
        return
    st.session_state[_WRITTEN] = owner
    assert valid(owner)  # only our own hex ids reach the script below
    st.html(f"<script>document.cookie = '{COOKIE}={owner}; path=/; max-age={MAX_AGE_S}; SameSite=Strict';"
            "</script>", unsafe_allow_javascript=True)
