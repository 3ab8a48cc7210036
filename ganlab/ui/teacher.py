"""Teacher mode: the class-wide controls unlock with a passcode that the teacher sets before starting the server.

Where the passcode comes from, first found wins: the environment variable GANLAB_TEACHER_PASSCODE, then
`teacher_passcode` in `.streamlit/secrets.toml` (top level or under `[ganlab]`). No passcode set means no
teacher controls at all. The typed passcode is compared in constant time (hmac.compare_digest), kept only
as "this session is the teacher's" in st.session_state, and never logged or put in a URL.

Wrong tries are counted per client (address and owner id) and per address (ganlab/ui/address.py; an IPv6 client
by its /64 network). After MAX_TRIES wrong tries in a row a client waits LOCK_S seconds before the next try, then
twice as long after each further wrong one (at most 15 minutes); after ADDRESS_TRIES wrong tries in a row from
one address, by any owner ids (a private window or a forged cookie is a new owner), the whole address waits the
same way. The right passcode, or an hour without a wrong try, clears both (ganlab/jobs/clients.py `WrongTries`).
So one student guessing at a school NAT locks out only themselves, and the teacher behind the same NAT still
unlocks; only many wrong tries under many ids make the address wait, and then the teacher unlocks from the server
machine or another network. There is no server-wide limit: a client at another address is never refused because
another client guesses. Without a browser (tests, bare mode) there is no address and the owner id is the key.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import os

import streamlit as st

from ganlab.i18n import _
from ganlab.jobs.clients import WrongTries, guess_key
from ganlab.ui import address
from ganlab.ui.session import OWNER_KEY

ENV = "GANLAB_TEACHER_PASSCODE"
_UNLOCKED = "_ganlab_teacher"
MAX_TRIES = 5  # wrong tries in a row one client (address and owner id) makes before it waits
ADDRESS_TRIES = 20  # ... and one address, whatever the owner ids, before the whole address waits
LOCK_S = 30.0

_wrong = WrongTries(MAX_TRIES, LOCK_S)  # per client
_wrong_here = WrongTries(ADDRESS_TRIES, LOCK_S)  # per address


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
    where = guess_key(address.address())  # an IPv6 client by its /64
    owner = "owner:" + str(st.session_state.get(OWNER_KEY, ""))
    client = owner if where is None else f"{where} {owner}"
    right = matches(typed, passcode)
    wait = max(_wrong.wait_s(client), _wrong_here.wait_s(where) if where is not None else 0.0)
    if wait <= 0:  # counted by both (the client's count decides first; the address's only bounds many ids)
        wait = _wrong.attempt(client, right)
        if wait <= 0 and where is not None:
            _wrong_here.attempt(where, right)
    if wait > 0:  # refused before the passcode counts: a guess while waiting tells nothing
        return _("Too many wrong passcodes: wait {seconds:.0f} seconds.").format(seconds=math.ceil(wait))
    if right:
        st.session_state[_UNLOCKED] = True
        return None
    return _("That passcode is not right.")


def forget_tries() -> None:
    """Forget every wrong try (tests)."""
    _wrong.clear()
    _wrong_here.clear()


def lock() -> None:
    st.session_state.pop(_UNLOCKED, None)
