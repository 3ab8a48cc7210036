"""AppTest of app.py (navigation, sidebar, session ownership) and the shared ganlab.ui session helpers.

AppTest quirks (Streamlit 1.67): with st.navigation, the entrypoint's sidebar elements are in the tree of the
first run only, so the sidebar's job list is tested on its own through AppTest.from_function; and
`switch_page` drops widget values that a real browser session keeps (ganlab.ui.state), so that is checked in
tests/test_browser_mode_collapse.py.
"""

import pytest
from fakes import FakeRunner
from streamlit.testing.v1 import AppTest

from ganlab import jobs
from ganlab.ui import identity, session


def test_app_runs_with_the_lab_as_default_page_and_the_device_in_the_sidebar(app_test):
    at = app_test().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Mode collapse lab"
    device = at.sidebar.caption[0].value
    assert device.startswith("Device: ") and ("CPU, " in device or "CUDA: " in device)
    assert any(m.value.startswith("**Your runs**") for m in at.sidebar.markdown)
    owner = at.session_state[session.OWNER_KEY]
    assert identity.valid(owner) and owner in jobs.manager()._last_seen  # a new student id, touched on every run
    at.run()
    assert at.session_state[session.OWNER_KEY] == owner  # one owner for the whole session


def _sidebar_script():
    import streamlit as st

    from ganlab.ui import sidebar

    sidebar.render(st.session_state["who"])


def test_sidebar_lists_the_users_jobs_and_stops_one(wait_until):
    job = jobs.manager().submit("someone", lambda: [FakeRunner()], label="lesson run")
    other = jobs.manager().submit("someone-else", lambda: [FakeRunner()], label="not mine")
    wait_until(lambda: job.snapshots() and job.snapshots()[0].step > 0, 10, what="the fake job to step")
    at = AppTest.from_function(_sidebar_script, default_timeout=30)
    at.session_state["who"] = "someone"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rows = [m.value for m in at.sidebar.markdown if m.value.startswith("**#")]
    assert len(rows) == 1 and rows[0].startswith(f"**#{job.id}** lesson run · running · step ")
    assert rows[0].endswith(" / 1000")
    at.sidebar.button(key=f"sidebar_stop_{job.id}").click().run()
    wait_until(lambda: job.status == "stopped", 10, what="the job to stop")
    assert other.status == "running"
    at.run()
    assert [m.value for m in at.sidebar.markdown if m.value.startswith("**#")] == [
        f"**#{job.id}** lesson run · stopped · step {job.snapshots()[0].step} / 1000"]
    assert not at.sidebar.button  # no Stop button for a finished run


def test_ending_a_session_releases_its_runs_after_the_grace_period(monkeypatch, wait_until):
    mine = jobs.manager().submit("leaving", lambda: [FakeRunner()], label="x")
    wait_until(lambda: mine.status == "running", 10, what="running")
    session._release(session._SessionLease("leaving"))  # what the session cache's on_release calls
    assert "leaving" in jobs.manager()._release_at and mine.status == "running"  # grace: not yet
    jobs.manager().touch("leaving")  # a reconnect within the grace period keeps the runs
    assert "leaving" not in jobs.manager()._release_at
    monkeypatch.setattr(session, "GRACE_S", 0.0)
    session._release(session._SessionLease("leaving"))
    # a closed lid is not a lost run: it pauses (resumable; GANLAB_LEFT_RUNS=stop stops it, issue 21)
    wait_until(lambda: mine.status == "paused", 10, what="the released run to pause")
    jobs.manager().away_keep_s = 0.0  # the rest of the lesson is over: stopped, its checkpoint kept in the store
    wait_until(lambda: mine.status == "stopped", 10, what="the absent student's run to stop")


@pytest.mark.parametrize("env, cuda, want", [
    (None, False, 1), ("", False, 1), ("3", False, 3), (" 2 ", True, 2), ("0", False, 1), ("many", False, 1),
    (None, True, None)])
def test_torch_threads_default_to_one_on_cpu_and_follow_the_env(env, cuda, want):
    assert session.wanted_threads(env, cuda) == want
