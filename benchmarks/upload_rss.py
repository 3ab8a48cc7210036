"""Crafted checkpoints through a real server (issue 20): what each costs the server that loads it.

    python benchmarks/upload_rss.py [--port 8641] [--json]

A real `streamlit run app.py` (its own temporary run store) and one Chromium tab (Playwright, /usr/bin/chromium)
on the Image GAN page. The tab first uploads a bundled demo checkpoint (the page shows it: the warm-up, so that
lazy imports and the first torch.load are not counted) and the toy checkpoint the crafted files are made from
(the page loads it, then says it is a toy run), then each crafted file of benchmarks/crafted_uploads.py in
turn, each in a fresh tab. Before each upload the server process's peak RSS (VmHWM) is reset to its current RSS
(/proc/PID/clear_refs); after the page shows its answer, the peak minus the RSS before is what loading that file
cost. The report lists, per file: its size, the message the student read, and that growth in MB.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import classroom as cr  # noqa: E402  (after the path: run as a script)
from benchmarks.crafted_uploads import crafted, good_state, saved  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ANSWER_TIMEOUT_S = 60.0


def _kb(pid: int, field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1))


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def _answer(page, timeout: float) -> str:
    """The page's answer to the upload: its error text, or the accepted checkpoint's line."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for sel in ('[data-testid="stAlertContentError"]', '[data-testid="stException"]'):
            loc = page.locator(sel)
            if loc.count():
                text = (loc.first.text_content() or "").strip()  # (the uploader sits in a collapsed expander)
                if text:
                    return "refused: " + text.replace("\n", " ")
        shown = page.get_by_text("Checkpoint:", exact=False)
        if shown.count():
            return "accepted: " + (shown.first.text_content() or "").strip()
        time.sleep(0.2)
    return "no answer"


def measure(port: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="ganlab-upload-rss-"))
    good = good_state()
    demo = sorted((ROOT / "assets").glob("demo-*.pt"))[0]  # an image run: the page accepts it
    files = {f"{demo.name} (warm-up)": demo.read_bytes(),
             "a toy run's checkpoint (the crafted files' base)": saved(good), **crafted(good, tmp)}
    server = cr.Server(port, env={"GANLAB_DATA_DIR": str(tmp / "store")})
    rows = []
    try:
        exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            for name, data in files.items():  # a fresh tab (session) per file: no earlier answer on the page
                path = tmp / "upload.pt"
                path.write_bytes(data)
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(f"{server.url}/image_gan", timeout=120_000)
                page.wait_for_selector('input[type="file"]', state="attached", timeout=120_000)
                time.sleep(2.0)  # the page's first rerun settles
                _reset_peak(server.pid)
                before = _kb(server.pid, "VmRSS")
                page.locator('input[type="file"]').first.set_input_files(str(path))
                said = _answer(page, ANSWER_TIMEOUT_S)
                growth = (_kb(server.pid, "VmHWM") - before) / 1024
                rows.append({"file": name, "kb": round(len(data) / 1024, 1), "answer": said[:200],
                             "rss_growth_mb": round(growth, 1), "rss_after_mb": round(_kb(server.pid, "VmRSS") / 1024)})
                print(f"{name} ({len(data) / 1024:.0f} KB): +{growth:.1f} MB peak; {said[:120]}", file=sys.stderr,
                      flush=True)
                page.close()
            browser.close()
        alive = server.proc.poll() is None
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    crafted_rows = rows[2:]
    return {"server_alive": alive, "rows": rows,
            "all_crafted_refused": all(r["answer"].startswith("refused") for r in crafted_rows),
            "max_crafted_growth_mb": max(r["rss_growth_mb"] for r in crafted_rows)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8641)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    out = measure(a.port)
    if a.json:
        print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
