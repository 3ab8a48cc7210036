"""Who a client is on the network, and the limits counted per client address (no Streamlit here).

An owner id (the `ganlab_owner` cookie) is chosen by the browser: clearing the cookie, a private window or a
forged id is a new owner. Limits that a student could dodge that way also count per client address:
- `client_address`: the TCP peer of the session's websocket, or, when that peer is a proxy the deployment names
  as trusted (GANLAB_TRUSTED_PROXIES: addresses or networks, comma separated), the right-most address of the
  X-Forwarded-For chain that is not itself a trusted proxy. Every entry left of that one was written by a
  machine we do not trust, so it proves nothing.
- `WrongTries`: wrong passcode tries per address, with a doubling wait; one address's guesses never delay
  another address.
- `NewOwners`: new owner ids per address per window; a student who keeps clearing cookies is refused, a class
  of 30 behind one school NAT opening the page is not.
Both count an IPv6 client by its /64 network (`guess_key`): one machine can use any address in its /64.
The per-address run cap is the job manager's (`JobManager.max_jobs_per_address`, ganlab/jobs/job_manager.py).

Streamlit 1.67 serves through uvicorn, which already replaces the peer by the X-Forwarded-For client when the
peer is 127.0.0.1 or ::1 (uvicorn's FORWARDED_ALLOW_IPS): a reverse proxy on the server machine itself needs
no setting here.
"""
from __future__ import annotations

import ipaddress
import os
import sys
import threading
import time
from collections import OrderedDict, deque
from typing import Iterable

TRUSTED_ENV = "GANLAB_TRUSTED_PROXIES"
NEW_OWNERS_ENV = "GANLAB_NEW_OWNERS_PER_10_MIN"
SERVER_ITSELF = frozenset({"127.0.0.1", "::1"})  # Streamlit's "localhost": the teacher's own browser, a benchmark

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str | None) -> IP | None:
    """An address as a proxy or a socket writes it ("1.2.3.4", "1.2.3.4:5678", "[::1]:80", "::ffff:1.2.3.4");
    None when it is not one."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped if mapped is not None else ip


def parse_networks(text: str | None) -> tuple[Net, ...]:
    """GANLAB_TRUSTED_PROXIES' value: "10.0.0.5, 172.28.0.0/16, ::1". An entry that is no address or network is
    left out with a warning on stderr (a typo must not take every page down)."""
    nets = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            print(f"ganlab: {TRUSTED_ENV}: {item!r} is not an address or network; ignored", file=sys.stderr)
    return tuple(nets)


_trusted_cache: tuple[str, tuple[Net, ...]] = ("", ())


def trusted_proxies() -> tuple[Net, ...]:
    """The deployment's trusted proxies (GANLAB_TRUSTED_PROXIES), parsed once per value."""
    global _trusted_cache
    value = os.environ.get(TRUSTED_ENV, "")
    if _trusted_cache[0] != value:
        _trusted_cache = (value, parse_networks(value))
    return _trusted_cache[1]


def _trusted(ip: IP, nets: Iterable[Net]) -> bool:
    return any(ip.version == n.version and ip in n for n in nets)


def client_address(peer: str | None, forwarded_for: Iterable[str] = (), trusted: Iterable[Net] = ()) -> str | None:
    """The client's address: `peer` (the websocket's TCP peer), unless it is a trusted proxy; then walk
    `forwarded_for` (every X-Forwarded-For header value, in order) from the right, skipping trusted proxies,
    and take the first address that is not one. None when the peer is unknown (no browser: a test, bare mode)."""
    ip = parse_ip(peer)
    if ip is None:
        return None
    nets = tuple(trusted)
    if not _trusted(ip, nets):
        return str(ip)
    hops = [h for value in forwarded_for for h in str(value).split(",") if h.strip()]
    for hop in reversed(hops):
        hop_ip = parse_ip(hop)
        if hop_ip is None:
            break  # a trusted proxy passed on garbage: stop at the last address we can vouch for
        ip = hop_ip
        if not _trusted(ip, nets):
            break
    return str(ip)


def guess_key(address: str | None) -> str | None:
    """What passcode tries and new owners are counted by: the address, or for IPv6 its /64 network (one home or
    one LAN gets a whole /64 and can pick any address in it, so counting single IPv6 addresses bounds nothing)."""
    ip = parse_ip(address)
    if ip is None:
        return address
    if ip.version == 6 and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _prune(table: OrderedDict, keep: int, stale) -> None:
    """Drop the oldest entries (insertion order = last use) while there are more than `keep` or they are stale."""
    while table and (len(table) > keep or stale(next(iter(table.values())))):
        table.popitem(last=False)


class WrongTries:
    """Wrong passcode tries per key (a client address). `max_tries` wrong tries in a row are free; after that
    each further try waits `lock_s`, then twice that, ... up to `max_wait_s`. A right passcode, or `forget_s`
    without a wrong try, clears the key. Other keys are never affected, so a guesser cannot lock the teacher out
    from another address; the guesser gets about max_tries + log2(max_wait_s / lock_s) + forget_s / max_wait_s
    tries an hour."""

    def __init__(self, max_tries: int = 5, lock_s: float = 30.0, max_wait_s: float = 900.0,
                 forget_s: float = 3600.0, max_keys: int = 100_000):
        self.max_tries, self.lock_s, self.max_wait_s = max_tries, lock_s, max_wait_s
        self.forget_s, self.max_keys = forget_s, max_keys
        self._lock = threading.Lock()
        self._tries: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (wrong in a row, last one)

    def _wait_of(self, n: int) -> float:
        return 0.0 if n < self.max_tries else min(self.max_wait_s, self.lock_s * 2 ** (n - self.max_tries))

    def wait_s(self, key: str, now: float | None = None) -> float:
        """Seconds until `key` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._wait_locked(key, now)

    def _wait_locked(self, key: str, now: float) -> float:
        _prune(self._tries, self.max_keys, lambda v: now - v[1] >= self.forget_s)
        n, last = self._tries.get(key, (0, now))
        return max(0.0, last + self._wait_of(n) - now)

    def attempt(self, key: str, right: bool, now: float | None = None) -> float:
        """One try from `key`, checked and counted at once (two tabs cannot slip in extra tries): returns the
        seconds `key` must still wait, and then the try is refused and not counted; or 0.0 when it counted (a
        right one clears the key, a wrong one adds to it)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = self._wait_locked(key, now)
            if wait > 0:
                return wait
            n, _last = self._tries.pop(key, (0, now))
            if not right:
                self._tries[key] = (n + 1, now)  # at the end: the order is by last wrong try
            return 0.0

    def clear(self) -> None:
        with self._lock:
            self._tries.clear()


def new_owners_limit() -> int:
    """GANLAB_NEW_OWNERS_PER_10_MIN: new owner ids one address may bring per 10 minutes (default 60; 0: no
    limit)."""
    try:
        return max(0, int(os.environ.get(NEW_OWNERS_ENV, "60").strip() or 60))
    except ValueError:
        return 60


class NewOwners:
    """New owner ids per client address. An owner id is new the first time the server sees it (a fresh cookie,
    or a cookie value it never handed out); it is then known for `remember_s` (the cookie's lifetime), so its
    reloads and tabs cost nothing. Each address may bring `limit` new ids per `window_s` (a sliding window);
    None: GANLAB_NEW_OWNERS_PER_10_MIN. The server machine itself (127.0.0.1, ::1) and unknown addresses are
    not limited."""

    def __init__(self, limit: int | None = None, window_s: float = 600.0, remember_s: float = 12 * 3600.0,
                 max_known: int = 200_000):
        self.limit = new_owners_limit() if limit is None else limit
        self.window_s, self.remember_s, self.max_known = window_s, remember_s, max_known
        self._lock = threading.Lock()
        self._known: OrderedDict[str, float] = OrderedDict()  # owner -> last seen
        self._recent: dict[str, deque[float]] = {}  # address -> times of its new owners within the window

    def admit(self, address: str | None, owner: str, now: float | None = None) -> bool:
        """May `owner`, from `address`, use the server? True also records it (known from now on)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            _prune(self._known, self.max_known, lambda t: now - t >= self.remember_s)
            if owner in self._known or address is None or address in SERVER_ITSELF or self.limit <= 0:
                self._known.pop(owner, None)
                self._known[owner] = now
                return True
            for a in [a for a, q in self._recent.items() if not q or now - q[-1] >= self.window_s]:
                del self._recent[a]  # addresses quiet for a whole window
            times = self._recent.setdefault(guess_key(address) or address, deque())
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            self._known[owner] = now
            return True

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._recent.clear()


_new_owners: NewOwners | None = None
_new_owners_lock = threading.Lock()


def new_owners() -> NewOwners:
    """The process-wide NewOwners (the limit read from the environment when first used)."""
    global _new_owners
    with _new_owners_lock:
        if _new_owners is None:
            _new_owners = NewOwners()
        return _new_owners


def reset() -> None:
    """Forget every client (tests)."""
    global _new_owners
    with _new_owners_lock:
        _new_owners = None
