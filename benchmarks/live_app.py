"""The app running live for a measurement: `streamlit run app.py` on a free port, Chromium (Playwright) on it,
CPU pinning, in-process job rates and CPU time read from /proc. Shared by ui_overhead.py and
page_overhead_images.py. Needs Linux /proc; the browser part needs /usr/bin/chromium and playwright.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


def job_rate(make_runners: Callable, seconds: float, warmup: int = 100) -> float:
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


def pinning(pin: bool) -> tuple[set[int] | None, str]:
    """(CPUs for the server and the headless runs, Chromium executable). With `pin`: the first CPU for the
    server, a wrapper that runs Chromium on the others (the browser of a student's laptop, not the server's)."""
    chromium = os.environ.get("GANLAB_BENCH_CHROMIUM", CHROMIUM)
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
    """`streamlit run app.py` on a free local port, one torch thread, in its own session (pinned to `cpus`)."""

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


@contextlib.contextmanager
def open_app(pin: bool) -> Iterator[tuple[Server, object, set[int] | None]]:
    """(server, Chromium browser, the server's CPUs or None) for the `with` block; both closed after it."""
    from playwright.sync_api import sync_playwright

    server_cpus, chromium = pinning(pin)
    server = Server(server_cpus)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            try:
                yield server, browser, server_cpus
            finally:
                browser.close()
    finally:
        server.close()


def cpu_seconds(stat_path: str) -> float:
    """utime + stime (s) from a /proc .../stat file (a process's includes its finished threads)."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds so far of each live thread of process `pid`."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            threads[int(tid)] = cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            pass
    return threads
