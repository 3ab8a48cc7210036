"""Image GAN page: refresh rate in the browser and training steps/s with the page open vs headless (DCGAN, CPU).

    python benchmarks/page_overhead_images.py [--preset mnist-dcgan] [--seconds 30] [--rounds 2] [--json out.json]

Ways to train the same config (one torch thread, budget never reached), each for `--seconds` of wall time:
  headless        Trainer.step(log_every) in a loop in this process (the CLI's loop)
  headless+score  the same with the quality evaluator attached, as the page's runs have it (FID etc.)
  job             the page's own factory (ganlab.ui.image_gan.views.build_runners) through ganlab.jobs, no
                  page: adds the worker's snapshots (fixed-noise grid JPEG every 0.25 s)
  page            `streamlit run app.py` + Chromium (Playwright) on the Image GAN page, opened from a share link
                  of the config, Start pressed, both live fragments refreshing. A MutationObserver in the page
                  timestamps every change of the step counter and of the grid image, so the page's refresh rate
                  is what the browser actually showed; steps/s comes from the same step counter.
Rounds are interleaved (headless, headless+score, job, page, ...) and medians reported, with page/headless and
page/headless+score. Each non-page mode runs in a fresh process in its own session, like the Streamlit server
(Linux's autogroup scheduler shares the CPU between sessions first), while Chromium runs in this one's.
Wall-clock rates on a shared CPU are noisy (the JSON records the load average), so the page window also reads
/proc: the CPU time of the training thread per step (vs headless+score), and how many cores the rest of the
server (script runs) and the browser keep busy. Needs Linux, /usr/bin/chromium and playwright.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.live_app import Server, cpu_seconds, job_rate, open_app, thread_cpu_seconds  # noqa: E402

BUDGET = 1_000_000  # never reached: the window ends first
WARMUP_STEPS = 100

OBSERVER = r"""() => {
  const ticks = {img: [], step: []};
  let src = null, step = null;
  const check = () => {
    const img = document.querySelector('[data-testid="stImage"] img');
    const s = img && img.getAttribute('src');
    if (s && s !== src) { src = s; ticks.img.push(performance.now()); }
    const p = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] p')]
      .find(e => /^Step \d+ \//.test(e.innerText));
    const n = p ? parseInt(p.innerText.split(' ')[1]) : null;
    if (n !== null && n !== step) { step = n; ticks.step.push([performance.now(), n]); }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                      characterData: true});
  window.__ganlabTicks = ticks;
}"""


def _children() -> dict[int, int]:
    kids: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    kids[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    return kids


def cpu_sample(server_pid: int) -> dict:
    """CPU seconds so far: each thread of the server process, and every process under this one but the server
    (Playwright's driver and Chromium). Linux /proc only."""
    threads = thread_cpu_seconds(server_pid)
    parents, mine, todo = _children(), set(), [os.getpid()]
    while todo:
        p = todo.pop()
        for c, pp in parents.items():
            if pp == p and c not in mine:
                mine.add(c)
                todo.append(c)
    browser = 0.0
    for pid in mine - {server_pid} - {int(t) for t in os.listdir(f"/proc/{server_pid}/task")}:
        try:
            browser += cpu_seconds(f"/proc/{pid}/stat")
        except OSError:
            pass
    return {"threads": threads, "server": cpu_seconds(f"/proc/{server_pid}/stat"), "browser": browser}


def cpu_split(a: dict, b: dict, seconds: float) -> dict:
    """Cores in use over the window: the busiest server thread (training), the rest of the server process
    (Streamlit's script runs and event loop, threads that ended included), and the browser."""
    d = {t: b["threads"][t] - a["threads"].get(t, 0.0) for t in b["threads"]}
    train = max(d.values()) if d else 0.0
    return {"train_cores": train / seconds, "server_other_cores": (b["server"] - a["server"] - train) / seconds,
            "browser_cores": (b["browser"] - a["browser"]) / seconds}


def config(preset: str):
    from ganlab.presets import PRESETS

    return PRESETS[preset].config.replace(steps=BUDGET, device="cpu")


def headless(preset: str, seconds: float, score: bool) -> dict:
    from ganlab import quality
    from ganlab.engine.trainer import Trainer

    t = Trainer(config(preset))
    if score:
        quality.attach(t)
    n = t.config.log_every
    t.step(WARMUP_STEPS)
    s0, t0, c0 = t.step_count, time.perf_counter(), time.thread_time()
    while time.perf_counter() - t0 < seconds:
        t.step(n)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    return {"steps_per_sec": (t.step_count - s0) / wall, "cpu_s_per_step": cpu / (t.step_count - s0)}


def job(preset: str, seconds: float) -> float:
    from ganlab.ui.image_gan.views import build_runners

    c = config(preset)
    return job_rate(lambda: build_runners(c), seconds, WARMUP_STEPS)


def page_rate(browser, server: Server, preset: str, seconds: float) -> dict:
    """steps/s and refreshes/s (grid image changes, step counter changes) seen in the browser."""
    params = {"preset": preset, **config(preset).to_query()}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(server.url)  # "/" first: a fresh server's first request must run app.py (st.navigation)
        page.get_by_role("link", name="Image GAN").wait_for(timeout=120_000)
        page.goto(f"{server.url}/image_gan?{urlencode(params)}")
        page.get_by_role("button", name="Start", exact=True).click(timeout=120_000)
        page.wait_for_function(
            """(n) => [...document.querySelectorAll('[data-testid="stMarkdownContainer"] p')]
                  .some(e => /^Step \\d+ \\//.test(e.innerText) && parseInt(e.innerText.split(' ')[1]) >= n)""",
            arg=WARMUP_STEPS, timeout=180_000)
        page.evaluate(OBSERVER)
        cpu0 = cpu_sample(server.proc.pid)
        time.sleep(seconds)
        cpu = cpu_split(cpu0, cpu_sample(server.proc.pid), seconds)
        ticks = page.evaluate("() => window.__ganlabTicks")
        page.get_by_role("button", name="Reset", exact=True).click()
    finally:
        ctx.close()
    steps, imgs = ticks["step"], ticks["img"]
    if len(steps) < 2:
        raise RuntimeError("the step counter did not move during the window")
    (ta, sa), (tb, sb) = steps[0], steps[-1]
    gaps = [b[0] - a[0] for a, b in zip(steps, steps[1:])]
    return {"steps_per_sec": (sb - sa) / ((tb - ta) / 1000), "step_updates_per_sec": len(steps) / seconds,
            "grid_updates_per_sec": len(imgs) / seconds, "max_gap_s": max(gaps) / 1000,
            "median_gap_s": statistics.median(gaps) / 1000, **cpu}


def in_own_session(mode: str, preset: str, seconds: float, cpus: set[int] | None = None):
    """Run `headless` / `headless+score` / `job` in a fresh process in its own session, as the Streamlit server
    runs: Linux's autogroup scheduler shares CPU between sessions first, so all modes compete alike. `cpus`:
    pinned to the server's CPUs (--pin)."""
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    out = subprocess.run([sys.executable, __file__, "--mode", mode, "--preset", preset, "--seconds", str(seconds)],
                         cwd=ROOT, capture_output=True, text=True, check=True, start_new_session=True,
                         preexec_fn=pin)
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_mode(mode: str, preset: str, seconds: float) -> None:
    import torch

    torch.set_num_threads(1)
    if mode == "job":
        print(json.dumps(job(preset, seconds)))
    else:
        print(json.dumps(headless(preset, seconds, score=mode == "headless+score")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="mnist-dcgan")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--pin", action="store_true",
                    help="server and headless runs on the first CPU, the browser on the others")
    ap.add_argument("--mode", choices=("headless", "headless+score", "job"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        return one_mode(args.mode, args.preset, args.seconds)
    import torch

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    rates: dict[str, list] = {"headless": [], "headless+score": [], "job": [], "page": []}
    with open_app(args.pin) as (server, browser, server_cpus):
        for r in range(args.rounds):
            for mode in ("headless", "headless+score", "job"):
                rates[mode].append(in_own_session(mode, args.preset, args.seconds, server_cpus))
            rates["page"].append(page_rate(browser, server, args.preset, args.seconds))
            print(f"round {r + 1}: " + json.dumps({k: v[-1] for k, v in rates.items()}), file=sys.stderr)

    def med(kind: str, key: str = "steps_per_sec") -> float:
        return statistics.median(r[key] if isinstance(r, dict) else r for r in rates[kind])

    page = {k: med("page", k) for k in rates["page"][0]}
    out = {"case": args.preset, "device": "cpu", "torch_threads": 1, "seconds": args.seconds, "pinned": args.pin,
           "rounds": rates,
           "cpu_count": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
           "headless_steps_per_sec": med("headless"), "headless_score_steps_per_sec": med("headless+score"),
           "job_steps_per_sec": med("job"), "page_steps_per_sec": page["steps_per_sec"],
           "page_grid_updates_per_sec": page["grid_updates_per_sec"],
           "page_step_updates_per_sec": page["step_updates_per_sec"], "page_max_gap_s": page["max_gap_s"],
           "page_vs_headless": page["steps_per_sec"] / med("headless"),
           "page_vs_headless_score": page["steps_per_sec"] / med("headless+score"),
           "job_vs_headless": med("job") / med("headless"),
           # CPU accounting (less sensitive to other users' load than wall-clock rates): training CPU per step
           # headless and with the page, and the cores the page itself keeps busy (server script runs, browser)
           "headless_score_cpu_s_per_step": med("headless+score", "cpu_s_per_step"),
           "page_train_cpu_s_per_step": page["train_cores"] / page["steps_per_sec"],
           "page_server_other_cores": page["server_other_cores"], "page_browser_cores": page["browser_cores"]}
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
