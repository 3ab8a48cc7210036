"""The run store's steady-state cost (issue 21): N stacked ring-collapse runs train in one process for `--seconds`,
with the store on and off, alternating `--rounds` times; reports the steps each configuration made, the time the
jobs' workers spent in saves (JobSaves.save: a member's state copied and serialised) and what the writer thread
wrote. In-process (no Streamlit, no websockets), so less noisy than two `benchmarks/classroom.py` runs.

    python benchmarks/store_cost.py [--runs 30] [--seconds 40] [--rounds 2] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(runs: int, seconds: float, store_dir: str | None) -> dict:
    import torch

    from ganlab.jobs import saves
    from ganlab.jobs.job_manager import JobManager
    from ganlab.jobs.spec import RunSpec
    from ganlab.presets import PRESETS
    from ganlab.store import RunStore

    torch.set_num_threads(1)
    spent = [0.0, 0]
    real_save = saves.JobSaves.save

    def timed(self):
        t0 = time.perf_counter()
        try:
            return real_save(self)
        finally:
            spent[0] += time.perf_counter() - t0
            spent[1] += 1

    saves.JobSaves.save = timed
    m = JobManager(workers=os.cpu_count() or 2, stacking=True, max_running=runs + 1, max_running_per_owner=runs + 1,
                   max_jobs_per_owner=runs + 1)
    m.store = RunStore(store_dir) if store_dir else None
    cfg = PRESETS["ring-collapse"].config.replace(steps=1_000_000)
    jobs = [m.submit("bench", RunSpec((cfg.replace(seed=i),)), f"r{i}")
            for i in range(runs)]
    time.sleep(seconds)
    steps = sum(j.progress()[0][0] for j in jobs if j.progress())
    m.shutdown(10)
    saves.JobSaves.save = real_save
    disk = sum(p.stat().st_size for p in Path(store_dir).rglob("*.pt")) if store_dir else 0
    return {"store": bool(store_dir), "steps": steps, "save_calls": spent[1], "save_s": round(spent[0], 3),
            "checkpoint_mb": round(disk / 2**20, 2)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    out = {"runs": a.runs, "seconds": a.seconds, "load_avg_at_start": os.getloadavg(), "rounds": []}
    for r in range(a.rounds):
        for on in (False, True):
            d = tempfile.mkdtemp(prefix="ganlab-store-cost-") if on else None
            try:
                res = one(a.runs, a.seconds, d)
            finally:
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            print(f"round {r + 1} store {'on ' if on else 'off'}: {res}", file=sys.stderr, flush=True)
            out["rounds"].append(res)
    on = sum(x["steps"] for x in out["rounds"] if x["store"])
    off = sum(x["steps"] for x in out["rounds"] if not x["store"])
    out["steps_on_over_off"] = round(on / off, 3) if off else None
    out["save_share_of_worker_time"] = round(sum(x["save_s"] for x in out["rounds"]) /
                                             (a.rounds * a.seconds * (os.cpu_count() or 2)), 4)
    if a.json:
        print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
