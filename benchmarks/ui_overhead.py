"""UI overhead: training steps/s of ring-collapse headless vs in the app with the page open and refreshing.

    python benchmarks/ui_overhead.py [--seconds 30] [--rounds 2] [--json out.json]

Three ways to train the same config (ring-collapse, one torch thread), each for `--seconds` of wall time:
  headless  Trainer.step(50) in a loop (the CLI's loop), in a fresh process in its own session
  job       the same through ganlab.jobs in this process, no page (adds the job's snapshots)
  page      `streamlit run app.py`, Chromium (Playwright) on the Mode collapse lab with run B off, Start
            pressed, the live view refreshing at 2 Hz; steps/s from the page's step counter over the window
Rounds are interleaved (headless, job, page, headless, ...); page/headless is the median of the per-round
ratios (each round's windows are adjacent in time, which matters on a shared, noisy CPU).

Wall-clock steps/s on a small shared machine mostly measure who else wants the CPUs, Chromium rendering the
page on the same cores included. So the page rounds also read the server's CPU time
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
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.live_app import Server, cpu_seconds, job_rate, open_app, thread_cpu_seconds  # noqa: E402

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


def job(seconds: float) -> float:
    from ganlab.engine.runner import TrainerRunner

    c = config()
    return job_rate(lambda: [TrainerRunner(c)], seconds)


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


def _server_cpu(pid: int) -> tuple[float, dict[int, float]]:
    """(the server process's CPU seconds, each live thread's)."""
    return cpu_seconds(f"/proc/{pid}/stat"), thread_cpu_seconds(pid)


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


def overhead(seconds: float, rounds: int, with_job: bool = True, pin: bool = False) -> dict:
    """The measurement: `rounds` interleaved rounds of headless / job / page windows of `seconds` each, summed
    up in one dict. Progress goes to stderr; nothing is printed on stdout (`bench --json` owns stdout)."""
    import torch

    torch.set_num_threads(1)
    modes = ("headless", "job", "page") if with_job else ("headless", "page")
    rates: dict[str, list[float]] = {m: [] for m in modes}
    eff: dict[str, list[float]] = {"headless": [], "page": []}  # steps per second of training-thread CPU
    ui_share: list[float] = []
    load: list[float] = []
    with open_app(pin) as (server, browser, server_cpus):
        for r in range(rounds):
            load.append(os.getloadavg()[0])
            rate, per_cpu = headless(seconds, server_cpus)
            rates["headless"].append(rate)
            eff["headless"].append(per_cpu)
            if "job" in rates:
                mine = os.sched_getaffinity(0)
                if server_cpus:
                    os.sched_setaffinity(0, server_cpus)  # this process's own runs share the server's CPU
                rates["job"].append(job(seconds))
                os.sched_setaffinity(0, mine)
            p = page_rate(browser, server, seconds)
            rates["page"].append(p["rate"])
            eff["page"].append(p["steps_per_cpu_s"])
            ui_share.append(p["ui_cpu_share"])
            print(f"round {r + 1} (load {load[-1]:.1f}): " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in rates.items())
                  + f" steps/s, page/headless {rates['page'][-1] / rates['headless'][-1]:.2f}; steps per "
                    f"training-CPU-s headless {eff['headless'][-1]:.0f}, page {eff['page'][-1]:.0f}; "
                    f"server CPU on the UI {100 * ui_share[-1]:.1f} %", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in rates.items()}
    pair = [p / h for p, h in zip(rates["page"], rates["headless"])]  # each round's two windows are adjacent
    efficiency = statistics.median(p / h for p, h in zip(eff["page"], eff["headless"]))
    share = statistics.median(ui_share)
    out = {"case": PRESET, "device": "cpu", "torch_threads": 1, "seconds": seconds, "pinned": pin,
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
    return out


def main(argv: list[str] | None = None) -> dict:
    """The script: the measurement's JSON on stdout (and in --json FILE)."""
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
    out = overhead(args.seconds, args.rounds, with_job=not args.no_job, pin=args.pin)
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


def measure(opts: dict) -> list[dict]:
    """Case `ui_overhead` of `python -m ganlab bench` (benchmarks/bench.py): a short run (rounds <= 3, 15 s
    windows, no in-process job mode, pinned when there are two CPUs or more: the browser gets its own, as on a
    student's laptop). Returns the rows; prints nothing on stdout."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return [{"case": "ui_overhead", "skipped": "playwright is not installed"}]
    rounds = max(1, min(int(opts.get("rounds") or 3), 3))
    out = overhead(15.0, rounds, with_job=False, pin=len(os.sched_getaffinity(0)) >= 2)
    return [{"case": "ui_overhead", **{k: v for k, v in out.items() if k != "case"}}]


if __name__ == "__main__":
    main()
