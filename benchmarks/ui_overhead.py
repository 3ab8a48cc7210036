"""UI overhead: training steps/s of ring-collapse headless vs in the app with the page open and refreshing.

    python benchmarks/ui_overhead.py [--seconds 30] [--rounds 2] [--json out.json]

Three ways to train the same config (ring-collapse, one torch thread), each for `--seconds` of wall time:
  headless  Trainer.step(50) in a loop in this process (the CLI's loop)
  job       the same through ganlab.jobs in this process, no page (adds the job's snapshots)
  page      `streamlit run app.py`, Chromium (Playwright) on the Mode collapse lab with run B off, Start
            pressed, the live view refreshing at 2 Hz; steps/s from the page's step counter over the window
Rounds are interleaved (headless, job, page, headless, ...); page/headless is the median of the per-round
ratios (each round's windows are adjacent in time, which matters on a shared, noisy CPU). Needs
/usr/bin/chromium and playwright. Numbers on a shared CPU are noisy: run it on a quiet machine.
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


def headless(seconds: float) -> float:
    from ganlab.train import Trainer

    t = Trainer(config())
    t.step(100)  # warm-up
    s0, t0 = t.step_count, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.step(50)
    return (t.step_count - s0) / (time.perf_counter() - t0)


def job(seconds: float) -> float:
    from ganlab import jobs
    from ganlab.runner import TrainerRunner

    m = jobs.JobManager()
    c = config()
    j = m.submit("bench", lambda: [TrainerRunner(c)], label="bench")
    try:
        while not j.snapshots() or j.snapshots()[0].step < 100:
            time.sleep(0.05)
        s0, t0 = j.snapshots()[0].step, time.perf_counter()
        time.sleep(seconds)
        s1, t1 = j.snapshots()[0].step, time.perf_counter()
        return (s1 - s0) / (t1 - t0)
    finally:
        m.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
               str(self.port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "GANLAB_TORCH_THREADS": "1"}, start_new_session=True)
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


def page_rate(browser, server: Server, seconds: float) -> float:
    params = {"preset": PRESET, **config().to_query(), "compare": "0"}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(f"{server.url}/?{urlencode(params)}")
        page.get_by_role("button", name="Start", exact=True).click()
        page.get_by_text(re.compile(r"^Run A · step [1-9]\d* ")).first.wait_for(timeout=60_000)
        s0, t0 = _edge(page, _step(page))
        time.sleep(seconds)
        s1, t1 = _edge(page, _step(page))
        page.get_by_role("button", name="Reset", exact=True).click()
        return (s1 - s0) / (t1 - t0)
    finally:
        ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window of each mode in each round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--no-job", action="store_true", help="skip the in-process job manager mode")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    import torch
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(1)
    modes = ("headless", "page") if args.no_job else ("headless", "job", "page")
    rates: dict[str, list[float]] = {m: [] for m in modes}
    load: list[float] = []
    server = Server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("GANLAB_BENCH_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
            for r in range(args.rounds):
                load.append(os.getloadavg()[0])
                rates["headless"].append(headless(args.seconds))
                if "job" in rates:
                    rates["job"].append(job(args.seconds))
                rates["page"].append(page_rate(browser, server, args.seconds))
                print(f"round {r + 1} (load {load[-1]:.1f}): " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in rates.items())
                      + f", page/headless {rates['page'][-1] / rates['headless'][-1]:.2f}", file=sys.stderr)
            browser.close()
    finally:
        server.close()
    med = {k: statistics.median(v) for k, v in rates.items()}
    pair = [p / h for p, h in zip(rates["page"], rates["headless"])]  # each round's two windows are adjacent
    out = {"case": PRESET, "device": "cpu", "torch_threads": 1, "seconds": args.seconds, "rounds": rates,
           "load_average_1min": load, "headless_steps_per_sec": med["headless"], "page_steps_per_sec": med["page"],
           "page_vs_headless": statistics.median(pair), "page_vs_headless_rounds": pair}
    if "job" in rates:
        out["job_steps_per_sec"] = med["job"]
        out["job_vs_headless"] = statistics.median(j / h for j, h in zip(rates["job"], rates["headless"]))
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
