"""Who owns a run, and for how long: one owner id per browser session, kept in st.session_state.

Lifetime (docs/architecture.md, "Reliability rules"): a session-scoped `st.cache_resource` entry is dropped
right after the browser's websocket closes, and its `on_release` asks the job manager to stop the owner's runs
after GRACE_S seconds.
A reconnect after a network blip reruns the app in the same session, which calls `owner()` again: that
rebuilds the entry and `touch`es the owner, cancelling the pending release. The manager's idle reaper
(`idle_timeout_s`) is the backstop when no release ever arrives.
"""
from __future__ import annotations

import os
import threading
import uuid

import streamlit as st

from ganlab import jobs

OWNER_KEY = "ganlab_owner"
GRACE_S = 30.0
THREADS_ENV = "GANLAB_TORCH_THREADS"

_threads_lock = threading.Lock()
_threads_set: int | None = None


class _SessionLease:
    """Held by the session-scoped cache while the browser session is connected."""

    def __init__(self, owner: str):
        self.owner = owner


def _release(lease: _SessionLease) -> None:
    # Runs on Streamlit's event-loop thread, not a script thread: no st.* here.
    jobs.manager().release_owner(lease.owner, grace_s=GRACE_S)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _lease(owner: str) -> _SessionLease:
    return _SessionLease(owner)


def owner() -> str:
    """This browser session's owner id (created on first use); marks the owner alive in the job manager."""
    configure_torch()  # also when a page is opened by its own URL before app.py has run (once per process)
    if OWNER_KEY not in st.session_state:
        st.session_state[OWNER_KEY] = uuid.uuid4().hex[:12]
    who = st.session_state[OWNER_KEY]
    _lease(who)
    jobs.manager().touch(who)
    return who


def touch() -> str:
    """Cheap keep-alive for fragment ticks (the lease already exists)."""
    who = st.session_state.get(OWNER_KEY) or owner()
    jobs.manager().touch(who)
    return who


def wanted_threads(env_value: str | None, cuda: bool) -> int | None:
    """Torch intra-op threads for the server: GANLAB_TORCH_THREADS if it is a positive whole number, else
    1 on CPU and None (torch's default) when a GPU does the work."""
    try:
        n = int((env_value or "").strip())
        if n >= 1:
            return n
    except ValueError:
        pass
    return None if cuda else 1


def configure_torch() -> int:
    """One intra-op thread per run in the server process on CPU, set once per process.

    Several concurrent runs each get a core instead of fighting over a shared pool: tiny models slow down
    several-fold when two threads wait on each other and another process takes a core. Returns the thread
    count in use.
    """
    global _threads_set
    import torch

    with _threads_lock:
        if _threads_set is None:
            n = wanted_threads(os.environ.get(THREADS_ENV), torch.cuda.is_available())
            if n is not None:
                torch.set_num_threads(n)
            _threads_set = torch.get_num_threads()
        return _threads_set


_warm = threading.Event()


def warm_up_engine() -> None:
    """Once per server process, in the background: pay torch's lazy imports before the first Start.

    Building the first fused Adam imports hundreds of modules (torch._dynamo, sympy: seconds of CPU); done
    here, a student's first run starts training at once instead of after a silent pause.
    """
    if _warm.is_set():
        return
    _warm.set()

    def work() -> None:
        import torch

        import ganlab.engine.runner  # noqa: F401  (the training stack)

        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)

    threading.Thread(target=work, name="ganlab-warm-up", daemon=True).start()


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    """'CUDA: <GPU name>' or 'CPU, N thread(s) per run (M cores)'."""
    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    n = configure_torch()
    return f"CPU, {n} thread{'s' if n != 1 else ''} per run ({os.cpu_count()} cores)"
