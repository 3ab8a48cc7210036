"""Shared fixtures.

GANLAB_DATA_DIR              a temporary folder for the whole session: the run store (ganlab/store/) never
                             writes into the user's data folder.
reset_job_manager (autouse)  after each test, stop every run of the process-wide job manager, so worker
                             threads never outlive a test (every AppTest has the same session id, and an
                             app's threads keep running between `at.run()` calls); its training process is
                             handed on to the next test's manager, as one server keeps one.
app_test(path, ...)          factory: an AppTest of app.py (or a page) with a generous first-run timeout.
wait_until                   fixture: the poll helper `wait_until(cond, timeout, what=...)` for tests that
                             wait on a training thread.
streamlit_server             `streamlit run app.py` on a free port (headless, no file watcher) for browser
                             tests; yields the base URL; killed at the end of the session.
serve_app(log_dir, env)      the same server as a context manager, for a test that needs its own (settings
                             in the environment, or a server to stop): yields (URL, process, log path).
browser / page               Playwright Chromium at /usr/bin/chromium; skipped, with the reason, when
                             Chromium or Playwright is missing. `page` is a fresh tab per test.

Browser tests (marker `browser`) get one rerun on failure (pytest-rerunfailures): they drive a real Chromium
against a real server on the same two cores, where a page's first render can miss a wait by a few seconds when
the machine is busy. A test that fails twice fails; the summary line counts reruns, so a flaky one stays visible.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest
import torch

# One intra-op thread, as the app uses per run: with two, tiny models slow 5-10x whenever anything else
# (a streamlit server of a browser test, another process) takes a core.
torch.set_num_threads(1)


BROWSER_RERUNS = 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=2))


@pytest.fixture(autouse=True)
def one_thread():
    """Every test starts on one thread, whatever the one before it set (the CLI's --threads, the bench)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# The run store (ganlab/store/) of every manager the tests make, and of the servers they start, lives in a
# temporary folder, never in the user's data folder.
if not os.environ.get("GANLAB_DATA_DIR"):
    import tempfile

    os.environ["GANLAB_DATA_DIR"] = tempfile.mkdtemp(prefix="ganlab-test-store-")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


_real_connect = socket.socket.connect


def _loopback_only(self, address):
    """Tests run offline: any connection beyond this machine fails loudly instead of hanging or passing."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if not (host == "localhost" or host.startswith("127.") or host in ("::1", "0.0.0.0")):
            raise OSError(f"a test tried to reach the network ({host}); tests must run offline")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


_WARM_CHILD: list = []  # the training process the last test's process-wide manager left running (at most one)


@pytest.fixture(scope="session", autouse=True)
def warm_training_process():
    """A ProcessJobManager made in this session takes the training process (ganlab/jobs/train_process/) the last
    test's process-wide manager left, when it runs the same settings, as a server keeps one child for all its
    sessions: a new child per test costs ~1.5 s of torch import, over a hundred times in the suite."""
    from ganlab.jobs.train_process import manager

    made = manager.TrainProcess

    def reuse(workers, threads=0, **kwargs):
        while _WARM_CHILD:
            child = _WARM_CHILD.pop()
            if (workers, threads) == (child.workers, child.threads) and not kwargs and child.pid() is not None:
                return child
            child.close(5.0)
        return made(workers, threads, **kwargs)

    manager.TrainProcess = reuse
    yield
    manager.TrainProcess = made
    while _WARM_CHILD:
        _WARM_CHILD.pop().close(5.0)


@pytest.fixture(autouse=True)
def reset_job_manager():
    """After each test, a fresh process-wide manager: the old one's runs are stopped and ended (also in its
    training process, which is then left for the next test's manager; see warm_training_process)."""
    yield
    jobs = sys.modules.get("ganlab.jobs.job_manager")
    m = jobs._MANAGER if jobs is not None else None
    if m is None:
        return
    child = getattr(m, "transport", None)
    keep = type(child).__name__ == "TrainProcess" and child.pid() is not None and not child._closed.is_set()
    if keep:
        m.transport = None  # its shutdown then stops the jobs (over there too) but leaves the child running
    m.shutdown()  # a closed manager is replaced by a fresh one on the next jobs.manager()
    if keep and child.pid() is not None and not child._jobs:
        _WARM_CHILD.append(child)
    elif keep:
        child.close(5.0)


@pytest.fixture
def app_test(monkeypatch):
    """Factory: `at = app_test()` -> AppTest of app.py (first run imports torch: allow 60 s per run)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)  # st.navigation resolves pages/ against the working directory

    def make(path: str = "app.py", timeout: float = 60, query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
        if query:
            at.query_params.update(query)
        return at

    return make


def poll(cond: Callable[[], object], timeout: float = 20.0, every: float = 0.2, what: str = "condition"):
    """Poll `cond()` until it returns a truthy value (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@pytest.fixture
def wait_until():
    return poll


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(log_dir: Path, env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free port (headless, no file watcher, plus `env`): yields (base URL, process, log
    path) once /_stcore/health answers; the process group is ended on exit if it is still running."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "GANLAB_TORCH_THREADS": os.environ.get("GANLAB_TORCH_THREADS", "1"), **(env or {})}
    log_path = log_dir / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode} before serving; log: "
                            f"{log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not answer /_stcore/health within 60 s")
            time.sleep(0.3)
        yield url, proc, log_path
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        log.close()


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    """Base URL of `streamlit run app.py` started for this test session (headless, no file watcher)."""
    with serve_app(tmp_path_factory.mktemp("streamlit")) as (url, _, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which("chromium"):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (`make chromium` installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install -r requirements.txt)")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                               args=["--no-sandbox", "--disable-dev-shm-usage"])
    except Exception as e:  # a broken install should read as a skip with its reason, not a crash
        pw.stop()
        pytest.skip(f"could not launch Chromium: {e}")
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    yield p
    ctx.close()
