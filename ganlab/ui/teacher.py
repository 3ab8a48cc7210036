"""Teacher mode: the class-wide controls unlock with a passcode that the teacher sets before starting the server.

Where the passcode comes from, first found wins: the environment variable GANLAB_TEACHER_PASSCODE, then
`teacher_passcode` in `.streamlit/secrets.toml` (top level or under `[ganlab]`). No passcode set means no
teacher controls at all. The typed passcode is compared in constant time (hmac.compare_digest), kept only
as "this session is the teacher's" in st.session_state, and never logged or put in a URL. After
MAX_TRIES wrong tries a student waits LOCK_S seconds before the next one; the count is kept per owner id, not
per session, so a reload does not reset it. Beyond that, the whole server takes at most SERVER_TRIES wrong tries
per LOCK_S seconds (a student with fresh private windows still cannot guess quickly).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time

import streamlit as st

from ganlab.i18n import _
from ganlab.ui.session import OWNER_KEY

ENV = "GANLAB_TEACHER_PASSCODE"
_UNLOCKED = "_ganlab_teacher"
MAX_TRIES = 5
LOCK_S = 30.0
SERVER_TRIES = 30

_lock = threading.Lock()
_tries: dict[str, tuple[int, float]] = {}  # owner -> (wrong tries in a row, time of the last one)
_server_wrong: list[float] = []  # times of the server's recent wrong tries


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
    """Constant time, also in the passcode's length (both sides are hashed to 32 bytes first)."""
    def digest(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()

    return hmac.compare_digest(digest(typed), digest(passcode))


def is_teacher() -> bool:
    return bool(st.session_state.get(_UNLOCKED)) and enabled()


def try_unlock(typed: str) -> str | None:
    """Check a typed passcode; returns an error message, or None when this session is now the teacher's."""
    passcode = configured_passcode()
    if passcode is None:
        return _("Teacher controls are off on this server (no passcode is set).")
    who = str(st.session_state.get(OWNER_KEY, ""))
    now = time.monotonic()
    with _lock:
        _server_wrong[:] = [t for t in _server_wrong if now - t < LOCK_S]
        for o in [o for o, (_, t) in _tries.items() if now - t >= LOCK_S and o != who]:
            del _tries[o]  # forgotten after a quiet LOCK_S
        tries, since = _tries.get(who, (0, 0.0))
        if (tries >= MAX_TRIES and now - since < LOCK_S) or len(_server_wrong) >= SERVER_TRIES:
            return _("Too many wrong passcodes: wait {seconds:.0f} seconds.").format(seconds=LOCK_S)
        if matches(typed, passcode):
            _tries.pop(who, None)
            st.session_state[_UNLOCKED] = True
            return None
        _tries[who] = (1 if tries >= MAX_TRIES else tries + 1, now)
        _server_wrong.append(now)
    return _("That passcode is not right.")


def lock() -> None:
    st.session_state.pop(_UNLOCKED, None)
