"""Who owns a run, and for how long: one owner id per browser (a student), kept in st.session_state.

Identity (docs/architecture.md, "Students and the Class page"): the owner id comes from the browser's
`ganlab_owner` cookie when it sent one (ganlab/ui/identity.py), else it is new and the cookie is written. A
reload or a second tab is a new Streamlit session of the same owner, so the student's runs stay theirs; another
browser or a private window is another student.

Lifetime (docs/architecture.md, "Reliability rules"): a session-scoped `st.cache_resource` entry is dropped
right after the browser's websocket closes, and its `on_release` tells the job manager that this session (tab)
ended; once none of the owner's tabs is left, the manager stops the owner's runs after GRACE_S seconds.
A reload or a reconnect after a network blip reruns the app, which calls `owner()` again: that rebuilds the
entry and `touch`es the owner, cancelling the pending release. The manager's idle reaper (`idle_timeout_s`) is
the backstop when no release ever arrives.
"""
from __future__ import annotations

import os
import sys
import threading
import traceback

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ganlab import i18n, jobs
from ganlab.i18n import N_, _, ngettext
from ganlab.jobs import clients
from ganlab.ui import address, identity

OWNER_KEY = "ganlab_owner"
GRACE_S = 30.0
THREADS_ENV = "GANLAB_TORCH_THREADS"
SWITCH_INTERVAL_S = 0.001

TOO_MANY_NEW = N_("Too many new students have come from your network address in the last few minutes. Please use "
                  "one browser and keep its cookies (no private windows, no clearing cookies): a reload keeps your "
                  "runs. Try again in a few minutes, or ask your teacher.")

_threads_lock = threading.Lock()
_threads_set: int | None = None


class _SessionLease:
    """Held by the session-scoped cache while the browser session (one tab) is connected."""

    def __init__(self, owner: str, session: str | None = None):
        self.owner, self.session = owner, session


def _release(lease: _SessionLease) -> None:
    # Runs on Streamlit's event-loop thread, not a script thread: no st.* here.
    jobs.manager().release_owner(lease.owner, grace_s=GRACE_S, session=lease.session)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _lease(owner: str, session: str | None) -> _SessionLease:
    return _SessionLease(owner, session)


def session_id() -> str | None:
    """This Streamlit session's id (one per tab and per reload); None outside a script run."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def owner() -> str:
    """This student's owner id (from the browser's cookie, else new and remembered in it); marks the owner and
    this tab alive in the job manager."""
    configure_torch()  # also when a page is opened by its own URL before app.py has run (once per process)
    if OWNER_KEY not in st.session_state:
        who = identity.from_cookie() or identity.new_id()
        if not clients.new_owners().admit(address.address(), who):
            st.error(_(TOO_MANY_NEW))
            st.stop()
        st.session_state[OWNER_KEY] = who
    who = st.session_state[OWNER_KEY]
    if identity.valid(who):
        identity.remember(who)  # once per session: the next reload or tab sends it back
    sid = session_id()
    _lease(who, sid)
    jobs.manager().touch(who, session=sid)
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
            # Training workers and every student's script runs share one interpreter lock. With the default
            # 5 ms switch interval a page's rerun waits behind the workers' Python for many turns; 1 ms hands
            # the lock round faster, so live views stay responsive while the class trains.
            sys.setswitchinterval(SWITCH_INTERVAL_S)
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
        try:
            jobs.manager().warm_up()  # the training process imports torch too
        except Exception:  # noqa: BLE001 - it starts with the first run instead
            traceback.print_exc()

    threading.Thread(target=work, name="ganlab-warm-up", daemon=True).start()


def device_label() -> str:
    """'CUDA: <GPU name>' or 'CPU, N thread(s) per run (M cores)', in the session's language."""
    return _device_label(i18n.language())


@st.cache_resource(show_spinner=False)
def _device_label(language: str) -> str:
    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    n = configure_torch()
    return ngettext("CPU, {n} thread per run ({cores} cores)", "CPU, {n} threads per run ({cores} cores)",
                    n).format(n=n, cores=os.cpu_count())
