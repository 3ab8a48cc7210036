"""The class as every app replica sees it: one named, detached Ray actor holds what replicas must share.

Students stay on one replica (the load balancer's sticky sessions), but the Class page on any replica lists
every run, and a nickname or the teacher's announcement set on one replica shows on all. The registry holds:
  - job ids, unique across replicas (a page keeps its job's id in its session);
  - each replica's jobs as plain records (owner, label, page, status, steps, the actor's name), published by
    the replica about twice a second; a replica silent for STALE_S is dropped with its records;
  - nicknames (and the anonymous "student N" numbers), and the announcement.
It never holds weights or snapshots: a replica reads another replica's snapshots from that job's actor.
`Registry` is plain Python (ray.remote wraps it in `registry()`); `RayClassroom` is the Classroom whose
nicknames and announcement live there.
"""
from __future__ import annotations

import itertools
import time
from typing import Any

from ganlab.jobs.classroom import Announcement, Classroom, anonymous, check_nickname, unique_nickname
from ganlab.jobs.ray_backend.connect import NAMESPACE, connect

NAME = "ganlab-registry"
HEAD = "node:__internal_head__"  # a resource only the head node has: the registry lives (and ends) with the head
STALE_S = 30.0
NICKS_TTL_S = 1.0  # a replica reads every nickname at most this often (the Class page asks once per row)


class Registry:
    def __init__(self):
        self._next_id = 1
        self._replicas: dict[str, tuple[float, list[dict]]] = {}  # replica -> (last seen, its job records)
        self._nicks: dict[str, str] = {}
        self._anon: dict[str, int] = {}
        self._anon_ids = itertools.count(1)
        self._announcement: tuple | None = None
        self._announce_ids = itertools.count(1)

    # ---- jobs ------------------------------------------------------------------------------------------------
    def new_job_id(self) -> int:
        job_id = self._next_id
        self._next_id += 1
        return job_id

    def publish(self, replica: str, records: list[dict]) -> None:
        self._replicas[replica] = (time.monotonic(), records)
        # a registry restarted from scratch must not hand out ids that live jobs already have
        self._next_id = max([self._next_id] + [r["id"] + 1 for r in records])

    def leave(self, replica: str) -> None:
        self._replicas.pop(replica, None)

    def jobs(self) -> list[dict]:
        now = time.monotonic()
        for replica in [k for k, (seen, _) in self._replicas.items() if now - seen > STALE_S]:
            del self._replicas[replica]
        return [dict(r, replica=k) for k, (_, records) in self._replicas.items() for r in records]

    # ---- nicknames and the announcement (cleaned by Classroom before they get here) ---------------------------
    def set_nickname(self, owner: str, nick: str) -> None:
        if nick:
            self._nicks[owner] = nick
        else:
            self._nicks.pop(owner, None)

    def nicknames(self) -> dict[str, str]:
        return dict(self._nicks)

    def anonymous_number(self, owner: str) -> int:
        if owner not in self._anon:
            self._anon[owner] = next(self._anon_ids)
        return self._anon[owner]

    def announce(self, text: str, link: str) -> tuple | None:
        self._announcement = (next(self._announce_ids), text, link, time.time()) if text else None
        return self._announcement

    def announcement(self) -> tuple | None:
        return self._announcement


def registry():
    """The cluster's registry actor (created by the first replica that asks; it outlives every replica and
    lives on the head node, so only the head's end ends it -- and with it the cluster)."""
    ray = connect()
    return (ray.remote(Registry)
            .options(name=NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0,
                     max_restarts=-1, resources={HEAD: 0.001})
            .remote())


class RayClassroom(Classroom):
    """The Classroom with its nicknames, anonymous numbers and announcement kept in the registry."""

    def __init__(self, handle: Any):
        super().__init__()
        self._registry = handle
        self._nick_cache: tuple[float, dict[str, str]] = (0.0, {})

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        return ray.get(getattr(self._registry, method).remote(*args))

    def _nicknames(self) -> dict[str, str]:
        at, nicks = self._nick_cache
        if time.monotonic() - at > NICKS_TTL_S:
            nicks = self._call("nicknames")
            self._nick_cache = (time.monotonic(), nicks)
        return nicks

    def set_nickname(self, owner: str, nick: str) -> str:
        clean = check_nickname(nick)  # the rules live in ganlab/jobs/classroom.py
        if clean:  # unique among every replica's students
            clean = unique_nickname(clean, {v for k, v in self._call("nicknames").items() if k != owner})
        self._call("set_nickname", owner, clean)
        self._nick_cache = (0.0, {})
        return self.nickname(owner)

    def nickname(self, owner: str) -> str:
        nick = self._nicknames().get(owner)
        if nick is not None:
            return nick
        with self._lock:
            number = self._anon_of.get(owner)
        if number is None:
            number = self._call("anonymous_number", owner)
            with self._lock:
                self._anon_of[owner] = number
        return anonymous(number)

    def has_nickname(self, owner: str) -> bool:
        return owner in self._nicknames()

    def announce(self, text: str, link: str = "") -> Announcement | None:
        local = super().announce(text, link)  # cleaned by the Classroom's rules
        return _announcement(self._call("announce", *((local.text, local.link) if local else ("", ""))))

    def announcement(self) -> Announcement | None:
        return _announcement(self._call("announcement"))


def _announcement(row: tuple | None) -> Announcement | None:
    return Announcement(*row) if row is not None else None
