"""Joining the Ray cluster: RAY_ADDRESS when set (an existing cluster, e.g. `ray start --head` or the deploy/
head), else a local Ray started by this process (GANLAB_RAY_CPUS CPUs, default all; no dashboard; the node
listens on the loopback address only). Every ganlab process uses one namespace, so named actors (the
registry, the jobs) are found by every app replica.
"""
from __future__ import annotations

import os
import threading

NAMESPACE = "ganlab"
LOCAL_IP = "127.0.0.1"
_lock = threading.Lock()


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError("GANLAB_BACKEND=ray needs Ray: pip install -r requirements-ray.txt") from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None):
    """Initialise Ray once per process (a no-op when it is already up); returns the `ray` module."""
    ray = _ray()
    with _lock:
        if ray.is_initialized():
            return ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        if address:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
        else:
            cpus = num_cpus or int(os.environ.get("GANLAB_RAY_CPUS", "0")) or None
            ray.init(num_cpus=cpus, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False,
                     _node_ip_address=LOCAL_IP)
    return ray
