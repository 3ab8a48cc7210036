"""Giving freed memory back to the system when the server goes quiet.

A class's runs allocate and free a few hundred megabytes (networks, optimiser state, snapshots). glibc keeps
freed heap pages in its arenas, so without a trim a server's resident memory stays at its busiest level, and
grows by a few tens of megabytes per lesson as fragmentation moves the high-water mark. `trim()` asks glibc to
return what is free (malloc_trim); elsewhere it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def trim() -> bool:
    """Collect cycles, then return free heap memory to the system. True when glibc released some."""
    gc.collect()
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False
