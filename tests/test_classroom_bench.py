"""benchmarks/classroom.py: its parsers and protocol handling (pure), and two students against a real server."""
from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput

from benchmarks import classroom as cb


# ---- parsers and helpers ----------------------------------------------------------------------------------
def test_parse_run_line():
    assert cb.parse_run_line("Run A · step 350 / 2000 · running · 120 steps/s") == ("A", 350, 2000, "running")
    assert cb.parse_run_line("Run B · step 0 / 2000 · queued") == ("B", 0, 2000, "queued")
    assert cb.parse_run_line("Run A · step 2000 / 2000 · done · 95 steps/s") == ("A", 2000, 2000, "done")
    assert cb.parse_run_line("#### A: Non-saturating") is None
    assert cb.parse_run_line("Your run is queued: position 3 in line") is None
    assert cb.parse_run_line("") is None
    # the Image GAN page's one run (image_gan?preset=mnist-mlp&compare=0) reads as run A
    assert cb.parse_run_line("Step 420 / 6000 · running · 8 steps/s") == ("A", 420, 6000, "running")


def test_a_query_with_a_page_name_opens_that_page():
    s = cb.Student(0, 1, "image_gan?preset=mnist-mlp&compare=0", seconds=5)
    assert (s.page_name, s.query) == ("image_gan", "preset=mnist-mlp&compare=0")
    assert cb.Student(0, 1, "preset=ring-collapse&compare=0", seconds=5).page_name == ""
    assert cb.budget_query("image_gan?preset=mnist-mlp&compare=0", 100).startswith("image_gan?preset=mnist-mlp&")


@pytest.mark.parametrize("q", [0, 10, 50, 90, 95, 100])
def test_percentile_matches_numpy(q):
    xs = [0.3, 0.01, 2.5, 0.07, 0.07, 1.0, 0.2]
    assert cb.percentile(xs, q) == pytest.approx(np.percentile(xs, q))


def test_percentile_edges():
    assert cb.percentile([], 50) is None
    assert cb.percentile([4.0], 95) == 4.0
    with pytest.raises(ValueError):
        cb.percentile([1.0], 101)
    assert cb.spread([]) == {"n": 0, "min": None, "p50": None, "p95": None, "max": None}


def test_counter_stats():
    t0 = 100.0
    # queued for 2 s, then the counter moves every half second; one window (4..5 s) with no news
    ups = [(t0 - 1, 0), (t0 + 0.5, 0), (t0 + 2.2, 50), (t0 + 2.7, 100), (t0 + 3.2, 150), (t0 + 5.5, 200),
           (t0 + 6.0, 250)]
    st = cb.counter_stats(ups, t0, 6)
    assert st["steps"] == 200  # t0 + 6.0 is past the window
    assert st["changed_share"] == pytest.approx(3 / 6)  # windows 2, 3, 5 moved
    assert st["changed_share_live"] == pytest.approx(3 / 4)  # from window 2 on
    assert st["distinct_per_s"] == pytest.approx(5 / 6, abs=1e-3)  # 0, 50, 100, 150, 200
    assert st["first_step_s"] == pytest.approx(2.2)
    assert cb.counter_stats([], t0, 5) == {"steps": 0, "distinct_per_s": 0.0, "changed_share": 0.0,
                                           "changed_share_live": 0.0, "first_step_s": None}


def test_budget_query_keeps_the_preset_and_compare():
    q = dict(p.split("=") for p in cb.budget_query("preset=ring-collapse&compare=0", 10**6).split("&"))
    assert q["preset"] == "ring-collapse" and q["compare"] == "0" and q["steps"] == "1000000"
    assert q["z_dim"] == "64"  # the preset's own fields travel with the link


def test_thread_kinds_and_settling():
    assert cb.thread_kind("ganlab-job-12", 7, 1) == "training"
    assert cb.thread_kind("ganlab-worker-3", 7, 1) == "training"
    assert cb.thread_kind("ganlab-reaper", 7, 1) == "ganlab_other"
    assert cb.thread_kind("ganlab-warm-up", 7, 1) == "ganlab_other"
    assert cb.thread_kind("ScriptRunner.sc", 7, 1) == "script_runner"
    assert cb.thread_kind("python", 1, 1) == "main"

    def sample(*names):
        return cb.ProcSample(0.0, 0.0, len(names), 1.0,
                             {i: (n, cb.thread_kind(n, i, 0), 0.0) for i, n in enumerate(names, 1)})

    base = sample("python", "ThreadPoolExecu")
    assert cb.settled(sample("python", "ThreadPoolExecu", "ganlab-reaper"), base)
    assert not cb.settled(sample("python", "ThreadPoolExecu", "ganlab-job-4"), base)
    assert cb.thread_kind("ganlab-train-poller", 7, 1) == "ganlab_other"  # polls the training process
    # Streamlit's config-watcher pool may grow up to its bound (4 threads), never beyond
    assert cb.settled(sample("python", "ThreadPoolExecu", "ThreadPoolExecu"), base)
    assert not cb.settled(sample("python", *["ThreadPoolExecu"] * 5), base)
    assert cb.extra_threads(sample("python", "ganlab-job-4"), base) == ["ganlab-job-4"]


# ---- the protocol client, fed made-up ForwardMsgs ---------------------------------------------------------
def _element(fill) -> bytes:
    m = ForwardMsg()
    fill(m.delta.new_element)
    return m.SerializeToString()


def _page_load_messages(run_line: str) -> list[bytes]:
    ns = ForwardMsg()
    ns.metadata.run.script_run_id = "r1"
    ns.new_session.page_script_hash = "main-hash"
    nav = ForwardMsg()
    nav.navigation.page_script_hash = "lab-hash"
    info = ForwardMsg()
    info.page_info_changed.query_string = "preset=ring-collapse&compare=0&z_dim=64"

    def button(e):
        e.button.id, e.button.label = "id-start", "Start"

    def number(e):
        e.number_input.id, e.number_input.default = "id-seed", 3
        e.number_input.data_type = NumberInput.INT

    def lr(e):
        e.number_input.id, e.number_input.default, e.number_input.set_value = "id-lr", 1e-3, True
        e.number_input.value, e.number_input.data_type = 2e-4, NumberInput.FLOAT

    def select(e):
        e.selectbox.id, e.selectbox.default = "id-data", 1
        e.selectbox.options.extend(["ring", "grid"])

    def check(e):
        e.checkbox.id, e.checkbox.default, e.checkbox.set_value, e.checkbox.value = "id-b", True, True, False

    def line(e):
        e.markdown.body = run_line

    done = ForwardMsg()
    done.metadata.run.script_run_id = "r1"
    done.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    return [ns.SerializeToString(), nav.SerializeToString(), info.SerializeToString(),
            *[_element(f) for f in (button, number, lr, select, check, line)], done.SerializeToString()]


def test_student_reads_a_page_like_the_frontend():
    s = cb.Student(0, 1, "preset=ring-collapse&compare=0", seconds=5)
    s._loaded = asyncio.Event()
    s._pending[""] = [time.monotonic()]  # the page-load request, sent before the run began
    for data in _page_load_messages("Run A · step 50 / 2000 · running · 10 steps/s"):
        s._handle(data)
    assert s._loaded.is_set() and s._buttons["Start"] == ("id-start", False)
    assert s._page_hash == "lab-hash" and s.query.endswith("z_dim=64")
    w = s._widgets
    assert w["id-seed"].WhichOneof("value") == "int_value" and w["id-seed"].int_value == 3
    assert w["id-lr"].WhichOneof("value") == "double_value" and w["id-lr"].double_value == 2e-4
    assert w["id-data"].string_value == "grid"
    assert w["id-b"].WhichOneof("value") == "bool_value" and w["id-b"].bool_value is False
    assert s.steps["A"][-1][1] == 50 and s.budget["A"] == 2000
    assert [k for k, _ in s.latencies] == ["full"] and s._pending[""] == []
    # a held value survives a rerun that does not set it; the Start press carries every state and the trigger
    w["id-seed"].int_value = 9
    for data in _page_load_messages("Run A · step 100 / 2000 · running · 10 steps/s"):
        s._handle(data)
    assert s._widgets["id-seed"].int_value == 9
    cs = s._client_state()
    assert cs.page_script_hash == "lab-hash" and cs.query_string == s.query and not cs.fragment_id
    assert {x.id for x in cs.widget_states.widgets} == {"id-seed", "id-lr", "id-data", "id-b"}


def test_fragment_latency_is_matched_by_run_identity():
    s = cb.Student(0, 1, "q", seconds=5)
    s._pending["frag"] = [time.monotonic()]
    start = ForwardMsg()
    start.metadata.run.fragment_ids.append("frag")
    start.new_session.page_script_hash = "h"
    s._handle(start.SerializeToString())
    later = time.monotonic() + 1  # a request sent while that run was going waits for the next one
    s._pending["frag"].append(later)
    done = ForwardMsg()
    done.metadata.run.fragment_ids.append("frag")
    done.script_finished = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    s._handle(done.SerializeToString())
    assert [k for k, _ in s.latencies] == ["fragment"] and s._pending["frag"] == [later]


def test_a_fragment_run_stopped_for_the_next_rerun_ends_its_requests_unfinished():
    s = cb.Student(0, 1, "q", seconds=5)
    s._every["side"] = 2.0  # what an auto_rerun message records (its timer needs a running loop)
    s._pending["side"] = [time.monotonic()]
    start = ForwardMsg()
    start.metadata.run.fragment_ids.append("side")
    start.new_session.page_script_hash = "h"
    s._handle(start.SerializeToString())
    early = ForwardMsg()
    early.metadata.run.fragment_ids.append("side")
    early.script_finished = ForwardMsg.FINISHED_EARLY_FOR_RERUN
    s._handle(early.SerializeToString())
    assert s.latencies == [] and s._pending["side"] == [] and s.interrupted == 1
    assert s.fragment_runs == {"every 2 s": {"finished": 0, "interrupted": 1}}


def test_errors_are_recorded():
    s = cb.Student(0, 1, "q", seconds=5)

    def exc(e):
        e.exception.type, e.exception.message = "ValueError", "boom"

    def alert(e):
        e.alert.body, e.alert.format = "you already have 4 runs going", 1  # ERROR

    def queued(e):
        e.alert.body, e.alert.format = "Your run is queued: position 7 in line; it starts when a worker is free", 3

    for f in (exc, alert, queued):
        s._handle(_element(f))
    assert s.errors == ["exception: ValueError: boom", "error alert: you already have 4 runs going"]
    assert s.queue_positions == [7]


# ---- two students against a real `streamlit run app.py` ---------------------------------------------------
@pytest.fixture
def server():
    try:
        srv = cb.Server(start_timeout=45)
    except (TimeoutError, RuntimeError) as e:
        pytest.skip(f"streamlit run app.py did not start in time: {e}")
    try:
        yield srv
    finally:
        srv.close()


def test_two_students_train_live(server):
    logs: list[str] = []

    async def go():
        await cb._warm_up(server, cb.DEFAULT_QUERY, logs.append)
        baseline = cb.sample_process(server.pid)
        return await cb.run_round(server, 2, 5, 1, cb.DEFAULT_QUERY, baseline, drain_s=2, log=logs.append)

    # asyncio.run on a thread of its own: Playwright's sync API (the browser tests) leaves an event loop
    # marked as running in the main thread, and asyncio.run refuses to start inside one
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(r=asyncio.run(go())))
    t.start()
    t.join(120)
    r = out["r"]
    assert r["errors_total"] == 0, r["errors_distinct"]
    assert r["students_started"] == 2 and r["unsupported_widgets"] == []
    for student in r["per_student"]:
        a = student["runs"]["A"]
        assert a["steps"] > 0 and a["budget"] == 2000, student
        assert a["monotonic"] and a["distinct_per_s"] * 8 >= 2, student  # the counter advanced, never back
    lat = r["latency_s"]
    assert lat["full"]["n"] >= 4 and lat["fragment"]["n"] > 0 and lat["all"]["p50"] is not None
    assert r["server"]["cpu_s"]["training"] > 0 and r["server"]["during"]["training_threads_max"] >= 1
    server.close()
    assert server.proc.poll() is not None  # the server is gone
