"""The deployment rehearsed on one machine, without Docker: one Ray, two app replicas, students on both.

    python deploy/rehearse.py [--students 2] [--seconds 40] [--cpus 2] [--kill] [--json]

1. A Ray head (`ray start --head --block`, loopback only, no dashboard, its own temp dir) in its own process
   group, stopped by killing that group (never `ray stop`, which would stop every Ray of this user).
2. Two `streamlit run app.py` replicas on two ports with GANLAB_BACKEND=ray, RAY_ADDRESS of that head and
   RAY_AUTH_MODE=token (the head's token is in ~/.ray/auth_token, Ray's default place).
3. `--students` simulated students per replica (benchmarks/classroom.py's Streamlit-protocol client), each
   pressing Start on the Mode collapse lab and training `--seconds`.
4. Halfway, a visitor opens the Class page (url path `class`) of each replica and reads its table: every
   student's run, from both replicas. Then this process joins the same Ray as a third replica and reads the
   class the way the Class page does (`classroom().rows(jobs.manager())`).
   With `--kill` it then kills the actor of the first run it sees and, at the end, reports what that run's
   record says (restarted from which step, how many steps lost) and the steps its student saw after.
Prints a short report (or JSON with --json). Needs requirements-ray.txt and the websockets client.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.classroom import DEFAULT_QUERY, Server, Student, budget_query  # noqa: E402

LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # Ray's switch that keeps every node on 127.0.0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayHead:
    """`ray start --head --block` on 127.0.0.1 in its own process group and temp dir."""

    def __init__(self, cpus: int):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="ganlab-ray-")
        ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
        cmd = [ray_cli, "start", "--head", "--block", "--port", str(self.port), "--num-cpus", str(cpus),
               "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", self.temp]
        self.log = open(Path(self.temp) / "head.log", "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, **LOOPBACK})
        self._wait(120)
        self.start_s = round(time.monotonic() - t0, 1)

    def _wait(self, timeout: float) -> None:
        """Until `ray start` says the runtime started (the GCS and the raylet are up)."""
        deadline = time.monotonic() + timeout
        while "Ray runtime started" not in (Path(self.temp) / "head.log").read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not come up (exit status {self.proc.poll()})")
            time.sleep(0.5)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.temp, ignore_errors=True)


SUMMARY = re.compile(r"\*\*(\d+) runs?\*\* on this server, (\d+) training")


@dataclass
class ClassPageVisit(Student):
    """Opens a replica's Class page (url path `class`) once and keeps what it lists."""

    summary: tuple[int, int] | None = None  # (runs, training)
    table: list[dict] = field(default_factory=list)

    def _client_state(self, fragment_id: str = "", auto: bool = False):
        cs = super()._client_state(fragment_id, auto)
        if not self._page_hash:
            cs.page_name = "class"
        return cs

    def _element(self, delta, now: float) -> None:
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "markdown" and (m := SUMMARY.search(el.markdown.body)):
            self.summary = (int(m[1]), int(m[2]))
        elif kind == "table":
            import pyarrow as pa

            self.table = pa.ipc.open_stream(el.table.arrow_data.data).read_all().to_pylist()
        super()._element(delta, now)


async def class_pages(servers: list[Server]) -> list[dict]:
    visits = [ClassPageVisit(100 + i, s.port, "", 10.0) for i, s in enumerate(servers)]
    await asyncio.gather(*(v.run(press_start=False) for v in visits))
    return [{"replica": v.port, "summary": v.summary, "errors": v.errors,
             "rows": [{k: r.get(k) for k in ("Student", "Run", "Step", "Status", "Lesson")} for r in v.table]}
            for v in visits]


def class_view(kill: bool) -> dict:
    """What a third replica's Class page lists now (this process joins the cluster as one)."""
    from ganlab import jobs
    from ganlab.jobs import classroom

    t0 = time.monotonic()
    manager = jobs.manager()
    rows = classroom.classroom().rows(manager)
    out = {"read_s": round(time.monotonic() - t0, 2),
           "rows": [{"job": r.job_id, "student": r.nickname, "step": r.step, "status": r.status,
                     "lesson": r.lesson} for r in rows],
           "replicas": sorted({getattr(j, "replica", None) or "this" for j in manager.all_jobs()})}
    if kill and rows:
        import ray

        job = manager.get(rows[0].job_id)
        ray.kill(ray.get_actor(job.actor_name))
        out["killed"] = {"job": job.id, "actor": job.actor_name, "at_step": rows[0].step}
    return out


def record_of(job_id: int) -> dict:
    from ganlab import jobs

    time.sleep(1.0)  # the registry has the replicas' latest records
    job = jobs.manager().get(job_id)
    return {"status": str(job.status), "error": job.error, "step": job.progress()[0][0] if job.progress() else 0}


async def rehearse(students: int, seconds: float, cpus: int, kill: bool) -> dict:
    head = RayHead(cpus)
    env = {"GANLAB_BACKEND": "ray", "RAY_ADDRESS": head.address, "RAY_AUTH_MODE": "token", **LOOPBACK}
    servers: list[Server] = []
    try:
        t0 = time.monotonic()
        servers = [Server(env=env), Server(env=env)]
        started = round(time.monotonic() - t0, 1)
        os.environ.update(env)
        query = budget_query(DEFAULT_QUERY, 1_000_000)
        class_ = [Student(i, s.port, query, seconds) for s in servers for i in range(students)]
        runs = [asyncio.create_task(st.run(0.5 * i)) for i, st in enumerate(class_)]
        await asyncio.sleep(seconds / 2 + 0.5 * len(class_))
        loop = asyncio.get_running_loop()
        pages = await class_pages(servers)
        view = await loop.run_in_executor(None, class_view, kill)
        await asyncio.gather(*runs)
        report = {"ray_head_start_s": head.start_s, "replicas_start_s": started, "class_pages_mid_run": pages,
                  "class_view_mid_run": view,
                  "students": [{"replica": st.port, **{k: st.report()[k] for k in ("started", "runs", "errors")}}
                               for st in class_]}
        if kill and "killed" in view:
            report["killed_run_after"] = await loop.run_in_executor(None, record_of, view["killed"]["job"])
        return report
    finally:
        for s in servers:
            s.close()
        head.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=2, help="students per replica")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs the Ray head offers")
    ap.add_argument("--kill", action="store_true", help="kill one run's actor halfway")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = asyncio.run(rehearse(a.students, a.seconds, a.cpus, a.kill))
    if a.json:
        print(json.dumps(out, indent=1))
        return
    print(f"Ray head up in {out['ray_head_start_s']} s; two replicas in {out['replicas_start_s']} s")
    for s in out["students"]:
        run = s["runs"].get("A", {})
        print(f"  replica :{s['replica']}  steps seen {run.get('steps', 0)}  first step after "
              f"{run.get('first_step_s')} s  errors {s['errors']}")
    for page in out["class_pages_mid_run"]:
        runs, training = page["summary"] or (0, 0)
        print(f"Class page of replica :{page['replica']}: {runs} runs, {training} training; errors {page['errors']}")
        for r in page["rows"]:
            print(f"  {r}")
    view = out["class_view_mid_run"]
    print(f"class view from a third replica ({view['read_s']} s): {len(view['rows'])} runs")
    for r in view["rows"]:
        print(f"  #{r['job']} {r['student']}: step {r['step']} {r['status']} {r['lesson']}")
    if "killed_run_after" in out:
        print(f"killed {view['killed']}; afterwards: {out['killed_run_after']}")


if __name__ == "__main__":
    main()
