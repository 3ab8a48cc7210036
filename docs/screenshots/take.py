"""Screenshots of every page in English and 简体中文 at 1366x768, for the README.

    python docs/screenshots/take.py            # starts `streamlit run app.py` on a free port, writes *.png here

Needs Playwright and Chromium at /usr/bin/chromium (as the browser tests), and for the Chinese shots a CJK font
(`fc-list :lang=zh` lists one; e.g. Debian's fonts-noto-cjk or fonts-wqy-microhei): without one Chromium draws
empty boxes, so those shots are skipped with a warning. The Mode collapse lab and the Theory page are shown a
few seconds into a run (Start pressed), the other pages as they open.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PAGES = [  # (file stem, url path, heading (en, zh), Start button to press (en, zh) or None)
    ("mode_collapse", "/?preset=ring-collapse&compare=1", ("Mode collapse lab", "模式崩溃实验室"), ("Start", "开始")),
    ("image_gan", "/image_gan?preset=mnist-dcgan", ("Image GAN", "图像 GAN"), None),
    ("latent_space", "/latent_space", ("Latent space", "潜在空间"), None),
    ("theory", "/theory", ("Theory: the minimax game in 1-D", "理论：一维的极小极大博弈"), ("Start", "开始")),
    ("class", "/class", ("Class", "课堂"), None),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve() -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return url, proc
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("streamlit did not start")


def shoot(page, url: str, stem: str, path: str, heading: str, start: str | None, lang: str) -> Path:
    sep = "&" if "?" in path else "?"
    page.goto(f"{url}{path}{sep}lang={lang}" if lang != "en" else f"{url}{path}", timeout=120_000)
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    if start:
        button = page.get_by_role("button", name=start, exact=True)
        button.wait_for(timeout=120_000)
        button.click()
        live = re.compile(r"^(Run A · step|运行 A · 第|\*\*step|\*\*第) ?\d*|^(step|第) \d+")
        page.get_by_text(live).first.wait_for(timeout=120_000)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=120_000)  # the figures are drawn
        time.sleep(4)  # a few logging intervals of the live view
    else:
        time.sleep(2)
    out = OUT / f"{stem}-{lang}.png"
    page.screenshot(path=str(out), timeout=120_000)
    return out


def cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


def main() -> None:
    langs = [("en", 0)]
    if cjk_font():
        langs.append(("zh", 1))
    else:
        print("warning: no CJK font on this machine (fc-list :lang=zh): the 简体中文 screenshots are skipped",
              file=sys.stderr)
    url, proc = serve()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for lang, i in langs:
                for stem, path, headings, start in PAGES:
                    ctx = browser.new_context(viewport={"width": 1366, "height": 768})  # a new student each page
                    page = ctx.new_page()
                    print(shoot(page, url, stem, path, headings[i], start[i] if start else None, lang))
                    ctx.close()
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
