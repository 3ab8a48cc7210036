"""Issue 20, item 3: limits by who the client is (its network address), not only by the cookie it chooses.

- A guesser from one address, with as many forged owner ids as it likes, never keeps the teacher (another
  address) out, and its own guesses stay bounded (a doubling wait).
- With a per-address cap of 4, twenty cookie-less students from one address hold at most 4 runs.
- New owner ids from one address beyond a generous rate are refused with a message; a class of 30 behind one
  NAT is not.
- X-Forwarded-For counts only from a proxy named in GANLAB_TRUSTED_PROXIES.

AppTest cannot seed `st.context.headers` or `ip_address` (streamlit/testing/v1/app_test.py says so), so the
AppTests here stand in for the websocket's handshake: `streamlit.runtime.context._get_client_context`, the one
place st.context reads them from, returns a fake client of the address the test picks.
"""
from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import FakeRunner
from streamlit.testing.v1 import AppTest

from ganlab import jobs
from ganlab.jobs import JobLimitError, JobManager
from ganlab.ui import teacher

PASSCODE = "open sesame"
CLASS_PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "class_view.py")


@pytest.fixture
def client(monkeypatch):
    """`client.peer = "10.0.0.1"; client.forwarded = [...]`: the handshake every AppTest run sees from now on."""
    from streamlit.runtime import context

    fake = SimpleNamespace(peer="10.0.0.1", forwarded=[])

    def handshake():
        headers = [("host", "class.example"), *(("x-forwarded-for", v) for v in fake.forwarded)]
        return SimpleNamespace(headers=headers, cookies={}, remote_ip=fake.peer)

    monkeypatch.setattr(context, "_get_client_context", handshake)
    return fake


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    """No passcode tries, no known owners and no address settings left from another test."""
    from ganlab.jobs import clients

    for var in ("GANLAB_TRUSTED_PROXIES", "GANLAB_NEW_OWNERS_PER_10_MIN", "GANLAB_MAX_RUNS_PER_ADDRESS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(teacher.ENV, PASSCODE)
    teacher.forget_tries()
    clients.reset()
    yield
    teacher.forget_tries()
    clients.reset()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- the passcode: tries per address -------------------------------------------------------------------------
def _guesses():
    """One browser session that forges a fresh owner id before each wrong guess (what a cookie-clearing script
    does, without the cost of a new session each time)."""
    import streamlit as st

    from ganlab.ui import teacher

    said = []
    for i in range(st.session_state["n"]):
        st.session_state["ganlab_owner"] = f"{i + 1:024x}"
        said.append(teacher.try_unlock("not it"))
    st.session_state["said"] = said


def test_the_teacher_unlocks_while_another_address_guesses_with_forged_ids(client):
    client.peer = "10.0.0.66"
    guesser = AppTest.from_function(_guesses, default_timeout=30)
    guesser.session_state["n"] = 40  # 40 forged ids, one wrong guess each
    _ok(guesser.run())

    client.peer = "10.0.0.5"  # the teacher's laptop, while the guesser goes on
    at = _ok(AppTest.from_file(CLASS_PAGE, default_timeout=60).run())
    at.text_input(key="class_passcode").input(PASSCODE)
    next(b for b in at.button if b.label == "Unlock").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert "Pause all runs" in {b.label for b in at.button}

    said = guesser.session_state["said"]  # the guesser's 40 tries were bounded per address, forged ids or not
    assert said[:teacher.ADDRESS_TRIES] == ["That passcode is not right."] * teacher.ADDRESS_TRIES
    assert all(s.startswith("Too many wrong passcodes") for s in said[teacher.ADDRESS_TRIES:])
    client.peer = "10.0.0.66"  # the guesser, even with the right passcode now, waits
    again = AppTest.from_function(_guesses, default_timeout=30)
    again.session_state["n"] = 1
    _ok(again.run())
    assert again.session_state["said"][0].startswith("Too many wrong passcodes")


def _one_student_guesses():
    """One browser (one owner id) guessing again and again."""
    import streamlit as st

    from ganlab.ui import teacher

    st.session_state["ganlab_owner"] = "ab" * 12
    st.session_state["said"] = [teacher.try_unlock("not it") for _ in range(st.session_state["n"])]


def test_one_student_guessing_behind_the_teachers_nat_locks_out_only_that_student(client):
    """A school NAT: the class and the teacher share one address. One curious student's wrong tries used to make
    the whole address wait, so the teacher's right passcode was refused for up to 15 minutes."""
    client.peer = "10.0.0.1"
    student = AppTest.from_function(_one_student_guesses, default_timeout=30)
    student.session_state["n"] = 12
    _ok(student.run())
    said = student.session_state["said"]
    assert said[:teacher.MAX_TRIES] == ["That passcode is not right."] * teacher.MAX_TRIES
    assert all(s.startswith("Too many wrong passcodes") for s in said[teacher.MAX_TRIES:])

    at = _ok(AppTest.from_file(CLASS_PAGE, default_timeout=60).run())  # the teacher, same address, own browser
    at.text_input(key="class_passcode").input(PASSCODE)
    next(b for b in at.button if b.label == "Unlock").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert "Pause all runs" in {b.label for b in at.button}


def test_wrong_tries_wait_longer_each_time_and_are_forgotten():
    from ganlab.jobs.clients import WrongTries

    w = WrongTries(max_tries=5, lock_s=30.0, max_wait_s=900.0, forget_s=3600.0)
    t = 1000.0
    for _ in range(5):
        assert w.attempt("A", False, t) == 0.0
    assert w.attempt("A", True, t + 1) == pytest.approx(29.0)  # refused, even the right passcode, not counted
    assert w.attempt("B", True, t + 1) == 0.0  # another address: no wait
    waits = []
    for _ in range(8):  # one wrong try after each wait: 30, 60, 120, ... capped at 900 s
        t += w.wait_s("A", t)
        assert w.attempt("A", False, t) == 0.0
        waits.append(w.wait_s("A", t))
    assert waits == [60, 120, 240, 480, 900, 900, 900, 900]
    assert w.wait_s("A", t + 3600) == 0.0  # an hour quiet: forgotten
    assert w.attempt("A", False, t + 3600) == 0.0 and w.wait_s("A", t + 3600) == 0.0


def test_ipv6_guesses_count_by_their_64():
    from ganlab.jobs.clients import guess_key

    assert guess_key("2001:db8:0:7::1") == guess_key("2001:db8:0:7:ffff::9") == "2001:db8:0:7::/64"
    assert guess_key("2001:db8:0:8::1") != guess_key("2001:db8:0:7::1")
    assert guess_key("198.51.100.7") == "198.51.100.7" and guess_key("::1") == "::1" and guess_key(None) is None


# ---- the per-address run cap ------------------------------------------------------------------------------------
def test_a_cap_of_4_per_address_holds_twenty_cookie_less_students_to_4_runs():
    m = JobManager(max_running=40, max_jobs_per_address=4, workers=1)
    try:
        admitted, refused = [], []
        for i in range(20):  # twenty tabs, each a fresh owner id, from one school laptop
            try:
                admitted.append(m.submit(f"tab{i}", lambda: [FakeRunner()], address="192.168.1.20"))
            except JobLimitError as e:
                refused.append(str(e))
        assert len(admitted) == 4 and len(refused) == 16
        assert "network address" in refused[0] and "limit is 4" in refused[0]
        assert sum(j.active for j in m.all_jobs()) == 4
        m.submit("neighbour", lambda: [FakeRunner()], address="192.168.1.21")  # another computer: its own 4
        m.submit("cli", lambda: [FakeRunner()])  # no address (the CLI, another process): not counted
        admitted[0].stop()  # Start again on the same page: the old run is stopping, the new one is admitted
        m.submit("tab0", lambda: [FakeRunner()], address="192.168.1.20")
        m.max_jobs_per_address = 0  # the teacher turns it off
        m.submit("tab5", lambda: [FakeRunner()], address="192.168.1.20")
    finally:
        m.shutdown()


def test_the_cap_per_address_counts_an_ipv6_client_by_its_64_network():
    """A client with an IPv6 /64 can bind a new address per tab: the cap counts the network, as the passcode tries
    and new owners do."""
    m = JobManager(max_running=40, max_jobs_per_address=2, workers=1)
    try:
        m.submit("t0", lambda: [FakeRunner()], address="2001:db8:0:7::1")
        m.submit("t1", lambda: [FakeRunner()], address="2001:db8:0:7::2")
        with pytest.raises(JobLimitError, match="network address"):
            m.submit("t2", lambda: [FakeRunner()], address="2001:db8:0:7:ffff::9")
        m.submit("other", lambda: [FakeRunner()], address="2001:db8:0:8::1")  # another network: its own cap
    finally:
        m.shutdown()


def test_the_cap_per_address_comes_from_the_environment_and_is_off_by_default(monkeypatch):
    from ganlab.jobs import job_manager

    assert JobManager(workers=1).max_jobs_per_address == 0
    monkeypatch.setenv("GANLAB_MAX_RUNS_PER_ADDRESS", "3")
    assert JobManager(workers=1).max_jobs_per_address == 3
    monkeypatch.setenv("GANLAB_MAX_RUNS_PER_ADDRESS", "lots")
    assert job_manager.per_address_default() == 0


def _start():
    """A page's Start (ganlab/ui/controls.py) for a student without a cookie."""
    import streamlit as st
    from fakes import FakeRunner

    from ganlab.ui import controls, session

    owner = session.owner()
    controls.submit("slot", owner, lambda: [FakeRunner()], "run", ())
    if st.session_state.get("slot__error"):
        st.error(st.session_state["slot__error"])


def test_pages_submit_with_the_session_address_and_the_teacher_sets_the_cap(client):
    client.peer = "10.1.1.1"
    teacher_at = _ok(AppTest.from_file(CLASS_PAGE, default_timeout=60).run())
    teacher_at.text_input(key="class_passcode").input(PASSCODE)
    next(b for b in teacher_at.button if b.label == "Unlock").click().run()
    teacher_at.number_input(key="class_per_address").set_value(2)
    next(b for b in teacher_at.button if b.label == "Apply").click().run()
    _ok(teacher_at)
    assert jobs.manager().max_jobs_per_address == 2

    client.peer = "10.1.1.50"
    said = []
    for _ in range(3):
        at = _ok(AppTest.from_function(_start, default_timeout=30).run())
        said.append([e.value for e in at.error])
    assert said[:2] == [[], []] and "network address" in said[2][0]
    assert {j.address for j in jobs.manager().all_jobs()} == {"10.1.1.50"}


# ---- new owners per address -----------------------------------------------------------------------------------
def test_new_owner_ids_per_address_are_limited_but_a_class_behind_one_nat_is_not():
    from ganlab.jobs.clients import NewOwners

    n = NewOwners(limit=60, window_s=600.0)
    t = 0.0
    assert all(n.admit("203.0.113.9", f"student{i}", t + 2 * i) for i in range(30))  # a class, in one minute
    assert all(n.admit("203.0.113.9", f"student{i}", t + 100) for i in range(30))  # their reloads cost nothing
    assert all(n.admit("203.0.113.9", f"tab{i}", t + 120) for i in range(30))  # 60 new ids in 10 minutes
    assert not n.admit("203.0.113.9", "tab30", t + 121)  # the 61st
    assert n.admit("203.0.113.10", "elsewhere", t + 121)  # another address
    assert n.admit("127.0.0.1", "the-server-itself", t + 121) and n.admit(None, "no-browser", t + 121)
    assert n.admit("203.0.113.9", "tab30", t + 2 * 29 + 600)  # the window moved on: room again
    assert NewOwners(limit=0).admit("203.0.113.9", "x", t)  # 0: no limit
    v6 = NewOwners(limit=2)
    assert v6.admit("2001:db8:0:7::1", "a", t) and v6.admit("2001:db8:0:7::2", "b", t)
    assert not v6.admit("2001:db8:0:7::3", "c", t)  # another address of the same /64: the same machine's choice
    assert v6.admit("2001:db8:0:8::1", "d", t)


def _open():
    from ganlab.ui import session

    session.owner()


def test_a_student_who_keeps_clearing_cookies_is_refused_with_a_message(client, monkeypatch):
    monkeypatch.setenv("GANLAB_NEW_OWNERS_PER_10_MIN", "3")
    client.peer = "10.2.2.2"
    for _ in range(3):
        at = _ok(AppTest.from_function(_open, default_timeout=30).run())
        assert not at.error
    at = _ok(AppTest.from_function(_open, default_timeout=30).run())  # a 4th fresh id within 10 minutes
    assert "keep its cookies" in at.error[0].value
    assert "ganlab_owner" not in at.session_state
    client.peer = "10.2.2.3"  # the classmate at the next computer
    assert not _ok(AppTest.from_function(_open, default_timeout=30).run()).error


# ---- X-Forwarded-For only from a trusted proxy ---------------------------------------------------------------------
def test_forwarded_for_only_from_a_trusted_proxy():
    from ganlab.jobs.clients import client_address, parse_networks

    proxies = parse_networks("172.28.0.2, 10.9.0.0/16, ::1, not-an-address")
    assert len(proxies) == 3
    xff = ["6.6.6.6, 198.51.100.7"]  # the student wrote 6.6.6.6; the proxy appended what it saw
    assert client_address("198.51.100.7", xff, proxies) == "198.51.100.7"  # untrusted peer: the header is ignored
    assert client_address("198.51.100.7", xff, ()) == "198.51.100.7"
    assert client_address("172.28.0.2", xff, proxies) == "198.51.100.7"  # the right-most untrusted hop
    assert client_address("172.28.0.2", ["6.6.6.6, 198.51.100.7", "10.9.3.4"], proxies) == "198.51.100.7"
    assert client_address("172.28.0.2", ["10.9.3.4"], proxies) == "10.9.3.4"  # only proxies: the left-most
    assert client_address("172.28.0.2", [], proxies) == "172.28.0.2"
    assert client_address("172.28.0.2", ["6.6.6.6, garbage"], proxies) == "172.28.0.2"
    assert client_address("172.28.0.2", ["[2001:db8::1]:443"], proxies) == "2001:db8::1"
    assert client_address("::ffff:198.51.100.7", [], proxies) == "198.51.100.7"
    assert client_address(None, xff, proxies) is None


def _where():
    import streamlit as st

    from ganlab.ui import address

    st.session_state["where"] = address.address()


def test_a_session_address_honours_forwarded_for_from_a_trusted_proxy_only(client, monkeypatch):
    client.forwarded = ["6.6.6.6, 198.51.100.7"]
    client.peer = "172.28.0.2"
    assert _ok(AppTest.from_function(_where).run()).session_state["where"] == "172.28.0.2"
    monkeypatch.setenv("GANLAB_TRUSTED_PROXIES", "172.28.0.2")
    assert _ok(AppTest.from_function(_where).run()).session_state["where"] == "198.51.100.7"
    client.peer = "198.51.100.99"  # a student who sends the header straight to the server
    assert _ok(AppTest.from_function(_where).run()).session_state["where"] == "198.51.100.99"
    client.peer, client.forwarded = "127.0.0.1", []  # Streamlit's ip_address is None for localhost
    assert _ok(AppTest.from_function(_where).run()).session_state["where"] == "127.0.0.1"


def test_no_browser_no_address():
    assert _ok(AppTest.from_function(_where).run()).session_state["where"] is None


# ---- a real server: students on loopback sources 127.0.0.2, 127.0.0.3 -----------------------------------------------
_via: contextvars.ContextVar[tuple[str, str | None]] = contextvars.ContextVar("via")


def _students_from(server, plan, press_start=True, seconds=5.0):
    """Simulated students (benchmarks/classroom.py) on `server`, each connecting from its (source address,
    X-Forwarded-For or None) in `plan`, all at once; returns them when they left."""
    import websockets.asyncio.client as ws_client

    from benchmarks import classroom as cb

    real = ws_client.connect

    def connect(uri, **kw):  # what Student.run calls, with this student's source address and header
        source, forwarded = _via.get()
        headers = [("X-Forwarded-For", forwarded)] if forwarded else None
        return real(uri, local_addr=(source, 0), additional_headers=headers, **kw)

    students = [cb.Student(i, server.port, cb.DEFAULT_QUERY, seconds, load_timeout=60) for i in range(len(plan))]

    async def one(s, via):
        _via.set(via)
        await s.run(press_start=press_start)

    async def go():
        await asyncio.gather(*(one(s, via) for s, via in zip(students, plan)))

    ws_client.connect = connect
    try:
        t = threading.Thread(target=lambda: asyncio.run(go()))  # not the main thread's loop (see test_classroom_bench)
        t.start()
        t.join(120)
    finally:
        ws_client.connect = real
    return students


def test_a_real_server_counts_loopback_sources_and_forwarded_for_from_its_trusted_proxy():
    from benchmarks import classroom as cb

    env = {"GANLAB_MAX_RUNS_PER_ADDRESS": "1", "GANLAB_TRUSTED_PROXIES": "127.0.0.3",
           "GANLAB_NEW_OWNERS_PER_10_MIN": "2", "GANLAB_TRAIN_PROCESS": "0"}
    try:
        server = cb.Server(env=env, start_timeout=60)
    except (TimeoutError, RuntimeError) as e:
        pytest.skip(f"streamlit run app.py did not start in time: {e}")
    try:
        a1, a2, p1, p2 = _students_from(server, [
            ("127.0.0.2", None),
            ("127.0.0.2", "198.51.100.9"),  # the header, sent straight to the server, is not believed
            ("127.0.0.3", "198.51.100.1"),  # two students behind the trusted proxy: two addresses
            ("127.0.0.3", "198.51.100.2")])
        refused = [s for s in (a1, a2) if any("network address" in e for e in s.errors)]
        assert len(refused) == 1, [a1.errors, a2.errors]  # 127.0.0.2 holds one run, whoever started first
        trained = a2 if refused == [a1] else a1
        for s in (trained, p1, p2):
            assert not s.errors and s.steps.get("A"), (s.errors, s.steps)  # admitted: its run line is on the page
        (a3,) = _students_from(server, [("127.0.0.2", None)], press_start=False)  # a 3rd new id from 127.0.0.2
        assert any("keep its cookies" in e for e in a3.errors), a3.errors
    finally:
        server.close()
