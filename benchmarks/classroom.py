"""Classroom load: N simulated students, each training a GAN live, against one real `streamlit run app.py`.

    python benchmarks/classroom.py [--students 30] [--seconds 60] [--arrive-s 5] [--ab] [--rounds 1] [--json]
    python benchmarks/classroom.py --abuse link|heavy|heavy2|tabs ...   (one curious student: benchmarks/abuse.py)
    python benchmarks/classroom.py --lesson mode-collapse [--lesson-step 1] ...   (the class follows a lesson the
        teacher paces, a Lesson tab per student beside the lab: benchmarks/lesson_class.py)

No browser: each student is a websocket client of `/_stcore/stream` that speaks Streamlit's own protocol as the
frontend does (BackMsg out, ForwardMsg in, protobufs from `streamlit.proto`):
  page load   BackMsg.rerun_script = ClientState{query_string (`--url-query`), page_script_hash "", page_name "",
              context_info, no widget states}
  Start       the same with page_script_hash (from `navigation`), the query string the server last set
              (`page_info_changed`), every widget state the student holds, plus {id: Start's id, trigger_value}
  fragments   for each `auto_rerun` ForwardMsg (fragment_id, interval) a timer that sends rerun_script with
              fragment_id and is_auto_rerun every interval, like the frontend's setInterval; a full run's
              `new_session` clears the timers, `stop_auto_rerun` stops some.
Widget states are replayed like the frontend's WidgetStateManager: a widget's value is the proto's value when
the server sets it (`set_value`), else the value the student already holds, else the proto's default;
buttons are triggers (sent once, never held); states of widgets absent from a finished full run are dropped.
No cached message hashes are sent, so the server never answers with `ref_hash` references.

Per student: G steps reached `--seconds` after its Start (parsed from the live view's `Run A · step N / M`
line), how often that counter moved (distinct N per second; share of 1-second windows in which N changed,
from Start and from the first step), time to the first step, the queue position seen, errors (exception
elements, error alerts, compile errors, page-not-found, disconnects). Rerun latency: from sending a
rerun_script to the `script_finished` of the run that served it (matched by the run identity in the
message metadata: a request is served by the first run of its kind whose `new_session` came after it was
sent; a full run also serves fragment requests it superseded). Server process (from /proc): CPU seconds per
thread kind, threads and RSS before the students come, while they train, and after they leave (polled until
the threads are back to the baseline or `--drain-s` pass).

Thread names: Python 3.11 does not give OS threads the names of `threading.Thread`s, so /proc/<pid>/task/*/comm
would say `python` for all of them. The server is therefore started through a small launcher that calls
prctl(PR_SET_NAME) with each Python thread's name as it starts (otherwise the same as `streamlit run`);
training threads are those whose name starts with `ganlab-` (job manager workers: `ganlab-job-N`, later
maybe `ganlab-worker-N`), except the reaper and the warm-up thread. Native threads inherit the name of the
thread that created them, so torch threads a worker starts count as training too. `--no-thread-names` skips
the launcher (then the training/other split reads 0 training).

The load generator runs in this process on the same machine: its own CPU time is reported (`client_cpu_s`);
`--pin` puts the server on the first CPU and this process on the others.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUERY = "preset=ring-collapse&compare=0"
AB_QUERY = "preset=ring-collapse&compare=1"
RUN_LINE = re.compile(r"^\s*(?:Run ([A-Z]) · step|Step) (\d+) / (\d+) · ([^·\n]+)")  # a lab's, or an Image GAN run's
QUEUED = re.compile(r"queued: position (\d+)")
DEVICE = re.compile(r"^Device: (.+)$")
TRAINING_THREAD = re.compile(r"^ganlab-(?!reaper|warm|train-poller)")
# widget elements whose state the frontend holds (buttons are triggers: sent once, never held)
WIDGETS = {"checkbox", "selectbox", "number_input", "text_input", "text_area", "radio", "slider", "multiselect",
           "date_input", "time_input", "date_time_input", "color_picker", "file_uploader", "camera_input",
           "audio_input", "chat_input", "button_group", "feedback", "pagination"}
_HZ = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- pure helpers ----------------------------------------------------------------------------------------
def parse_run_line(text: str) -> tuple[str, int, int, str] | None:
    """('A', N, M, status) from a live view line `Run A · step N / M · status · ...` (the Image GAN page's one run:
    `Step N / M · status · ...`, read as run A), else None."""
    m = RUN_LINE.match(text or "")
    if not m:
        return None
    return m.group(1) or "A", int(m.group(2)), int(m.group(3)), m.group(4).strip()


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default); None if empty."""
    xs = sorted(values)
    if not xs:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in 0..100, got {q}")
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """{n, min, p50, p95, max} of `values` (None entries when empty)."""
    r = lambda v: None if v is None else round(v, digits)  # noqa: E731
    return {"n": len(values), "min": r(min(values, default=None)), "p50": r(percentile(values, 50)),
            "p95": r(percentile(values, 95)), "max": r(max(values, default=None))}


def counter_stats(updates: Sequence[tuple[float, int]], t0: float, seconds: float) -> dict[str, Any]:
    """How a step counter moved in [t0, t0 + seconds): `updates` are (time seen, N) in time order.

    steps: the last N seen in the window (0 if none); distinct_per_s: distinct N values seen in the window per
    second; changed_share: share of whole 1-second windows from t0 in which N changed (differs from the value
    held when the window began); changed_share_live: the same from the first window that saw N > 0."""
    t1 = t0 + seconds
    inside = [(t, n) for t, n in updates if t0 <= t < t1]
    before = [n for t, n in updates if t < t0]
    held = before[-1] if before else None
    n_windows = int(seconds)
    changed, first_live = [], None
    it = iter(inside)
    nxt = next(it, None)
    for k in range(n_windows):
        end = t0 + k + 1
        moved = False
        while nxt is not None and nxt[0] < end:
            if nxt[1] != held:
                moved = True
            held = nxt[1]
            if first_live is None and held and held > 0:
                first_live = k
            nxt = next(it, None)
        changed.append(moved)
    live = changed[first_live:] if first_live is not None else []
    return {"steps": inside[-1][1] if inside else (before[-1] if before else 0),
            "distinct_per_s": round(len({n for _, n in inside}) / seconds, 3) if seconds > 0 else None,
            "changed_share": round(sum(changed) / n_windows, 3) if n_windows else None,
            "changed_share_live": round(sum(live) / len(live), 3) if live else 0.0,
            "first_step_s": next((round(t - t0, 2) for t, n in inside if n > 0), None)}


def budget_query(query: str, budget: int) -> str:
    """`query` with the preset's full config and a step budget of `budget` (a share link that trains longer)."""
    from ganlab.presets import PRESETS

    page, sep, query = query.rpartition("?")  # a page's name before "?" stays
    q = dict(parse_qsl(query, keep_blank_values=True))
    preset = q.get("preset", "ring-collapse")
    base = PRESETS[preset].config.replace(steps=budget)
    out = {"preset": preset, **base.to_query()}
    out.update({k: v for k, v in q.items() if k not in out and k != "steps"})
    return page + sep + urlencode(out)


# ---- the server process -----------------------------------------------------------------------------------
_LAUNCHER = r"""
import ctypes, sys, threading
try:
    _prctl = ctypes.CDLL(None).prctl
    _inner = threading.Thread._bootstrap_inner
    def _named(self):
        try:
            _prctl(15, self.name.encode("utf-8", "replace")[:15], 0, 0, 0)  # PR_SET_NAME
        except Exception:
            pass
        _inner(self)
    threading.Thread._bootstrap_inner = _named
except Exception:
    pass
from streamlit.web.cli import main
sys.argv = ["streamlit", *sys.argv[1:]]
main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_of(stat_path: str) -> float:
    with open(stat_path) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return (int(x[11]) + int(x[12])) / _HZ


def thread_kind(name: str, tid: int, pid: int) -> str:
    if TRAINING_THREAD.match(name):
        return "training"
    if name.startswith("ganlab-"):
        return "ganlab_other"
    if name.startswith("ScriptRunner"):
        return "script_runner"
    return "main" if tid == pid else "other"


@dataclass
class ProcSample:
    t: float
    total_cpu: float
    threads: int
    rss_mb: float
    per_thread: dict[int, tuple[str, str, float]]  # tid -> (name, kind, cpu seconds)
    rss_children_mb: float = 0.0  # of rss_mb: the server's child processes (the training process)

    @property
    def training_threads(self) -> int:
        return sum(1 for _, k, _ in self.per_thread.values() if k == "training")

    def names(self) -> list[str]:
        return sorted(n for n, _, _ in self.per_thread.values())


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (the training process, ganlab/jobs/train_process/)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def sample_process(pid: int) -> ProcSample:
    """The server and its child processes (kind "child": the training process does nothing else, so its CPU
    counts as training; its threads are compared with the baseline like the server's); CPU, threads and RSS are
    the sums."""
    per: dict[int, tuple[str, str, float]] = {}
    total_cpu = rss = rss_children = 0.0
    for proc in [pid, *child_pids(pid)]:
        try:
            for tid in os.listdir(f"/proc/{proc}/task"):
                try:
                    with open(f"/proc/{proc}/task/{tid}/comm") as f:
                        name = f.read().strip()
                    kind = thread_kind(name, int(tid), pid) if proc == pid else "child"
                    per[int(tid)] = (name if proc == pid else f"child:{name}", kind,
                                     _cpu_of(f"/proc/{proc}/task/{tid}/stat"))
                except (OSError, IndexError, ValueError):
                    pass  # the thread ended meanwhile
            with open(f"/proc/{proc}/statm") as f:
                mb = int(f.read().split()[1]) * _PAGE / 2**20
            rss += mb
            rss_children += mb if proc != pid else 0.0
            total_cpu += _cpu_of(f"/proc/{proc}/stat")
        except (OSError, IndexError, ValueError):
            if proc == pid:
                raise
    return ProcSample(time.monotonic(), total_cpu, len(per), rss, per, rss_children)


def extra_threads(now: ProcSample, baseline: ProcSample) -> list[str]:
    """Names of the threads `now` has beyond `baseline` (as a multiset of names)."""
    left = baseline.names()
    extra = []
    for n in now.names():
        if n in left:
            left.remove(n)
        else:
            extra.append(n)
    return extra


STREAMLIT_WATCHER_POOL = 4  # streamlit.watcher.polling_path_watcher._MAX_WORKERS


def settled(now: ProcSample, baseline: ProcSample) -> bool:
    """No training thread left and no thread beyond the baseline, except the job manager's reaper (started with
    the first run, it stays for the life of the process) and Streamlit's own polling pool: Streamlit polls its
    two config.toml paths every 0.2 s on a ThreadPoolExecutor of at most 4 threads, which gains a thread now
    and then whatever the app does (a task resubmits itself before its thread is idle). Those are reported
    (`extra_threads`) but bounded by Streamlit, not by ganlab."""
    pool = sum(1 for n in now.names() if n.startswith("ThreadPoolExecu"))
    return now.training_threads == 0 and all(
        n == "ganlab-reaper" or (n.startswith("ThreadPoolExecu") and pool <= STREAMLIT_WATCHER_POOL)
        for n in extra_threads(now, baseline))


class CpuMeter:
    """CPU seconds of a process between its first and last sample, per kind of thread: a thread's share is its
    CPU time at its last sample minus that at its first (0 if it started after the first). Threads that live
    shorter than the sampling period (a script run's ScriptRunner thread) and the last moments of threads that
    end between two samples are not attributed to a thread: they are in `unattributed`."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[ProcSample] = []
        self._last: dict[int, tuple[str, float]] = {}
        self._first: dict[int, float] = {}

    def add(self) -> ProcSample:
        s = sample_process(self.pid)
        for tid, (_, kind, cpu) in s.per_thread.items():
            self._first.setdefault(tid, cpu if not self.samples else 0.0)
            self._last[tid] = (kind, cpu)
        self.samples.append(s)
        return s

    def split(self) -> dict[str, float]:
        """{total, training, rest (= total - training), main_thread, script_runner, ganlab_other, other_threads,
        unattributed, wall_s}, in CPU seconds."""
        if len(self.samples) < 2:
            return {}
        by = {"training": 0.0, "main": 0.0, "script_runner": 0.0, "ganlab_other": 0.0, "other": 0.0}
        child = 0.0
        for tid, (kind, cpu) in self._last.items():
            by["training" if kind == "child" else kind] += cpu - self._first.get(tid, 0.0)
            child += (cpu - self._first.get(tid, 0.0)) if kind == "child" else 0.0
        total = self.samples[-1].total_cpu - self.samples[0].total_cpu
        r = lambda v: round(v, 2)  # noqa: E731
        return {"total": r(total), "training": r(by["training"]), "training_process": r(child),
                "rest": r(total - by["training"]),
                "main_thread": r(by["main"]), "script_runner": r(by["script_runner"]),
                "ganlab_other": r(by["ganlab_other"]), "other_threads": r(by["other"]),
                "unattributed": r(max(0.0, total - sum(by.values()))),
                "wall_s": r(self.samples[-1].t - self.samples[0].t)}


class Server:
    """`streamlit run app.py` on 127.0.0.1:port in its own process group; close() kills the group."""

    def __init__(self, port: int | None = None, torch_threads: str | None = "1", cpus: set[int] | None = None,
                 thread_names: bool = True, env: dict[str, str] | None = None, start_timeout: float = 90):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="ganlab-classroom-", suffix=".log", delete=False)
        args = ["run", "app.py", "--server.headless", "true", "--server.port", str(self.port), "--server.address",
                "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        cmd = [sys.executable, "-c", _LAUNCHER, *args] if thread_names else [sys.executable, "-m", "streamlit", *args]
        full_env = {**os.environ, **(env or {})}
        self._store_dir = None
        if not full_env.get("GANLAB_DATA_DIR"):  # the run store goes to a temporary folder, not the user's data
            self._store_dir = tempfile.mkdtemp(prefix="ganlab-bench-store-")
            full_env["GANLAB_DATA_DIR"] = self._store_dir
        if torch_threads is not None:
            full_env["GANLAB_TORCH_THREADS"] = str(torch_threads)
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
                                     start_new_session=True, preexec_fn=pin)
        try:
            self._wait_healthy(start_timeout)
        except BaseException:
            self.close()
            raise
        self.start_s = time.monotonic() - t0

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 2000) -> str:
        return self.log_text()[-n:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        if self._store_dir:
            shutil.rmtree(self._store_dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- one student: Streamlit's websocket protocol ----------------------------------------------------------
def _widget_state(kind: str, w: Any, held: Any) -> Any | None:
    """The WidgetState the frontend would hold for widget proto `w` of element type `kind` (None: unsupported).

    `held`: the state the student already holds for this id (or None). The frontend keeps a held value unless
    the server sets one (`set_value`); a new widget starts at its default."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    if held is not None and not getattr(w, "set_value", False):
        return held
    s = WidgetState(id=w.id)
    if kind == "checkbox":
        s.bool_value = w.value if w.set_value else w.default
    elif kind == "selectbox":
        if w.set_value:
            if w.HasField("raw_value"):
                s.string_value = w.raw_value
        elif w.HasField("default") and len(w.options):
            s.string_value = w.options[w.default]
    elif kind == "number_input":
        v = (w.value if w.HasField("value") else None) if w.set_value else (
            w.default if w.HasField("default") else None)
        if v is not None:
            if w.data_type == type(w).DataType.INT:
                s.int_value = int(v)
            else:
                s.double_value = v
    elif kind in ("text_input", "text_area"):
        v = (w.value if w.HasField("value") else None) if w.set_value else (
            w.default if w.HasField("default") else None)
        if v is not None:
            s.string_value = v
    else:
        return None
    return s


@dataclass
class Student:
    idx: int
    port: int
    query: str
    seconds: float
    load_timeout: float = 60.0
    reset_on_leave: bool = False
    source: str | None = None  # the loopback address this student connects from (127.0.0.2, ...); None: any
    cookie: str | None = None  # an owner id sent as the browser's `ganlab_owner` cookie (None: a new student)
    page_name: str = ""  # the page's URL path ("latent_space", "class"); "" is the app's default page
    # what the student saw
    steps: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # run -> (time, N)
    budget: dict[str, int] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    queue_positions: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    latencies: list[tuple[str, float]] = field(default_factory=list)  # ("full" | "fragment", seconds)
    device: str | None = None
    t_start: float | None = None
    t_left: float | None = None  # when the student began to close its connection
    page_load_s: float | None = None
    unsupported: set[str] = field(default_factory=set)
    sent: dict[str, int] = field(default_factory=lambda: {"full": 0, "fragment": 0})
    bytes_in: int = 0
    msgs_in: int = 0
    interrupted: int = 0  # requests whose run ended early for the next rerun (never finished)

    def __post_init__(self):
        if "?" in self.query:  # "image_gan?preset=mnist-mlp&compare=0": a page other than the app's default
            self.page_name, self.query = self.query.split("?", 1)
        self._widgets: dict[str, Any] = {}
        self._seen: set[str] = set()
        self._buttons: dict[str, tuple[str, bool]] = {}  # label -> (widget id, disabled)
        self._page_hash = ""
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._pending: dict[str, list[float]] = {}  # "" = full run, else fragment id -> send times
        self._run_seen: dict[str, float] = {}  # key -> when the current run's new_session arrived
        self._every: dict[str, float] = {}  # fragment id -> its run_every interval
        self.fragment_runs: dict[str, dict[str, int]] = {}  # "every 0.5 s" -> {finished, interrupted}
        self._ws = None
        self._loaded: asyncio.Event | None = None
        self._full_done: asyncio.Event | None = None
        self._leaving = False

    # -- sending --
    def _client_state(self, fragment_id: str = "", auto: bool = False):
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo

        cs = ClientState(query_string=self.query, page_script_hash=self._page_hash,
                         page_name="" if self._page_hash else self.page_name,
                         fragment_id=fragment_id, is_auto_rerun=auto,
                         context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US",
                                                  url=f"http://127.0.0.1:{self.port}/{self.page_name}?{self.query}",
                                                  is_embedded=False, color_scheme="light"))
        cs.widget_states.widgets.extend(self._widgets.values())
        return cs

    async def _rerun(self, fragment_id: str = "", auto: bool = False, trigger: str | None = None) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        cs = self._client_state(fragment_id, auto)
        if trigger is not None:
            cs.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        self._pending.setdefault(fragment_id, []).append(time.monotonic())
        self.sent["fragment" if fragment_id else "full"] += 1
        await self._ws.send(BackMsg(rerun_script=cs).SerializeToString())

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """The frontend's setInterval for a fragment with run_every."""
        t = time.monotonic()
        while True:
            t += interval
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            await self._rerun(fragment_id, auto=True)

    def _stop_timers(self, ids: Iterable[str] | None = None) -> None:
        for fid in list(self._timers if ids is None else ids):
            held = self._timers.pop(fid, None)
            if held is not None:
                held[1].cancel()

    # -- receiving --
    def _answer(self, key: str, kind: str | None, started: float | None, now: float) -> int:
        """Requests of `key` sent before the run that just ended began (all, when its start is unknown) are
        answered: their latency is recorded under `kind` (None: dropped). Returns how many."""
        sent = self._pending.get(key, [])
        keep = [t for t in sent if started is not None and t > started]
        if kind is not None:
            self.latencies += [(kind, now - t) for t in sent if started is None or t <= started]
        self._pending[key] = keep
        return len(sent) - len(keep)

    def _count_fragment_run(self, fid: str, outcome: str) -> None:
        every = self._every.get(fid)
        label = f"every {every:g} s" if every is not None else "no run_every"
        runs = self.fragment_runs.setdefault(label, {"finished": 0, "interrupted": 0})
        runs[outcome] += 1

    def _element(self, delta, now: float) -> None:
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind is None:
            return
        w = getattr(el, kind)
        if kind in ("markdown", "text"):
            body = w.body
            run = parse_run_line(body)
            if run:
                name, n, m, status = run
                self.steps.setdefault(name, []).append((now, n))
                self.budget[name], self.status[name] = m, status
            elif self.device is None and (d := DEVICE.match(body)):
                self.device = d.group(1)
        elif kind == "alert":
            if w.format == type(w).Format.ERROR:
                self.errors.append(f"error alert: {w.body[:200]}")
            elif (q := QUEUED.search(w.body)) is not None:
                self.queue_positions.append(int(q.group(1)))
        elif kind == "exception":
            self.errors.append(f"exception: {w.type}: {w.message[:200]}")
        elif kind == "button":
            self._buttons[w.label] = (w.id, w.disabled)
        elif kind in WIDGETS:
            if getattr(w, "form_id", ""):
                return  # form widgets are sent with the form's submit; this page has none
            self._seen.add(w.id)
            s = _widget_state(kind, w, self._widgets.get(w.id))
            if s is None:
                self.unsupported.add(kind)
            else:
                self._widgets[w.id] = s

    def _handle(self, data: bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        now = time.monotonic()
        msg = ForwardMsg()
        msg.ParseFromString(data)
        self.bytes_in += len(data)
        self.msgs_in += 1
        kind = msg.WhichOneof("type")
        if kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta, now)
        elif kind == "new_session":
            fids = list(msg.metadata.run.fragment_ids)
            for key in fids or [""]:
                self._run_seen[key] = now
            if not fids:  # a full run: the frontend drops its run_every timers; this run sets them again
                self._stop_timers()
                self._seen = set()
                self._buttons = {}
                if msg.new_session.page_script_hash:
                    self._page_hash = msg.new_session.page_script_hash
        elif kind == "navigation":
            if msg.navigation.page_script_hash:
                self._page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            fid, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            held = self._timers.get(fid)
            self._every[fid] = every
            if fid and not self._leaving and (held is None or held[0] != every):
                self._stop_timers([fid])
                self._timers[fid] = (every, asyncio.get_running_loop().create_task(self._tick(fid, every)))
        elif kind == "stop_auto_rerun":
            self._stop_timers(msg.stop_auto_rerun.fragment_ids)
        elif kind == "script_finished":
            status = msg.script_finished
            fids = list(msg.metadata.run.fragment_ids)
            if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                started = self._run_seen.get("")
                self._answer("", "full", started, now)
                for key in [k for k in self._pending if k]:  # fragment requests this full run superseded
                    self._answer(key, "fragment", started, now)
                self._widgets = {k: v for k, v in self._widgets.items() if k in self._seen}
                if self.page_load_s is None and self.latencies:
                    self.page_load_s = round(self.latencies[0][1], 3)
                if "Start" in self._buttons and self._loaded is not None:
                    self._loaded.set()
                if self._full_done is not None:
                    self._full_done.set()
            elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                for key in fids:
                    self._answer(key, "fragment", self._run_seen.get(key), now)
                    self._count_fragment_run(key, "finished")
            elif status == ForwardMsg.FINISHED_EARLY_FOR_RERUN and fids:
                # a fragment run stopped by the next rerun request: Streamlit does not run it again, so its
                # requests end here, unfinished (not in the latencies). A full run stopped early: its requests
                # wait for the run that replaces it.
                for key in fids:
                    self.interrupted += self._answer(key, None, self._run_seen.get(key), now)
                    self._count_fragment_run(key, "interrupted")
            elif status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.errors.append("script_finished: compile error")
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            e = msg.session_event.script_compilation_exception
            self.errors.append(f"compile exception: {e.type}: {e.message[:200]}")
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name}")

    async def _receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for data in self._ws:
                if isinstance(data, bytes):
                    self._handle(data)
        except ConnectionClosed as e:
            if not self._leaving:
                self.errors.append(f"disconnected by the server: {e}")
            return
        if not self._leaving:
            self.errors.append("disconnected by the server")

    async def run(self, delay: float = 0.0, press_start: bool = True) -> None:
        """Arrive after `delay`, open the page, press Start, stay `seconds`, leave. Errors are recorded, not raised.
        Without `press_start`: leave once the page has loaded."""
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        await asyncio.sleep(delay)
        self._loaded, self._full_done = asyncio.Event(), asyncio.Event()
        try:
            async with connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=[Subprotocol("streamlit")],
                               max_size=None, ping_interval=None, proxy=None, open_timeout=30,
                               close_timeout=5, **({"local_addr": (self.source, 0)} if self.source else {}),
                               **({"additional_headers": {"Cookie": f"ganlab_owner={self.cookie}"}}
                                  if self.cookie else {})) as ws:
                self._ws = ws
                receiver = asyncio.create_task(self._receive())
                try:
                    await self._session(receiver, press_start)
                finally:
                    self._leaving = True  # from here on, the connection closing is us leaving
                    self.t_left = time.monotonic()
                    self._stop_timers()
                    receiver.cancel()
        except Exception as e:  # connection refused, handshake timeout, a send after the server hung up
            if not any(x.startswith("disconnected") for x in self.errors):
                self.errors.append(f"connection: {type(e).__name__}: {e}")

    async def _session(self, receiver: asyncio.Task, press_start: bool) -> None:
        await self._rerun()  # page load
        if not press_start:
            await self._until(self._full_done, receiver, self.load_timeout)
            return
        if not await self._until(self._loaded, receiver, self.load_timeout):
            if not receiver.done():
                self.errors.append(f"no Start button within {self.load_timeout:.0f} s of opening the page")
            return
        start_id, disabled = self._buttons["Start"]
        if disabled:
            self.errors.append("the Start button is disabled")
            return
        self.t_start = time.monotonic()
        await self._rerun(trigger=start_id)
        await self._until(None, receiver, self.seconds)
        if self.reset_on_leave and "Reset" in self._buttons and not receiver.done():
            self._full_done.clear()
            await self._rerun(trigger=self._buttons["Reset"][0])
            await self._until(self._full_done, receiver, 15)

    @staticmethod
    async def _until(event: asyncio.Event | None, receiver: asyncio.Task, timeout: float) -> bool:
        """Wait for `event` (None: just wait `timeout`) unless the connection ends first; True when it fired."""
        waiter = asyncio.ensure_future(event.wait() if event is not None else asyncio.sleep(timeout))
        try:
            done, _ = await asyncio.wait({waiter, receiver}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        return event is not None and event.is_set()

    # -- the report --
    def report(self) -> dict[str, Any]:
        runs = {}
        for name in sorted(self.steps):
            st = counter_stats(self.steps[name], self.t_start, self.seconds) if self.t_start else {"steps": 0}
            ns = [n for _, n in self.steps[name]]
            runs[name] = {**st, "budget": self.budget.get(name), "status": self.status.get(name),
                          "monotonic": all(b >= a for a, b in zip(ns, ns[1:]))}
        pending = sum(len(v) for v in self._pending.values())
        return {"student": self.idx, "started": self.t_start is not None, "runs": runs,
                "page_load_s": self.page_load_s, "max_queue_position": max(self.queue_positions, default=None),
                "reruns_sent": dict(self.sent), "reruns_unanswered": pending, "reruns_interrupted": self.interrupted,
                "fragment_runs": self.fragment_runs, "errors": self.errors,
                "unsupported_widgets": sorted(self.unsupported), "mb_received": round(self.bytes_in / 2**20, 2),
                "messages_received": self.msgs_in}


# ---- a round: students arrive, train, leave ---------------------------------------------------------------
def _summarize_students(students: list[Student], seconds: float) -> dict[str, Any]:
    reports = [s.report() for s in students]
    letters = sorted({k for r in reports for k in r["runs"]}) or ["A"]
    runs = {}
    for name in letters:
        got = [r["runs"].get(name, {}) for r in reports]
        steps = [g.get("steps", 0) for g in got]
        budget = max((g.get("budget") or 0 for g in got), default=0)
        runs[name] = {
            "steps": spread(steps, 1), "steps_per_60s_median": round(statistics.median(steps) * 60 / seconds, 1),
            "capped_at_budget": sum(1 for s in steps if budget and s >= budget), "budget": budget or None,
            "distinct_per_s": spread([g.get("distinct_per_s") or 0 for g in got]),
            "changed_share": spread([g.get("changed_share") or 0 for g in got]),
            "changed_share_live": spread([g.get("changed_share_live") or 0 for g in got]),
            "first_step_s": spread([g["first_step_s"] for g in got if g.get("first_step_s") is not None], 2),
            "never_stepped": sum(1 for g in got if not g.get("steps")),
        }
    lat = [v for s in students for _, v in s.latencies]
    errors = [e for r in reports for e in r["errors"]]
    return {
        "runs": runs,
        "latency_s": {"all": spread(lat), "full": spread([v for s in students for k, v in s.latencies if k == "full"]),
                      "fragment": spread([v for s in students for k, v in s.latencies if k == "fragment"])},
        "page_load_s": spread([r["page_load_s"] for r in reports if r["page_load_s"] is not None]),
        "queued_students": sum(1 for r in reports if r["max_queue_position"]),
        "max_queue_position": max((r["max_queue_position"] or 0 for r in reports), default=0),
        "students_started": sum(1 for r in reports if r["started"]),
        "errors_total": len(errors), "errors_distinct": sorted(set(e[:160] for e in errors))[:10],
        "disconnects": sum(1 for e in errors if e.startswith("disconnected")),
        "reruns_sent": {k: sum(r["reruns_sent"][k] for r in reports) for k in ("full", "fragment")},
        "reruns_unanswered": sum(r["reruns_unanswered"] for r in reports),
        "reruns_interrupted": sum(r["reruns_interrupted"] for r in reports),
        "fragment_runs": _add_counts(r["fragment_runs"] for r in reports),
        "unsupported_widgets": sorted({w for r in reports for w in r["unsupported_widgets"]}),
        "mb_received": round(sum(r["mb_received"] for r in reports), 1),
        "device": next((s.device for s in students if s.device), None),
        "per_student": reports,
    }


def _add_counts(dicts: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for d in dicts:
        for label, counts in d.items():
            for k, v in counts.items():
                out.setdefault(label, {}).setdefault(k, 0)
                out[label][k] += v
    return out


def _proc_view(s: ProcSample) -> dict[str, Any]:
    return {"threads": s.threads, "rss_mb": round(s.rss_mb, 1), "rss_children_mb": round(s.rss_children_mb, 1),
            "training_threads": s.training_threads}


async def _sample_every(meter: CpuMeter, period: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            meter.add()
        except OSError:
            return
        try:
            await asyncio.wait_for(stop.wait(), period)
        except asyncio.TimeoutError:
            pass


async def run_round(server: Server, n: int, seconds: float, arrive_s: float, query: str, baseline: ProcSample,
                    drain_s: float = 60.0, load_timeout: float = 60.0, reset_on_leave: bool = False,
                    seed: int = 0, lesson: Any = None, log: Log = _stderr) -> dict[str, Any]:
    """n students arrive over `arrive_s` (evenly spaced, shuffled order), train `seconds` after their Start and
    leave; then the server is polled until its threads are back to `baseline` or `drain_s` pass.

    lesson: a benchmarks.lesson_class.LessonClass (the teacher has paced the class already): each student first
    records a prediction in a Lesson tab, which stays open beside the lab tab (same owner cookie); after they
    leave, the Class page's tally is read (report key "lesson")."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    students = [Student(i, server.port, query, seconds, load_timeout, reset_on_leave,
                        cookie=lesson.cookie() if lesson else None, page_name=lesson.plan.page if lesson else "")
                for i in range(n)]
    meter = CpuMeter(server.pid)
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_every(meter, 1.0, stop))
    c0, t0 = time.process_time(), time.monotonic()
    log(f"  {n} student(s) arriving over {arrive_s:g} s, {seconds:g} s of training each")
    arrive = [arrive_s * k / max(n, 1) for k in order]
    tasks = [asyncio.create_task(lesson.attend(s, at) if lesson else s.run(at)) for at, s in zip(arrive, students)]
    progress = asyncio.create_task(_progress(students, t0, log))
    try:
        await asyncio.gather(*tasks)
    finally:
        progress.cancel()
        stop.set()
        await sampler
    client_cpu = time.process_time() - c0
    meter.add()
    during = meter.samples
    cpu = meter.split()
    # after they leave: poll until the threads are back to the baseline (or drain_s pass), timed from the moment
    # the last student began to close its connection
    t_left = max((s.t_left for s in students if s.t_left is not None), default=time.monotonic())
    tally = await lesson.tally(server.port) if lesson else None  # while the runs are still listed (grace period)
    after, returned, no_training = sample_process(server.pid), None, None
    while time.monotonic() - t_left < drain_s:
        after = sample_process(server.pid)
        if no_training is None and after.training_threads == 0:
            no_training = round(time.monotonic() - t_left, 1)
        if settled(after, baseline):
            returned = round(time.monotonic() - t_left, 1)
            break
        await asyncio.sleep(0.5)
    out = _summarize_students(students, seconds)
    out["server"] = {
        "cpu_s": cpu,
        "training_cpu_share": round(cpu.get("training", 0) / cpu["total"], 3) if cpu.get("total") else None,
        "during": {"threads_max": max(s.threads for s in during), "rss_mb_max": round(max(s.rss_mb for s in during), 1),
                   "training_threads_max": max(s.training_threads for s in during),
                   "threads_mean": round(statistics.mean(s.threads for s in during), 1)},
        "after": {**_proc_view(after), "returned_to_baseline_s": returned, "training_threads_gone_s": no_training,
                  "extra_threads": extra_threads(after, baseline), "polled_s": drain_s},
    }
    out["client_cpu_s"] = round(client_cpu, 1)
    out["wall_s"] = round(t_left - t0, 1)
    if lesson:
        out["lesson"] = {**lesson.summary(), "class_tally": tally}
    return out


async def _progress(students: list[Student], t0: float, log: Log) -> None:
    while True:
        await asyncio.sleep(10)
        started = sum(1 for s in students if s.t_start)
        steps = [s.steps["A"][-1][1] for s in students if s.steps.get("A")]
        med = statistics.median(steps) if steps else 0
        log(f"  t={time.monotonic() - t0:5.0f} s: {started}/{len(students)} pressed Start, {len(steps)} see steps "
            f"(median step {med:.0f}), errors {sum(len(s.errors) for s in students)}")


async def _warm_up(server: Server, query: str, log: Log) -> None:
    """One visit without Start, so the baseline is a server that has run the app once (torch imported)."""
    s = Student(-1, server.port, query, seconds=0, load_timeout=120)
    await s.run(press_start=False)
    if s.errors:
        log(f"  warm-up visit: {s.errors}")


async def classroom(students: int = 30, seconds: float = 60, arrive_s: float = 5, query: str = DEFAULT_QUERY,
                    rounds: int = 1, port: int | None = None, torch_threads: str | None = "1", pin: bool = False,
                    thread_names: bool = True, drain_s: float = 60, load_timeout: float = 60,
                    warm_up: bool = True, solo_first: bool = False, env: dict[str, str] | None = None,
                    lesson: Any = None, log: Log = _stderr) -> dict[str, Any]:
    """Start the server, run `rounds` rounds on it, stop it; the whole report as a dict.

    solo_first: a first round of one student (who presses Reset before leaving) as the yardstick.
    lesson: a benchmarks.lesson_class.LessonClass: its teacher paces the class before the baseline is taken,
    and every round's students follow it (run_round)."""
    mine = os.sched_getaffinity(0)
    server_cpus = None
    if pin:
        cpus = sorted(mine)
        if len(cpus) < 2:
            raise SystemExit("--pin needs at least two CPUs")
        server_cpus = {cpus[0]}
        os.sched_setaffinity(0, set(cpus[1:]))
    try:
        return await _classroom(students, seconds, arrive_s, query, rounds, port, torch_threads, server_cpus,
                                thread_names, drain_s, load_timeout, warm_up, solo_first, env, lesson, log)
    finally:
        os.sched_setaffinity(0, mine)


async def _classroom(students, seconds, arrive_s, query, rounds, port, torch_threads, server_cpus, thread_names,
                     drain_s, load_timeout, warm_up, solo_first, env, lesson, log) -> dict[str, Any]:
    pin = server_cpus is not None
    if lesson is not None:
        env = {**(env or {}), **lesson.env}
    log(f"starting streamlit (query {query!r})")
    with Server(port, torch_threads, server_cpus, thread_names, env) as server:
        log(f"  server pid {server.pid} on port {server.port}, healthy after {server.start_s:.1f} s")
        cold = sample_process(server.pid)
        if warm_up:
            await _warm_up(server, query, log)
            await asyncio.sleep(2)
        paced = None
        if lesson is not None:
            log(f"  the teacher starts lesson {lesson.plan.lesson!r} and moves the class to step {lesson.plan.step}")
            paced = await lesson.pace(server.port)
            await asyncio.sleep(2)
        baseline = sample_process(server.pid)
        out: dict[str, Any] = {
            "students": students, "seconds": seconds, "arrive_s": arrive_s, "query": query, "rounds": rounds,
            "torch_threads": torch_threads, "pinned": pin,
            "cpus": len(os.sched_getaffinity(0)) + (len(server_cpus) if pin else 0),
            "load_average_1min": round(os.getloadavg()[0], 2), "server_start_s": round(server.start_s, 1),
            "thread_names": "launcher" if thread_names else "none",
            "server_cold": _proc_view(cold),
            "server_before": {**_proc_view(baseline), "thread_names": baseline.names()}}
        if paced is not None:
            out["lesson_paced"] = paced
        if solo_first:
            log("solo round: one student alone")
            out["solo"] = await run_round(server, 1, seconds, 0, query, baseline, drain_s, load_timeout,
                                          reset_on_leave=True, log=log)
        out["per_round"] = []
        for r in range(rounds):
            log(f"round {r + 1}/{rounds}")
            res = await run_round(server, students, seconds, arrive_s, query, baseline, drain_s, load_timeout,
                                  seed=r, lesson=lesson, log=log)
            out["per_round"].append(res)
            log(_round_line(res))
        tracebacks = server.log_text().count("Traceback (most recent call last)")
        out["server_log_tracebacks"] = tracebacks
        if tracebacks:
            out["server_log_tail"] = server.log_tail(1500)
    out["device"] = next((r["device"] for r in out["per_round"] if r.get("device")), None)
    out["memory_growth"] = [{"round": i + 1, **r["server"]["after"]} for i, r in enumerate(out["per_round"])]
    return out


def _round_line(r: dict[str, Any]) -> str:
    lines = []
    for name, run in r["runs"].items():
        s = run["steps"]
        lines.append(f"  run {name}: steps after the window min/median/max {s['min']:.0f}/{s['p50']:.0f}/"
                     f"{s['max']:.0f} (budget {run['budget']}, {run['capped_at_budget']} capped, "
                     f"{run['never_stepped']} never stepped); counter moved in "
                     f"{100 * (run['changed_share']['p50'] or 0):.0f} % of 1-s windows (median student), "
                     f"{100 * (run['changed_share_live']['p50'] or 0):.0f} % once stepping")
    lat, srv = r["latency_s"]["all"], r["server"]
    cpu = srv["cpu_s"]
    lines.append(f"  rerun latency p50/p95/max {lat['p50']}/{lat['p95']}/{lat['max']} s over {lat['n']} reruns "
                 f"({r['reruns_interrupted']} fragment reruns interrupted, {r['reruns_unanswered']} unanswered at "
                 f"leave; fragment runs {r['fragment_runs']}); "
                 f"errors {r['errors_total']} (disconnects {r['disconnects']}); queued students "
                 f"{r['queued_students']} (max position {r['max_queue_position']})")
    if "lesson" in r:
        from benchmarks.lesson_class import round_line

        lines.append(round_line(r["lesson"]))
    lines.append(f"  server CPU {cpu.get('total')} s in {cpu.get('wall_s')} s: training {cpu.get('training')} s, "
                 f"rest {cpu.get('rest')} s (main thread {cpu.get('main_thread')}, unattributed "
                 f"{cpu.get('unattributed')}); threads max {srv['during']['threads_max']} "
                 f"(training {srv['during']['training_threads_max']}), RSS max {srv['during']['rss_mb_max']} MB; "
                 f"after: {srv['after']['threads']} threads, {srv['after']['rss_mb']} MB, back to baseline after "
                 f"{srv['after']['returned_to_baseline_s']} s; client CPU {r['client_cpu_s']} s")
    return "\n".join(lines)


# ---- command line and bench hook -------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from benchmarks import abuse  # its modes reuse this module's server and students

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long each student stays after pressing Start")
    ap.add_argument("--arrive-s", type=float, default=5.0, help="students arrive evenly over this many seconds")
    ap.add_argument("--url-query", default=None, help=f"the page's query string (default {DEFAULT_QUERY!r}); "
                    "PAGE?QUERY opens another page, e.g. 'image_gan?preset=mnist-mlp&compare=0'")
    ap.add_argument("--ab", action="store_true", help=f"runs A and B: query {AB_QUERY!r}")
    ap.add_argument("--budget", type=int, default=None,
                    help="give the preset's runs this step budget (the link then carries the preset's config)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of arrive-train-leave on one server")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--torch-threads", default="1", help="GANLAB_TORCH_THREADS for the server ('' to leave unset)")
    ap.add_argument("--pin", action="store_true", help="server on the first CPU, the students on the others")
    ap.add_argument("--drain-s", type=float, default=60.0, help="after the students leave, wait at most this long "
                                                                  "for the server's threads to return to the baseline")
    ap.add_argument("--load-timeout", type=float, default=60.0, help="give up on a page that shows no Start by then")
    ap.add_argument("--no-warm-up", action="store_true", help="no warm-up visit before the baseline")
    ap.add_argument("--no-thread-names", action="store_true", help="start the server without the naming launcher")
    ap.add_argument("--solo", action="store_true", help="first a round with one student alone (the yardstick)")
    ap.add_argument("--lesson", default=None, metavar="ID",
                    help="the class follows this lesson (e.g. mode-collapse): a teacher paces it to --lesson-step, "
                         "each student records a prediction in a Lesson tab that stays open, then opens the step's "
                         "link (benchmarks/lesson_class.py)")
    ap.add_argument("--lesson-step", type=int, default=1, metavar="K", help="the step the teacher moves the class "
                                                                           "to, 1-based (default 1)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout (progress goes to stderr)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    abuse.add_arguments(ap)
    a = ap.parse_args(argv)
    if a.abuse:
        return _abuse_main(abuse, a, ap)
    if a.students < 1 or a.seconds < 1 or a.rounds < 1 or a.arrive_s < 0:
        ap.error("--students, --seconds and --rounds must be at least 1, --arrive-s at least 0")
    query = a.url_query or (AB_QUERY if a.ab else DEFAULT_QUERY)
    lesson = None
    if a.lesson:
        from benchmarks import lesson_class

        if a.url_query or a.ab:
            ap.error("--lesson opens the step's own link: leave out --url-query and --ab")
        try:
            lesson = lesson_class.LessonClass(lesson_class.plan(a.lesson, a.lesson_step), secrets.token_hex(8))
        except ValueError as e:
            ap.error(str(e))
        query = lesson.plan.query
    if a.budget:
        sys.path.insert(0, str(ROOT))
        query = budget_query(query, a.budget)
    out = asyncio.run(classroom(a.students, a.seconds, a.arrive_s, query, a.rounds, a.port, a.torch_threads or None,
                                a.pin, not a.no_thread_names, a.drain_s, a.load_timeout, not a.no_warm_up, a.solo,
                                lesson=lesson))
    return _emit(out, a)


def _emit(out: dict[str, Any], a: argparse.Namespace) -> dict[str, Any]:
    """The report as JSON: into `--out`, and on stdout with `--json`."""
    text = json.dumps(out, indent=1)
    if a.out:
        a.out.write_text(text + "\n")
    if a.json:
        print(text)
    return out


def _abuse_main(abuse: Any, a: argparse.Namespace, ap: argparse.ArgumentParser) -> dict[str, Any]:
    """`--abuse MODE` (benchmarks/abuse.py): its report, summary lines on stderr, JSON as the classroom run's."""
    o = abuse.options(a, ap)
    out = asyncio.run(abuse.run(o))
    for line in abuse.summary_lines(out):
        _stderr(line)
    return _emit(out, a)


DEFAULT = True  # `ganlab bench` runs case "classroom" by default (about two minutes)


def measure(opts: dict) -> list[dict]:
    """bench.py's case `classroom`: one student alone for 20 s, then 10 students (arriving over 5 s) for 20 s each,
    on one server, runs with a 1,000,000-step budget so nobody stops early.

    ratio = median G steps a student of the ten reached in its 20 s / steps the lone student reached in its 20 s
    (both 20 s windows, so the same in 60-s-normalised terms): 1.0 = a class trains as fast per student as one
    student alone; 0.1 = ten students share one student's speed; near 0 = most of the class waits in a queue.
    mean_ratio (mean instead of median) is the class's total training speed per student, whoever got it."""
    sys.path.insert(0, str(ROOT))
    threads = (opts.get("threads") or [1])[0]
    env = {"CUDA_VISIBLE_DEVICES": ""} if opts.get("device") == "cpu" else None
    n, seconds = 10, 20.0
    out = asyncio.run(classroom(n, seconds, 5.0, budget_query(DEFAULT_QUERY, 1_000_000), 1,
                                torch_threads=str(threads), solo_first=True, env=env))
    r, solo = out["per_round"][0], out["solo"]
    med = r["runs"]["A"]["steps"]["p50"] or 0
    alone = solo["runs"].get("A", {}).get("steps", {}).get("p50") or 0
    dev = out.get("device") or ""
    lat = r["latency_s"]["all"]
    steps = [p["runs"].get("A", {}).get("steps", 0) for p in r["per_student"]]
    return [{"case": "classroom", "ratio": round(med / alone, 3) if alone else None,
             "mean_ratio": round(statistics.mean(steps) / alone, 3) if alone else None,
             "device": "cpu" if dev.startswith("CPU") or not dev else dev.removeprefix("CUDA: "),
             "threads": threads, "students": n, "seconds": seconds,
             "solo_steps": alone, "median_steps": med, "min_steps": r["runs"]["A"]["steps"]["min"],
             "max_steps": r["runs"]["A"]["steps"]["max"], "never_stepped": r["runs"]["A"]["never_stepped"],
             "changed_share_median": r["runs"]["A"]["changed_share"]["p50"],
             "latency_p50_s": lat["p50"], "latency_p95_s": lat["p95"], "latency_max_s": lat["max"],
             "errors": r["errors_total"] + solo["errors_total"], "server_cpu_s": r["server"]["cpu_s"],
             "threads_before": out["server_before"]["threads"], "threads_after": r["server"]["after"]["threads"],
             "returned_to_baseline_s": r["server"]["after"]["returned_to_baseline_s"],
             "load_average_1min": out["load_average_1min"]}]


if __name__ == "__main__":
    main()
