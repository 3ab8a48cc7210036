"""Teacher mode: the class-wide controls unlock with a passcode that the teacher sets before starting the server.

Where the passcode comes from, first found wins: the environment variable GANLAB_TEACHER_PASSCODE, then
`teacher_passcode` in `.streamlit/secrets.toml` (top level or under `[ganlab]`). No passcode set means no
teacher controls at all. The typed passcode is compared in constant time (hmac.compare_digest), kept only
as "this session is the teacher's" in st.session_state, and never logged or put in a URL. After
MAX_TRIES wrong tries a session waits LOCK_S seconds before the next one.
"""
from __future__ import annotations

import hmac
import os
import time

import streamlit as st

ENV = "GANLAB_TEACHER_PASSCODE"
_UNLOCKED = "_ganlab_teacher"
_TRIES = "_ganlab_teacher_tries"
MAX_TRIES = 5
LOCK_S = 30.0


def configured_passcode() -> str | None:
    value = os.environ.get(ENV)
    if not value:
        try:
            secrets = st.secrets
            value = secrets.get("teacher_passcode") or (secrets.get("ganlab") or {}).get("teacher_passcode")
        except Exception:  # no secrets.toml at all: Streamlit raises instead of returning an empty mapping
            value = None
    return str(value) if value else None


def enabled() -> bool:
    return configured_passcode() is not None


def matches(typed: str, passcode: str) -> bool:
    return hmac.compare_digest(typed.encode("utf-8"), passcode.encode("utf-8"))


def is_teacher() -> bool:
    return bool(st.session_state.get(_UNLOCKED)) and enabled()


def try_unlock(typed: str) -> str | None:
    """Check a typed passcode; returns an error message, or None when this session is now the teacher's."""
    passcode = configured_passcode()
    if passcode is None:
        return "Teacher controls are off on this server (no passcode is set)."
    tries, since = st.session_state.get(_TRIES, (0, 0.0))
    if tries >= MAX_TRIES and time.monotonic() - since < LOCK_S:
        return f"Too many wrong passcodes: wait {LOCK_S:.0f} seconds."
    if matches(typed, passcode):
        st.session_state[_UNLOCKED] = True
        st.session_state.pop(_TRIES, None)
        return None
    tries = 1 if tries >= MAX_TRIES else tries + 1
    st.session_state[_TRIES] = (tries, time.monotonic())
    return "That passcode is not right."


def lock() -> None:
    st.session_state.pop(_UNLOCKED, None)
