"""Joining the Ray cluster: RAY_ADDRESS when set (an existing cluster: the deploy/ head, or `ray start --head`),
else a local Ray started by this process (GANLAB_RAY_CPUS CPUs, default all; no dashboard). Every ganlab
process uses one namespace, so named actors (the registry, the jobs) are found by every app replica.

Loopback: Ray gives a node the machine's network address even when told 127.0.0.1 (a cluster is meant to be
reached from other machines), and its GCS then listens on every interface. A Ray this process starts, or one
it joins on 127.0.0.1 / localhost, is kept on the loopback address with Ray's own switch for single-machine
clusters (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read when Ray is imported, here and in every Ray process this one
starts). A head started
with `ray start` needs the same switch in its environment (deploy/rehearse.py does that).

Token authentication (Ray's default for local clusters since 2.59): a Ray this process starts makes and uses
its own token; to join a cluster that uses one, set RAY_AUTH_MODE=token (the token comes from RAY_AUTH_TOKEN
or ~/.ray/auth_token, where `ray start` keeps it).
"""
from __future__ import annotations

import os
import threading

NAMESPACE = "ganlab"
LOOPBACK = ("127.0.0.1", "localhost")
SINGLE_MACHINE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray's nodes use the loopback address
_lock = threading.Lock()


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError("GANLAB_BACKEND=ray needs Ray: pip install -r requirements-ray.txt") from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None):
    """Initialise Ray once per process (a no-op when it is already up); returns the `ray` module."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None or address.rpartition(":")[0] in LOOPBACK:
        os.environ.setdefault(SINGLE_MACHINE, "0")  # before Ray is first imported: it reads this once
    os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")  # a call after ray.shutdown() fails, starts no Ray
    # Ray's crash handler also catches SIGTERM and turns it into an abort (exit status 134); the server's own
    # handler (Streamlit's) stops the runs and exits 0 as with the local backend
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    ray = _ray()
    with _lock:
        if ray.is_initialized():
            return ray
        if address:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
        else:
            cpus = num_cpus or int(os.environ.get("GANLAB_RAY_CPUS", "0")) or None
            _on_lasting_thread(lambda: ray.init(num_cpus=cpus, namespace=NAMESPACE, include_dashboard=False,
                                                log_to_driver=False))
    return ray


def _on_lasting_thread(start) -> None:
    """Run `start` (a local ray.init) on a thread that lasts as long as the process. Ray's own processes (GCS,
    raylet) are killed when the thread that started them ends (Linux PR_SET_PDEATHSIG), and Streamlit runs a
    page on a thread that ends with the rerun: the first page to ask would take the whole Ray down with it."""
    if threading.current_thread() is threading.main_thread():
        start()
        return
    started, failed = threading.Event(), []

    def hold() -> None:
        try:
            start()
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            failed.append(e)
        started.set()
        if not failed:
            threading.Event().wait()  # a daemon thread: it ends with the process, after Ray's exit hook

    threading.Thread(target=hold, name="ray-local-start", daemon=True).start()
    started.wait()
    if failed:
        raise failed[0]
