"""Restart rehearsal (issue 21): a class's runs outlive a `kill -9` of the server and of its training process.

    python benchmarks/restart.py [--students 10] [--seconds 30] [--resume-s 15] [--kills 20] [--port 8611] [--json]
    python benchmarks/restart.py --away 300 [--students 10] [--seconds 30]   # a closed lid instead of a kill

1. `--students` simulated students (benchmarks/classroom.py's websocket client, each with its own owner cookie)
   open the Mode collapse lab on a real `streamlit run app.py` and press Start (one ring run each, a budget they
   never reach); `--seconds` later the server's process group (the server and its training process) gets
   SIGKILL.
2. The run store (a fresh GANLAB_DATA_DIR) is read: every student's run must be there, with the training time
   lost = kill time - the time of its newest checkpoint (at most ~GANLAB_CHECKPOINT_S, 10 s), and the steps lost
   = the last step the student saw - the saved step (a lower bound: the page's counter lags a little).
3. A new server starts on the same store (on `--port2`); every student comes back with their cookie, finds the
   run under "Saved runs" (paused, at the saved step), presses Resume and watches it for `--resume-s`: the first
   step the live view shows must be at least the saved step, and it must move on.
   With `--away S` instead (a closed lid, no kill): the students close every tab, stay away S seconds and come
   back to the same server; each run must be listed paused and resume where it paused.
4. `--kills` times: a process that saves three runs (a class-engine member, an A/B pair, a single run) into one
   store as often as it can (GANLAB_CHECKPOINT_S=0.02) is killed with SIGKILL, every other time at a random
   moment and otherwise inside a save (its fsync of the new temp file announces itself and waits); every
   checkpoint in the store must still load (temp files of the killed writes are counted: they show the kill
   fell inside a write).
The disk use per student is the store's size over the students (one file per run, overwritten in place: it does
not grow with time). Timings depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import classroom as cr  # noqa: E402  (after the path: run as a script)

SAVED_LINE = re.compile(r"· (\w+) · step (\d+) / (\d+) · saved")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Returning(cr.Student):
    """A student back after the restart: opens the app, reads "Saved runs", presses Resume, watches the run."""

    saved: tuple[str, int, int] | None = None  # (status, step, budget) the sidebar showed

    def _element(self, delta, now: float) -> None:
        super()._element(delta, now)
        el = delta.new_element
        if self.saved is None and el.WhichOneof("type") == "markdown" and (m := SAVED_LINE.search(el.markdown.body)):
            self.saved = (m.group(1), int(m.group(2)), int(m.group(3)))  # as listed before Resume

    async def _session(self, receiver: asyncio.Task, press_start: bool) -> None:
        await self._rerun()
        await self._until(self._full_done, receiver, self.load_timeout)
        if "Resume" not in self._buttons:
            self.errors.append("no Resume button after the restart")
            return
        self.t_start = time.monotonic()
        self._full_done.clear()
        await self._rerun(trigger=self._buttons["Resume"][0])
        await self._until(None, receiver, self.seconds)


def _kill_group(server: cr.Server) -> list[int]:
    """SIGKILL the server's process group (the server and its training process); returns the pids it had."""
    pids = [server.pid, *cr.child_pids(server.pid)]
    os.killpg(server.pid, signal.SIGKILL)
    server.proc.wait(10)
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


async def rehearse(students: int, seconds: float, resume_s: float, port: int, port2: int, data: Path) -> dict:
    from ganlab.store import RunStore, owner_hash
    from ganlab.ui import identity

    env = {"GANLAB_DATA_DIR": str(data)}
    query = cr.budget_query(cr.DEFAULT_QUERY, 1_000_000)
    cookies = [identity.new_id() for _ in range(students)]
    out: dict[str, Any] = {"students": students, "seconds": seconds}
    server = cr.Server(port, env=env)
    log(f"server on {server.url} (pid {server.pid}), store {data}")
    try:
        class_ = [cr.Student(i, server.port, query, 3600.0, cookie=c) for i, c in enumerate(cookies)]
        tasks = [asyncio.create_task(s.run(0.5 * i)) for i, s in enumerate(class_)]
        t0 = time.monotonic()
        while time.monotonic() - t0 < 180 and not all(s.steps.get("A") for s in class_):
            await asyncio.sleep(0.5)  # everyone's run trains (the training process starts, torch imports)
        out["all_training_after_s"] = round(time.monotonic() - t0, 1)
        log(f"  every student's run trains after {out['all_training_after_s']} s; {seconds:g} s more, then kill -9")
        await asyncio.sleep(seconds)
        seen = {owner_hash(s.cookie): (s.steps.get("A") or [(0.0, 0)])[-1][1] for s in class_}
        rates = {}
        for s in class_:
            pts = s.steps.get("A") or []
            recent = [(t, n) for t, n in pts if t >= pts[-1][0] - 10] if pts else []
            rates[owner_hash(s.cookie)] = ((recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
                                           if len(recent) > 1 and recent[-1][0] > recent[0][0] else None)
        killed_at = time.time()
        pids = _kill_group(server)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out["killed_pids"] = pids
        out["survivors"] = [p for p in pids if _alive(p)]
        out["errors_before_kill"] = sorted({e for s in class_ for e in s.errors if "disconnected" not in e})
    finally:
        server.close()
    store = RunStore(data, boot="rehearsal")
    records = {r.owner: r for r in store.runs()}
    rows = []
    for s in class_:
        h = owner_hash(s.cookie)
        rec = records.get(h)
        row = {"student": s.idx, "listed": rec is not None, "seen_step": seen[h],
               "rate_steps_per_s": None if rates[h] is None else round(rates[h], 1)}
        if rec is not None:
            row.update(saved_step=rec.step, status=rec.shown_status, loadable=store.load(rec.key, 0) is not None,
                       lost_s=round(killed_at - rec.updated, 1) if rec.saved else None,
                       lost_steps_at_least=max(0, seen[h] - rec.step))
        rows.append(row)
    out["before_restart"] = rows
    sizes = [r.bytes for r in store.runs()]
    out["store_mb"] = round(sum(sizes) / 2**20, 3)
    out["mb_per_student"] = round(sum(sizes) / 2**20 / max(1, students), 3)

    server = cr.Server(port2, env=env)
    log(f"restarted on {server.url} (pid {server.pid}) in {server.start_s:.1f} s")
    try:
        back = [Returning(i, server.port, "", resume_s, cookie=c) for i, c in enumerate(cookies)]
        await asyncio.gather(*(s.run(0.5 * i) for i, s in enumerate(back)))
        after = []
        for s, row in zip(back, rows):
            steps = [n for _, n in s.steps.get("A", [])]
            after.append({"student": s.idx, "listed": s.saved is not None,
                          "listed_status": s.saved[0] if s.saved else None,
                          "listed_step": s.saved[1] if s.saved else None,
                          "first_step_after_resume": steps[0] if steps else None,
                          "last_step": steps[-1] if steps else None,
                          "resumed_from_saved": bool(steps) and steps[0] >= row.get("saved_step", 0) > 0,
                          "moved_on": len(set(steps)) > 1, "errors": s.errors})
        out["after_restart"] = after
    finally:
        server.close()
    return out


# ---- a closed lid ---------------------------------------------------------------------------------------------
async def closed_lid(students: int, seconds: float, away_s: float, resume_s: float, port: int, data: Path) -> dict:
    """`--away S`: the students train `seconds`, close every tab (their websockets close), stay away `away_s`
    (longer than the 30 s grace period), and come back to the same server with their cookies: each run must be
    listed as paused at a step at least the one they last saw, and Resume must continue it from there."""
    from ganlab.ui import identity

    env = {"GANLAB_DATA_DIR": str(data)}
    query = cr.budget_query(cr.DEFAULT_QUERY, 1_000_000)
    cookies = [identity.new_id() for _ in range(students)]
    out: dict[str, Any] = {"students": students, "seconds": seconds, "away_s": away_s}
    server = cr.Server(port, env=env)
    log(f"server on {server.url} (pid {server.pid}), store {data}")
    try:
        class_ = [cr.Student(i, server.port, query, seconds, cookie=c) for i, c in enumerate(cookies)]
        await asyncio.gather(*(s.run(0.5 * i) for i, s in enumerate(class_)))
        seen = [(s.steps.get("A") or [(0.0, 0)])[-1][1] for s in class_]
        pids = [server.pid, *cr.child_pids(server.pid)]
        log(f"  every tab closed (steps seen {seen}); away {away_s:g} s")
        await asyncio.sleep(away_s)
        back = [Returning(i, server.port, "", resume_s, cookie=c) for i, c in enumerate(cookies)]
        await asyncio.gather(*(s.run(0.5 * i) for i, s in enumerate(back)))
        rows = []
        for s, before, first in zip(back, seen, class_):
            steps = [n for _, n in s.steps.get("A", [])]
            rows.append({"student": s.idx, "seen_before_leaving": before, "errors_before": first.errors,
                         "listed_status": s.saved[0] if s.saved else None,
                         "listed_step": s.saved[1] if s.saved else None,
                         "first_step_after_resume": steps[0] if steps else None,
                         "last_step": steps[-1] if steps else None,
                         "resumed_where_it_paused": bool(steps) and s.saved is not None and steps[0] >= s.saved[1]
                         >= before * 0.9,
                         "moved_on": len(set(steps)) > 1, "errors": s.errors})
        out["back"] = rows
        out["same_processes"] = all(_alive(p) for p in pids)
    finally:
        server.close()
    return out


# ---- killing a writer mid-save ---------------------------------------------------------------------------------
def writer(data: str, mid_write: bool = False) -> None:
    """The process the kill loop kills: three runs saving into the store as often as they can. mid_write: once
    every run saved, the next fsync of a checkpoint's temp file says "in-write" and waits, so the kill lands
    inside a save (the new file written, not yet renamed over the old one)."""
    os.environ["GANLAB_CHECKPOINT_S"] = "0.02"
    from ganlab.config import TrainConfig
    from ganlab.jobs.job_manager import JobManager
    from ganlab.jobs.spec import RunSpec
    from ganlab.store import RunStore

    cfg = TrainConfig(data="ring", z_dim=2, g_width=64, d_width=64, batch_size=64, log_every=10, steps=1_000_000)
    m = JobManager(workers=2, stacking=True)
    m.store = RunStore(data)
    m.submit("member", RunSpec((cfg,)), "member")
    m.submit("pair", RunSpec((cfg, cfg.replace(pack=2))), "pair")
    m.submit("single", RunSpec((cfg.replace(loss="wgan_gp"),)), "single")
    while not all(r.saved for r in m.store.runs()):  # every run has saved once: from now on it saves ~50 times/s
        time.sleep(0.05)
    if mid_write:
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
                print("in-write", flush=True)
                time.sleep(5)
            real_fsync(fd)

        os.fsync = fsync
    print("ready", flush=True)
    time.sleep(3600)


def kill_loop(kills: int, data: Path, seed: int = 0) -> dict:
    from ganlab.store import RunStore, files

    rng = random.Random(seed)
    rounds = []
    for k in range(kills):
        mid = k % 2 == 1  # every other kill lands inside a save for sure; the others at a random moment
        p = subprocess.Popen([sys.executable, __file__, "--writer", str(data), *(["--mid-write"] if mid else [])],
                             stdout=subprocess.PIPE, cwd=ROOT)
        ready = p.stdout.readline().strip() == b"ready"
        if mid:
            ready = ready and p.stdout.readline().strip() == b"in-write"
        else:
            time.sleep(rng.uniform(0.1, 1.5))  # every run saves every ~0.02 s of training
        p.send_signal(signal.SIGKILL)
        p.wait()
        tmp = len(list((data / "runs").glob(f"*/*{files.TMP_SUFFIX}"))) if (data / "runs").is_dir() else 0
        store = RunStore(data)  # sweeps the temp files
        bad, checked = [], 0
        for rec in store.runs():
            for i in range(len(rec.configs)):
                if files.checkpoint_path(data, rec.key, i).exists():
                    checked += 1
                    if store.load(rec.key, i) is None:
                        bad.append(f"{rec.key}/{i}")
        store.index.close()
        rounds.append({"round": k + 1, "ready": ready, "mid_write": mid, "temp_files_left_by_the_kill": tmp,
                       "checkpoints": checked,
                       "unloadable": bad})
        log(f"  kill {k + 1}/{kills}: {checked} checkpoints, {len(bad)} unloadable, {tmp} temp file(s) left mid-write")
    return {"kills": kills, "rounds_with_a_write_in_flight": sum(1 for r in rounds if r["temp_files_left_by_the_kill"]),
            "unloadable_total": sum(len(r["unloadable"]) for r in rounds),
            "checkpoints_checked": sum(r["checkpoints"] for r in rounds), "rounds": rounds}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30.0, help="training before the kill")
    ap.add_argument("--resume-s", type=float, default=15.0, help="how long each student watches the resumed run")
    ap.add_argument("--kills", type=int, default=20, help="kill a saving process this many times (0: skip)")
    ap.add_argument("--port", type=int, default=8611)
    ap.add_argument("--port2", type=int, default=8621, help="the restarted server's port")
    ap.add_argument("--no-restart", action="store_true", help="only the kill loop")
    ap.add_argument("--away", type=float, default=None, metavar="S",
                    help="instead: a closed lid -- the students close every tab for S seconds and come back")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--writer", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--mid-write", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.writer:
        writer(a.writer, a.mid_write)
        return {}
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    base = Path(tempfile.mkdtemp(prefix="ganlab-restart-"))
    try:
        if a.away is not None:
            out["closed_lid"] = asyncio.run(closed_lid(a.students, a.seconds, a.away, a.resume_s, a.port,
                                                       base / "lid"))
            log(json.dumps(out["closed_lid"]))
        elif not a.no_restart:
            out["restart"] = asyncio.run(rehearse(a.students, a.seconds, a.resume_s, a.port, a.port2, base / "class"))
            log(json.dumps(out["restart"]))
        if a.kills and a.away is None:
            out["kill_loop"] = kill_loop(a.kills, base / "kills")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if a.json:
        print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
