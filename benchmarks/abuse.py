"""`benchmarks/classroom.py --abuse MODE`: one curious student against a class, on a real `streamlit run app.py`.

    python benchmarks/classroom.py --abuse link|heavy|heavy2|tabs [--classmates N] [--seconds S]
        [--heavy-link QUERY ...] [--hostile-link QUERY] [--env KEY=VALUE ...] [--one-address] [--json]

Modes (issue 20, "One curious student cannot break the class"):
  link    the hostile share link (the preset's full setup plus `g_widths=128`: one hidden layer of 128 where
          the stack key says 2 x 128) is started first in an empty server and waited on until it trains (or is
          refused); then N classmates (default 6) press Start on ring-collapse. The preset's full setup matters:
          a link with any config field is read from TrainConfig's defaults (ganlab/ui/mode_collapse/setup.py,
          `restore`), so the bare `?preset=ring-collapse&compare=0&g_widths=128` builds z_dim 2, batch 256 and
          the default rates, whose stack key differs from ring-collapse's (z_dim 64) and meets no classmate.
  heavy   one student with the heaviest run the page admits (`--heavy-link`; default: the widget maxima
          g/d width 2048, g/d depth 8, batch 4096, 20 D steps), then N classmates (default 10). While they
          train, the heavy students' tabs are frozen (Chromium's page lifecycle: their runs go on, their pages
          draw nothing), so the classmates' steps measure the server, not a browser sharing its two cores (a
          light "heavy" link showed the browsers alone cost the classmates more than half their steps). After
          the window the heavy student opens Latent space on that run (the time until the page shows the run's
          weights, or an error; the training process's pid before and after), then the teacher (Class page,
          passcode) stops the heavy run: the time from the click on "Stop this run" to the heavy student's page
          showing it stopped.
  heavy2  the same with two heavy students whose shapes cannot share a stack group (the second link's G and D
          are 16 narrower, unless a second `--heavy-link` is given).
  tabs    20 (`--tabs`) cookie-less sessions from one address each press Start and stay until every one has
          its answer (a run or an error; at most --admit-timeout), then `--seconds` more: how many runs were
          admitted. No classmates, no calm class.
For link/heavy/heavy2 the same number of classmates then train alone for the same time on a fresh server (the
abuse phase's server is ended first, so a step still running there cannot slow the calm class): the report
compares the classmates' steps with that calm class.

Students are the websocket clients of classroom.py (no cookie: each is a new owner). The heavy students and the
teacher are websocket clients too (benchmarks/abuse_ws.py: the heavy student carries an owner cookie, so the
Latent space page lists its run; the teacher submits the passcode form and picks the run in "Stop one run"), or
with `--probe browser` Playwright Chromium tabs (/usr/bin/chromium; benchmarks/abuse_browser.py), whose drawing
on the server's two cores the report then includes. Each student connects from its own loopback address
(abuser 127.0.0.2, classmates 127.0.1.x, the tabs all from 127.0.0.3) unless `--one-address`; the teacher and
the browsers connect from 127.0.0.1.
Classmates' steps are the G steps their counter showed `--seconds` after their Start; runs get a 1,000,000-step
budget (`--budget`) so nobody stops early. An error is any error alert or exception a student's page showed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

from benchmarks import classroom as cb
from benchmarks.abuse_browser import STATUS_WORDS

MODES = ("link", "heavy", "heavy2", "tabs")
DEFAULT_CLASSMATES = {"link": 6, "heavy": 10, "heavy2": 10, "tabs": 0}
HOSTILE_FIELDS = {"g_widths": "128"}  # a field no widget shows; the stack key reads g_width x g_depth
# the largest values the Mode collapse lab's widgets accept (ganlab/ui/mode_collapse/widgets.py)
HEAVY_FIELDS = {"g_width": "2048", "g_depth": "8", "d_width": "2048", "d_depth": "8", "batch_size": "4096",
                "d_steps": "20"}
PASSCODE_ENV = "GANLAB_TEACHER_PASSCODE"  # ganlab/ui/teacher.py
BENCH_PASSCODE = "abuse-bench-teacher"  # used when --env does not set one
ABUSER_ADDR, TABS_ADDR = "127.0.0.2", "127.0.0.3"
JOB_LINE = re.compile(r"^\*\*#(\d+)\*\* (.*)$")  # the sidebar's "Your runs" entry (ganlab/ui/sidebar.py)

Log = Callable[[str], None]


# ---- pure helpers ----------------------------------------------------------------------------------------
def query_of(link: str) -> str:
    """The query string of a link given as a URL, '/?q', '?q' or 'q'."""
    link = link.strip()
    if "://" in link or link.startswith("/"):
        return urlsplit(link).query
    return link.removeprefix("?")


def with_fields(query: str, fields: dict[str, str]) -> str:
    """`query` with `fields` set (replacing the same keys)."""
    q = dict(parse_qsl(query, keep_blank_values=True))
    q.update(fields)
    return urlencode(q)


def other_shape(query: str) -> str:
    """A heavy link whose networks cannot share a stack group with `query`'s: G and D 16 narrower (16 wider when
    that would go below 4). The stack key holds g_width and d_width (ganlab/engine/batched/key.py)."""
    q = dict(parse_qsl(query, keep_blank_values=True))
    out = {}
    for f in ("g_width", "d_width"):
        w = int(q.get(f, "128"))
        out[f] = str(w - 16 if w - 16 >= 4 else w + 16)
    return with_fields(query, out)


def heavy_queries(mode: str, links: Sequence[str], base: str) -> list[str]:
    """The heavy students' queries: the given links, else the widget maxima on `base` (the preset's setup);
    heavy2 makes a second shape from the first when only one is given."""
    qs = [query_of(x) for x in links] or [with_fields(base, HEAVY_FIELDS)]
    n = 2 if mode == "heavy2" else 1
    if len(qs) < n:
        qs.append(other_shape(qs[0]))
    return qs[:n]


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """['KEY=VALUE', ...] -> {KEY: VALUE}; ValueError on an item without '='."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--env takes KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def shown_env(env: dict[str, str]) -> dict[str, str]:
    """The server's extra environment for the report, secrets masked."""
    return {k: ("***" if "PASSCODE" in k or "SECRET" in k else v) for k, v in env.items()}


def class_steps(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Run A's steps over students (`Student.report()` dicts): min/median/max, students that never stepped, and
    the students whose page showed an error (with their distinct messages)."""
    steps = [r["runs"].get("A", {}).get("steps", 0) for r in reports]
    errored = [{"student": r["student"], "messages": sorted(set(e[:300] for e in r["errors"]))}
               for r in reports if r["errors"]]
    return {"n": len(reports), "min": min(steps, default=None),
            "median": statistics.median(steps) if steps else None, "max": max(steps, default=None),
            "never_stepped": sum(1 for s in steps if not s), "errored_students": len(errored), "errors": errored}


def ratio(abused: dict[str, Any], calm: dict[str, Any]) -> float | None:
    """Classmates' median steps over the calm class's (None when the calm class did not step)."""
    if not calm.get("median") or abused.get("median") is None:
        return None
    return round(abused["median"] / calm["median"], 3)


def tabs_summary(students: Sequence["AbuseStudent"]) -> dict[str, Any]:
    """How many of the cookie-less tabs got a run (a job in the sidebar or a step counter), how many were refused
    (an error and no run), and what they were told."""
    admitted = [s for s in students if s.admitted]
    refused = [s for s in students if not s.admitted and s.errors]
    return {"tabs": len(students), "admitted": len(admitted), "refused": len(refused),
            "training": sum(1 for s in students if s.last_step() > 0),
            "queued": sum(1 for s in students if s.queue_positions),
            "neither": len(students) - len(admitted) - len(refused),
            "messages": sorted({e[:300] for s in refused for e in s.errors})[:10],
            "unanswered": [{"tab": s.idx, "pressed_start": s.t_start is not None, "reruns_sent": dict(s.sent),
                            "status": s.status.get("A"), "buttons": sorted(s._buttons)}
                           for s in students if not s.admitted and not s.errors][:5]}


def summary_lines(r: dict[str, Any]) -> list[str]:
    """The human-readable report."""
    out = [f"abuse mode {r['mode']!r}: " + (f"{r['classmates']} classmates, {r['seconds']:g} s"
                                             if r["mode"] != "tabs" else f"{r['tabs']['tabs']} cookie-less tabs")]
    if r.get("note"):
        out.append(f"  NOTE: {r['note']}")
    for a in r.get("abusers", []):
        verdict = "admitted" if a["admitted"] else "REFUSED"
        out.append(f"  curious student ({a['query']}): {verdict}"
                   + (f": {a['message']}" if a.get("message") else "")
                   + f"; steps {a['steps']}, status {a.get('status')}")
    if r["mode"] == "tabs":
        t = r["tabs"]
        out.append(f"  runs admitted {t['admitted']} of {t['tabs']} (training {t['training']}, queued {t['queued']}),"
                   f" refused {t['refused']}, neither {t['neither']}")
        out += [f"    refused with: {m}" for m in t["messages"]]
        return out
    ab, calm = r["abused"], r["calm"]
    out.append(f"  classmates' steps min/median {ab['min']}/{ab['median']} vs calm class {calm['min']}/"
               f"{calm['median']}: ratio {r['ratio']}; never stepped {ab['never_stepped']} (calm "
               f"{calm['never_stepped']})")
    out.append(f"  classmate runs with errors: {ab['errored_students']} of {ab['n']} (calm class "
               f"{calm['errored_students']})")
    for msg in sorted({m for e in ab["errors"] for m in e["messages"]})[:5]:
        out.append(f"    {msg[:200]}")
    if "skipped" in r.get("latent", {}):
        out.append(f"  Latent space and the teacher's Stop: skipped ({r['latent']['skipped']})")
    elif "latent" in r:
        lt = r["latent"]
        out.append(f"  Latent space on the heavy run: answered after {lt.get('answer_s')} s "
                   f"({lt.get('answer')}); training process pids {lt.get('pids_before')} -> "
                   f"{lt.get('pids_after')} (end of phase {r['training_process_pids_end']}): "
                   f"{'RESTARTED' if r['training_process_restarted'] else 'no restart'}; the run then: "
                   f"{lt.get('run_after')}")
    if "teacher_stop" in r and "skipped" not in r["teacher_stop"]:
        ts = r["teacher_stop"]
        out.append(f"  teacher's Stop on the heavy run: shown stopped after {ts.get('stopped_s')} s "
                   f"({ts.get('note') or ts.get('message')}); the teacher was told after {ts.get('message_s')} s; "
                   f"status before {ts.get('before')}, after {ts.get('after')}")
    out.append(f"  server log tracebacks: abuse phase {r['server_log_tracebacks']}, calm phase "
               f"{r['calm_server_log_tracebacks']}")
    return out


# ---- a websocket student that also reads its sidebar -----------------------------------------------------
@dataclass
class AbuseStudent(cb.Student):
    """A classroom.py student that also records its sidebar's runs (job id -> status), so a run that has not
    stepped yet (a heavy one) still counts as admitted."""

    jobs: dict[int, str] = field(default_factory=dict)
    leave: asyncio.Event | None = None  # set: the student leaves now, whatever `seconds` said

    async def _until(self, event: asyncio.Event | None, receiver: asyncio.Task, timeout: float) -> bool:
        if event is None and self.leave is not None:  # the stay after Start: end it early when told to
            await cb.Student._until(self.leave, receiver, timeout)
            return False
        return await cb.Student._until(event, receiver, timeout)

    def _element(self, delta, now: float) -> None:
        super()._element(delta, now)
        el = delta.new_element
        if el.WhichOneof("type") == "markdown" and (m := JOB_LINE.match(el.markdown.body or "")):
            self.jobs[int(m.group(1))] = m.group(2)

    @property
    def admitted(self) -> bool:
        return bool(self.jobs or self.steps.get("A") or self.queue_positions)

    def last_step(self) -> int:
        seen = self.steps.get("A")
        return seen[-1][1] if seen else 0

    def job_status(self) -> str | None:
        if not self.jobs:
            return self.status.get("A")
        text = self.jobs[max(self.jobs)]
        return next((w for w in STATUS_WORDS if f" · {w}" in f" · {text}"), text[:80])


async def _wait(cond: Callable[[], bool], timeout: float, every: float = 0.2) -> float | None:
    """Seconds until cond() held, or None after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return round(time.monotonic() - t0, 2)
        await asyncio.sleep(every)
    return None


async def _stay(student: AbuseStudent, delay: float = 0.0) -> asyncio.Task:
    """Start a student who stays until `_leave` (its `seconds` only bound the stay)."""
    student.leave = asyncio.Event()
    return asyncio.create_task(student.run(delay))


async def _leave(student: AbuseStudent, task: asyncio.Task) -> None:
    """Tell a student from `_stay` to leave (pressing Reset first if it was made with reset_on_leave); its window
    becomes the time it stayed."""
    if student.t_start is not None:
        student.seconds = max(1.0, time.monotonic() - student.t_start)
    student.leave.set()
    try:
        await asyncio.wait_for(task, 30)
    except asyncio.TimeoutError:
        pass


async def _warm_training(server: cb.Server, o: "Options", log: Log) -> None:
    """One student trains until its first step, presses Reset and leaves: the training process is up and warm
    (as the curious student leaves it in the abuse phase), so the calm class does not pay its start."""
    s = AbuseStudent(-2, server.port, o.query, o.admit_timeout, o.load_timeout, reset_on_leave=True,
                     source=_source(o, ABUSER_ADDR))
    task = await _stay(s)
    waited = await _wait(lambda: s.last_step() > 0 or task.done(), o.admit_timeout)
    await _leave(s, task)
    log(f"  warm-up run: first step after {waited} s{'' if not s.errors else f'; errors {s.errors[:1]}'}")
    await asyncio.sleep(2)


def _source(o: "Options", addr: str) -> str | None:
    return None if o.one_address else addr


async def _class(o: "Options", server: cb.Server, log: Log, during: Callable[[], Any] | None = None
                 ) -> list[AbuseStudent]:
    """o.classmates students on o.query arrive over o.arrive_s and train o.seconds; `during()` (a coroutine
    factory) runs a third into their window."""
    n = o.classmates
    students = [AbuseStudent(i, server.port, o.query, o.seconds, o.load_timeout,
                             source=_source(o, f"127.0.1.{i + 1}")) for i in range(n)]
    log(f"  {n} classmate(s) arriving over {o.arrive_s:g} s, {o.seconds:g} s of training each")
    tasks = [asyncio.create_task(s.run(o.arrive_s * k / max(n, 1))) for k, s in enumerate(students)]
    if during is not None:
        await asyncio.sleep(o.arrive_s + o.seconds / 3)
        await during()
    await asyncio.gather(*tasks)
    steps = [s.last_step() for s in students]
    log(f"  classmates done: median step {statistics.median(steps) if steps else 0:.0f}, "
        f"{sum(1 for s in students if s.errors)} with errors")
    return students


async def _warm(server: cb.Server, o: "Options", log: Log) -> None:
    log(f"  server pid {server.pid} on port {server.port}, healthy after {server.start_s:.1f} s")
    await cb._warm_up(server, o.query, log)


async def _calm(o: "Options", log: Log) -> tuple[dict[str, Any], int]:
    """The same classmates alone on a fresh server: (class_steps, server log tracebacks)."""
    log("calm class: the same classmates alone, on a fresh server")
    with cb.Server(None, o.torch_threads, None, True, o.env) as server:
        await _warm(server, o, log)
        await _warm_training(server, o, log)
        students = await _class(o, server, log)
        return class_steps([s.report() for s in students]), server.log_text().count("Traceback (most recent")


# ---- the modes -------------------------------------------------------------------------------------------
@dataclass
class Options:
    mode: str
    classmates: int
    seconds: float
    query: str  # the classmates'
    abuser_queries: list[str]
    arrive_s: float = 5.0
    env: dict[str, str] = field(default_factory=dict)
    torch_threads: str | None = "1"
    load_timeout: float = 60.0
    admit_timeout: float = 60.0  # how long to wait for the curious student's run to train (or be refused)
    probe_timeout: float = 60.0  # Latent space answer, the teacher's Stop showing
    one_address: bool = False
    tabs: int = 20
    heavy_default: bool = True  # the heavy link is the widget maxima (no --heavy-link given)
    probe: str = "ws"  # the heavy students and the teacher: websocket clients ("ws") or Chromium tabs ("browser")


async def link_mode(o: Options, log: Log) -> dict[str, Any]:
    """The hostile link(s) first, each a websocket student of its own address (no browser on the server's cores:
    `--hostile-link` twice gives two heavy students measured server-side), then the classmates; then the calm
    class."""
    out = await link_phase(o, log)
    out["calm"], out["calm_server_log_tracebacks"] = await _calm(o, log)
    return out


async def link_phase(o: Options, log: Log) -> dict[str, Any]:
    """link_mode's abuse phase alone: abusers, abused (class_steps) and server_log_tracebacks."""
    out: dict[str, Any] = {}
    log(f"abuse phase: the hostile link(s) {o.abuser_queries!r} first, in an empty server")
    with cb.Server(None, o.torch_threads, None, True, o.env) as server:
        await _warm(server, o, log)
        abusers, tasks, waits = [], [], []
        for k, q in enumerate(o.abuser_queries):
            abuser = AbuseStudent(-1 - k, server.port, q, 10**6, o.load_timeout,
                                  source=_source(o, f"127.0.0.{2 + 10 * k}"))
            task = await _stay(abuser)
            waited = await _wait(lambda: abuser.last_step() > 0 or (abuser.errors and not abuser.admitted)
                                 or task.done(), o.admit_timeout)
            log(f"  curious student: {'training' if abuser.last_step() > 0 else abuser.job_status()} after "
                f"{waited} s; errors {abuser.errors[:1]}")
            abusers.append(abuser), tasks.append(task), waits.append(waited)
        students = await _class(o, server, log)
        for abuser, task in zip(abusers, tasks):
            await _leave(abuser, task)
        out["abusers"] = [_abuser_report(a, q, w) for a, q, w in zip(abusers, o.abuser_queries, waits)]
        out["abused"] = class_steps([s.report() for s in students])
        out["server_log_tracebacks"] = server.log_text().count("Traceback (most recent")
    return out


def _abuser_report(s: AbuseStudent, query: str, waited: float | None) -> dict[str, Any]:
    return {"query": query, "admitted": s.admitted, "training": s.last_step() > 0,
            "message": next((e for e in s.errors), None), "steps": s.last_step(), "status": s.job_status(),
            "jobs": sorted(s.jobs), "wait_s": waited, "errors": sorted(set(e[:300] for e in s.errors))}


async def tabs_mode(o: Options, log: Log) -> dict[str, Any]:
    """All tabs press Start and stay until every one has its answer (a run, or an error) or o.admit_timeout
    passes, then o.seconds more, so the runs they got are held at the same time; then they leave."""
    log(f"tabs: {o.tabs} cookie-less sessions from one address each press Start")
    with cb.Server(None, o.torch_threads, None, True, o.env) as server:
        await _warm(server, o, log)
        tabs = [AbuseStudent(i, server.port, o.query, 10**6, o.load_timeout, source=_source(o, TABS_ADDR))
                for i in range(o.tabs)]
        tasks = [await _stay(s, o.arrive_s * k / max(o.tabs, 1)) for k, s in enumerate(tabs)]
        answered = await _wait(lambda: all(s.admitted or s.errors or t.done() for s, t in zip(tabs, tasks)),
                               o.arrive_s + o.admit_timeout)
        got = f"every tab had its answer after {answered} s" if answered is not None else "some tabs had no answer"
        log(f"  {got}; holding the runs {o.seconds:g} s")
        await asyncio.sleep(o.seconds)
        await asyncio.gather(*(_leave(s, t) for s, t in zip(tabs, tasks)))
        return {"tabs": {**tabs_summary(tabs), "answered_s": answered},
                "server_log_tracebacks": server.log_text().count("Traceback (most")}


async def heavy_mode(o: Options, log: Log) -> dict[str, Any]:
    from benchmarks import abuse_browser as ab
    from benchmarks import abuse_ws

    out: dict[str, Any] = {"probe": o.probe}
    passcode = o.env.get(PASSCODE_ENV) or BENCH_PASSCODE
    env = {PASSCODE_ENV: passcode, **o.env}
    where = "in Chromium" if o.probe == "browser" else "as websocket clients"
    log(f"abuse phase: {len(o.abuser_queries)} heavy student(s) {where}, then {o.classmates} classmates")
    with cb.Server(None, o.torch_threads, None, True, env) as server:
        browsers = ab.Browsers() if o.probe == "browser" else abuse_ws.WsPeople(server.port)
        await _warm(server, o, log)
        try:
            await browsers.start()
            await _heavy_phase(o, server, browsers, passcode, out, log)
        finally:
            await browsers.close()
        out["server_log_tracebacks"] = server.log_text().count("Traceback (most recent")
    out["calm"], out["calm_server_log_tracebacks"] = await _calm(o, log)
    return out


async def _heavy_phase(o: Options, server: cb.Server, browsers: Any, passcode: str, out: dict[str, Any],
                       log: Log) -> None:
    """Heavy students start and their tabs freeze, classmates train, then Latent space is opened on the first
    heavy run and the teacher stops it; fills `out`."""
    heavies = []
    for q in o.abuser_queries:
        h = await browsers.heavy_student(server.url, q, o.load_timeout, o.admit_timeout)
        log(f"  heavy student: {'admitted' if h.admitted else 'REFUSED'} after {h.admit_s} s "
            f"({h.message or h.job_line})")
        heavies.append(h)
    out["abusers"] = [h.report() for h in heavies]
    first = heavies[0]
    if not first.admitted and o.heavy_default:
        out["note"] = ("the default heaviest link (the widget maxima) was refused: pass the heaviest link the "
                       "page admits with --heavy-link")
        log("  " + out["note"])
    latent: dict[str, Any] = {"skipped": "the heavy run was not admitted"}

    async def probe() -> None:
        nonlocal latent
        if first.admitted:
            latent = await browsers.latent_probe(first, server.url, o.probe_timeout,
                                                 lambda: cb.child_pids(server.pid))
            log(f"  Latent space: answered after {latent.get('answer_s')} s ({latent.get('answer')}); "
                f"training process pids {latent['pids_before']} -> {latent['pids_after']}")

    for h in heavies:
        await browsers.freeze(h, True)
    students = await _class(o, server, log)
    out["abused"] = class_steps([s.report() for s in students])
    for h in heavies:
        await browsers.freeze(h, False)
    await probe()
    out["latent"] = latent
    out["training_process_pids_end"] = cb.child_pids(server.pid)
    before = latent.get("pids_before")
    out["training_process_restarted"] = bool(before) and (
        set(before) != set(latent.get("pids_after") or []) or set(before) != set(out["training_process_pids_end"]))
    for h in heavies:
        await browsers.refresh_status(h)
    out["teacher_stop"] = (await browsers.teacher_stop(server.url, passcode, first, o.probe_timeout)
                           if first.admitted else {"skipped": "the heavy run was not admitted"})
    log(f"  teacher's Stop: {out['teacher_stop']}")
    out["abusers"] = [h.report() for h in heavies]


async def run(o: Options, log: Log = cb._stderr) -> dict[str, Any]:
    """One abuse mode, start to end: the whole report as a dict."""
    t0 = time.monotonic()
    head = {"mode": o.mode, "classmates": o.classmates, "seconds": o.seconds, "query": o.query,
            "abuser_queries": o.abuser_queries, "env": shown_env(o.env), "cpus": len(os.sched_getaffinity(0)),
            "load_average_1min": round(os.getloadavg()[0], 2)}
    if o.mode == "tabs":
        body = await tabs_mode(o, log)
    elif o.mode == "link":
        body = await link_mode(o, log)
    else:
        body = await heavy_mode(o, log)
    out = {**head, **body, "wall_s": round(time.monotonic() - t0, 1)}
    if o.mode != "tabs":
        out["ratio"] = ratio(out["abused"], out["calm"])
    return out


# ---- command line (from classroom.py's main) -------------------------------------------------------------
def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("abuse modes (issue 20)")
    g.add_argument("--abuse", choices=MODES, default=None,
                   help="one curious student against a class, then a calm class (see benchmarks/abuse.py)")
    g.add_argument("--classmates", type=int, default=None,
                   help="classmates beside the curious student (default: link 6, heavy/heavy2 10)")
    g.add_argument("--heavy-link", action="append", default=[],
                   help="the heaviest run the page admits, as a link or query (twice for heavy2's two shapes); "
                        "default: the widget maxima (width 2048, depth 8, batch 4096, 20 D steps)")
    g.add_argument("--hostile-link", action="append", default=[],
                   help="the link mode's share link; repeat it for several curious students (default: the "
                        "preset's setup plus g_widths=128)")
    g.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment for the server (repeatable), e.g. a per-address run cap")
    g.add_argument("--tabs", type=int, default=20, help="tabs mode: cookie-less sessions from one address")
    g.add_argument("--one-address", action="store_true", help="every websocket student from 127.0.0.1")
    g.add_argument("--admit-timeout", type=float, default=60.0,
                   help="wait at most this long for the curious student's run to train or be refused")
    g.add_argument("--probe", choices=("ws", "browser"), default="ws",
                   help="heavy modes: the heavy students and the teacher as websocket clients (default: nothing "
                        "drawn on the server's cores) or as Chromium tabs (benchmarks/abuse_browser.py)")
    g.add_argument("--probe-timeout", type=float, default=60.0,
                   help="wait at most this long for Latent space to answer and for the teacher's Stop to show")


def options(a: argparse.Namespace, ap: argparse.ArgumentParser) -> Options:
    """Options from classroom.py's parsed arguments (its --seconds, --arrive-s, --budget, --url-query,
    --torch-threads, --load-timeout apply)."""
    try:
        env = parse_env(a.env)
    except ValueError as e:
        ap.error(str(e))
    n = DEFAULT_CLASSMATES[a.abuse] if a.classmates is None else a.classmates
    if n < (0 if a.abuse == "tabs" else 1) or a.tabs < 1:
        ap.error("--classmates must be at least 1 (tabs mode: 0) and --tabs at least 1")
    if a.heavy_link and a.abuse not in ("heavy", "heavy2"):
        ap.error("--heavy-link is for --abuse heavy or heavy2")
    query = cb.budget_query(a.url_query or cb.DEFAULT_QUERY, a.budget or 1_000_000)
    if a.abuse == "link":
        abusers = [query_of(x) for x in a.hostile_link] or [with_fields(query, HOSTILE_FIELDS)]
    elif a.abuse in ("heavy", "heavy2"):
        abusers = heavy_queries(a.abuse, a.heavy_link, query)
    else:
        abusers = []
    return Options(a.abuse, n, a.seconds, query, abusers, a.arrive_s, env, a.torch_threads or None,
                   a.load_timeout, a.admit_timeout, a.probe_timeout, a.one_address, a.tabs,
                   heavy_default=not a.heavy_link, probe=a.probe)
