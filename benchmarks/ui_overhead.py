"""UI overhead: training steps/s of ring-collapse headless vs in the app with the page open and refreshing.

    python benchmarks/ui_overhead.py [--seconds 30] [--rounds 2] [--json out.json]

Three ways to train the same config (ring-collapse, one torch thread), each for `--seconds` of wall time:
  headless  Trainer.step(50) in a loop (the CLI's loop), in a fresh process in its own session
  job       the same through ganlab.jobs in this process, no page (adds the job's snapshots)
  page      `streamlit run app.py`, Chromium (Playwright) on the Mode collapse lab with run B off, Start
            pressed, the live view refreshing at 2 Hz; steps/s from the page's step counter over the window
Rounds are interleaved (headless, job, page, headless, ...); page/headless is the median of the per-round
ratios (each round's windows are adjacent in time, which matters on a shared, noisy CPU).

Wall-clock steps/s on a small shared machine mostly measure who else wants the CPUs: Chromium rendering the
page on the same two cores takes half a core or more. So the page rounds also read the server's CPU time
from /proc: the training thread's steps per CPU second (vs headless: GIL hand-offs and cache effects) and
the share of the server's CPU spent on the UI (fragment ticks, websocket, sidebar). Their product,
`page_vs_headless_server_side`, is the UI's cost to training when the browser runs elsewhere (students'
machines). Needs Linux /proc, /usr/bin/chromium and playwright.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESET = "ring-collapse"
BUDGET = 1_000_000  # never reached: the window ends first


def config():
    from ganlab.presets import PRESETS

    return PRESETS[PRESET].config.replace(steps=BUDGET, device="cpu")


def _headless_here(seconds: float) -> tuple[float, float]:
    """(steps per wall second, steps per second of the training thread's CPU time), in this process."""
    import torch

    from ganlab.engine.trainer import Trainer

    torch.set_num_threads(1)
    t = Trainer(config())
    t.step(100)  # warm-up
    s0, t0, c0 = t.step_count, time.perf_counter(), time.thread_time()
    while time.perf_counter() - t0 < seconds:
        t.step(50)
    steps = t.step_count - s0
    return steps / (time.perf_counter() - t0), steps / (time.thread_time() - c0)


def headless(seconds: float, cpus: set[int] | None = None) -> tuple[float, float]:
    """_headless_here in a fresh process in its own session, like the Streamlit server: Linux's autogroup
    scheduler shares the CPUs between sessions first, so both are measured under the same rules."""
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    out = subprocess.run([sys.executable, __file__, "--headless-only", str(seconds)], cwd=ROOT, check=True,
                         capture_output=True, text=True, start_new_session=True, preexec_fn=pin, timeout=seconds + 120)
    rate, per_cpu = json.loads(out.stdout.strip().splitlines()[-1])
    return rate, per_cpu


def job_rate(make_runners, seconds: float, warmup: int = 100) -> float:
    """Steps/s of a job (runners from `make_runners()`) in a fresh in-process job manager, no page, measured
    from its snapshots over `seconds` after `warmup` steps."""
    from ganlab import jobs

    m = jobs.JobManager()
    j = m.submit("bench", make_runners, label="bench")
    try:
        while not j.snapshots() or j.snapshots()[0].step < warmup:
            time.sleep(0.05)
        s0, t0 = j.snapshots()[0].step, time.perf_counter()
        time.sleep(seconds)
        s1, t1 = j.snapshots()[0].step, time.perf_counter()
        return (s1 - s0) / (t1 - t0)
    finally:
        m.shutdown()


def job(seconds: float) -> float:
    from ganlab.engine.runner import TrainerRunner

    c = config()
    return job_rate(lambda: [TrainerRunner(c)], seconds)


def pinning(pin: bool) -> tuple[set[int] | None, str]:
    """(CPUs for the server and the headless runs, Chromium executable). With `pin`: the first CPU for the
    server, a wrapper that runs Chromium on the others (the browser of a student's laptop, not the server's)."""
    chromium = os.environ.get("GANLAB_BENCH_CHROMIUM", "/usr/bin/chromium")
    if not pin:
        return None, chromium
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("--pin needs at least two CPUs")
    rest = ",".join(map(str, cpus[1:]))
    wrapper = Path(os.environ.get("TMPDIR", "/tmp")) / "ganlab-bench-chromium"
    wrapper.write_text(f'#!/bin/sh\nexec taskset -c {rest} {chromium} "$@"\n')
    wrapper.chmod(0o755)
    return {cpus[0]}, str(wrapper)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cpus: set[int] | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
               str(self.port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "GANLAB_TORCH_THREADS": "1"}, start_new_session=True,
                                     preexec_fn=pin)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not start")

    def close(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)


def _step(page) -> int:
    text = page.get_by_text(re.compile(r"^Run A · step \d+")).first.inner_text()
    return int(re.search(r"step (\d+)", text).group(1))


def _edge(page, after: int, timeout: float = 30) -> tuple[int, float]:
    """Wait for the step counter to change from `after`; return (step, time it was seen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = _step(page)
        if s != after:
            return s, time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError("the step counter stopped")


_HZ = os.sysconf("SC_CLK_TCK")


def _cpu(path: str) -> float:
    """utime + stime (s) from a /proc stat file (a process's includes its finished threads)."""
    with open(path) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return (int(x[11]) + int(x[12])) / _HZ


def _server_cpu(pid: int) -> tuple[float, dict[str, float]]:
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            threads[tid] = _cpu(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            pass
    return _cpu(f"/proc/{pid}/stat"), threads


def page_rate(browser, server: Server, seconds: float) -> dict[str, float]:
    """Steps/s with the page open and refreshing, and where the server process's CPU time went: the
    training thread (the busiest one) vs everything else (fragment ticks, websocket, sidebar)."""
    params = {"preset": PRESET, **config().to_query(), "compare": "0"}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(f"{server.url}/?{urlencode(params)}")
        page.get_by_role("button", name="Start", exact=True).click()
        page.get_by_text(re.compile(r"^Run A · step [1-9]\d* ")).first.wait_for(timeout=60_000)
        s0, t0 = _edge(page, _step(page))
        p0, th0 = _server_cpu(server.proc.pid)
        time.sleep(seconds)
        s1, t1 = _edge(page, _step(page))
        p1, th1 = _server_cpu(server.proc.pid)
        page.get_by_role("button", name="Reset", exact=True).click(force=True)
        train = max(th1[t] - th0.get(t, 0.0) for t in th1)
        return {"rate": (s1 - s0) / (t1 - t0), "steps_per_cpu_s": (s1 - s0) / max(train, 1e-9),
                "ui_cpu_share": max(0.0, (p1 - p0) - train) / max(p1 - p0, 1e-9)}
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--headless-only", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window of each mode in each round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--no-job", action="store_true", help="skip the in-process job manager mode")
    ap.add_argument("--pin", action="store_true",
                    help="training (headless, and the server) on CPU 0, the browser on the other CPUs "
                         "(other tenants still float over both)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.headless_only is not None:  # the child process of headless()
        print(json.dumps(_headless_here(args.headless_only)))
        return {}
    import torch
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(1)
    modes = ("headless", "page") if args.no_job else ("headless", "job", "page")
    rates: dict[str, list[float]] = {m: [] for m in modes}
    eff: dict[str, list[float]] = {"headless": [], "page": []}  # steps per second of training-thread CPU
    ui_share: list[float] = []
    load: list[float] = []
    server_cpus, chromium = pinning(args.pin)
    server = Server(server_cpus)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for r in range(args.rounds):
                load.append(os.getloadavg()[0])
                rate, per_cpu = headless(args.seconds, server_cpus)
                rates["headless"].append(rate)
                eff["headless"].append(per_cpu)
                if "job" in rates:
                    mine = os.sched_getaffinity(0)
                    if server_cpus:
                        os.sched_setaffinity(0, server_cpus)  # this process's own runs share the server's CPU
                    rates["job"].append(job(args.seconds))
                    os.sched_setaffinity(0, mine)
                p = page_rate(browser, server, args.seconds)
                rates["page"].append(p["rate"])
                eff["page"].append(p["steps_per_cpu_s"])
                ui_share.append(p["ui_cpu_share"])
                print(f"round {r + 1} (load {load[-1]:.1f}): " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in rates.items())
                      + f" steps/s, page/headless {rates['page'][-1] / rates['headless'][-1]:.2f}; steps per "
                        f"training-CPU-s headless {eff['headless'][-1]:.0f}, page {eff['page'][-1]:.0f}; "
                        f"server CPU on the UI {100 * ui_share[-1]:.1f} %", file=sys.stderr)
            browser.close()
    finally:
        server.close()
    med = {k: statistics.median(v) for k, v in rates.items()}
    pair = [p / h for p, h in zip(rates["page"], rates["headless"])]  # each round's two windows are adjacent
    efficiency = statistics.median(p / h for p, h in zip(eff["page"], eff["headless"]))
    share = statistics.median(ui_share)
    out = {"case": PRESET, "device": "cpu", "torch_threads": 1, "seconds": args.seconds, "pinned": args.pin,
           "rounds": rates, "load_average_1min": load, "headless_steps_per_sec": med["headless"],
           "page_steps_per_sec": med["page"], "page_vs_headless": statistics.median(pair),
           "page_vs_headless_rounds": pair,
           # The server's side of it, free of the browser and other tenants competing for the CPUs: training
           # work per CPU second (GIL hand-offs, caches) times the share of the server's CPU left to training.
           "page_vs_headless_steps_per_cpu_s": efficiency, "server_ui_cpu_share": share,
           "page_vs_headless_server_side": efficiency * (1 - share)}
    if "job" in rates:
        out["job_steps_per_sec"] = med["job"]
        out["job_vs_headless"] = statistics.median(j / h for j, h in zip(rates["job"], rates["headless"]))
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


# Hook for `python -m ganlab bench` (benchmarks/bench.py): case "ui_overhead" when Chromium is installed.
DEFAULT = os.path.exists("/usr/bin/chromium")


def measure(opts: dict) -> list[dict]:
    """bench.py's extra case: a short run (rounds <= 3, 15 s windows, no in-process job mode, pinned)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return [{"case": "ui_overhead", "skipped": "playwright is not installed"}]
    rounds = max(1, min(int(opts.get("rounds") or 3), 3))
    # --pin when there are two CPUs or more: the browser gets its own, as on a student's laptop
    pin = ["--pin"] if len(os.sched_getaffinity(0)) >= 2 else []
    out = main(["--seconds", "15", "--rounds", str(rounds), "--no-job", *pin])
    return [{"case": "ui_overhead", **{k: v for k, v in out.items() if k != "case"}}]


if __name__ == "__main__":
    main()
