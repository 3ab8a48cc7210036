"""Real browser (Playwright + /usr/bin/chromium) against `streamlit run app.py`: a student's run survives a
reload (the owner id travels in a cookie), another browser is another student; the Class page with a passcode
lists two students' live runs and the gallery, shows no control before the passcode, refuses a student's link
that tries to stop another's run, and the teacher's announcement reaches a student's open page; then SIGTERM
with those two runs training exits cleanly (status 0 within 10 s, the training process gone, no traceback).

Each browser context is one browser (its own cookies): one student, or the teacher. Runs use the lab's
ring-collapse preset with a long budget, so they are still training when the checks read them.
"""
import os
import re
import signal
import subprocess
import time

import pytest
from conftest import serve_app

pytestmark = pytest.mark.browser

LAB_RUN = "/?preset=ring-collapse&compare=0&steps=20000"
RUN_LINE = re.compile(r"^Run A · step \d+ / 20000")
PASSCODE = "owl-lantern-42"


def _expect():
    return pytest.importorskip("playwright.sync_api").expect


def _new_tab(browser):
    """A new browser (context: its own cookie jar) with one tab."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = ctx.new_page()
    tab.set_default_timeout(25_000)
    return ctx, tab


def _step(tab) -> int:
    return int(re.search(r"step (\d+)", tab.get_by_text(RUN_LINE).first.inner_text()).group(1))


def _sidebar_job_ids(tab) -> list[int]:
    return [int(i) for i in re.findall(r"#(\d+) A:", tab.get_by_test_id("stSidebar").inner_text())]


def _start_lab_run(tab, url: str, nickname: str | None = None) -> int:
    """Open the lab with a long ring-collapse run, optionally set a nickname, press Start; returns the job id
    once the run line says it is running."""
    expect = _expect()
    tab.goto(url + LAB_RUN)
    start = tab.get_by_role("button", name="Start", exact=True)
    expect(start).to_be_enabled(timeout=30_000)
    if nickname:
        box = tab.get_by_test_id("stSidebar").get_by_role("textbox", name="Nickname")
        box.fill(nickname)
        box.press("Enter")
        expect(box).to_have_value(nickname)
    start.click()
    expect(tab.get_by_text(re.compile(r"^Run A · step [1-9]\d* / 20000 · running"))).to_be_visible(timeout=30_000)
    expect(tab.get_by_test_id("stSidebar").get_by_text(re.compile(r"^#\d+ A:"))).to_be_visible()
    (job_id,) = _sidebar_job_ids(tab)
    return job_id


def _step_aside(tab, url: str) -> None:
    """The student moves on to a page with nothing live (their run trains on): the test's browser then spends
    its CPU on the pages under test, not on a lab redrawing at 2 Hz."""
    tab.goto(url + "/theory")
    _expect()(tab.get_by_role("heading", name=re.compile(r"^Theory"))).to_be_visible()


RELOAD_CHECK_S = float(os.environ.get("GANLAB_RELOAD_CHECK_S", "2"))  # the acceptance check: 45


def test_a_reload_keeps_the_run_and_another_browser_is_another_student(streamlit_server, browser):
    expect = _expect()
    ctx, tab = _new_tab(browser)
    other_ctx, other = _new_tab(browser)
    try:
        job_id = _start_lab_run(tab, streamlit_server)
        owner = next(c["value"] for c in ctx.cookies() if c["name"] == "ganlab_owner")
        assert re.fullmatch(r"[0-9a-f]{24}", owner) and owner not in tab.url  # identity: cookie, never URL

        tab.reload()  # F5: a new Streamlit session, the same student
        expect(tab.get_by_text(re.compile(r"^Run A · step [1-9]\d* / 20000 · running"))).to_be_visible()
        assert _sidebar_job_ids(tab) == [job_id]  # "Your runs" lists it again
        assert next(c["value"] for c in ctx.cookies() if c["name"] == "ganlab_owner") == owner
        after_reload, since = _step(tab), time.monotonic()

        other.goto(streamlit_server + LAB_RUN)  # another browser, the same link
        expect(other.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=30_000)
        expect(other.get_by_test_id("stSidebar").get_by_text("No runs yet.")).to_be_visible()
        expect(other.get_by_text(RUN_LINE)).to_have_count(0)
        assert next(c["value"] for c in other_ctx.cookies() if c["name"] == "ganlab_owner") != owner

        tab.wait_for_timeout(max(0.0, RELOAD_CHECK_S - (time.monotonic() - since)) * 1000)  # after the reload:
        tab.wait_for_function(  # still training, and the reloaded page follows it
            "first => { const e = Array.from(document.querySelectorAll('p')).find(p => /^Run A · step/.test("
            "p.innerText)); return e && / · running/.test(e.innerText)"
            " && parseInt(e.innerText.match(/step (\\d+)/)[1]) > first; }", arg=after_reload, timeout=15_000)

        tab.get_by_role("button", name="Reset", exact=True).click(force=True)  # leave the server idle
        expect(tab.get_by_text(RUN_LINE)).to_have_count(0, timeout=15_000)
    finally:
        other_ctx.close()
        ctx.close()


# the runs' table is the page's first (the census's tables follow it)
ROWS_JS = """() => Array.from(document.querySelector('[data-testid="stTable"]')?.querySelectorAll('tbody tr') ?? [])
    .map(tr => Array.from(tr.querySelectorAll('th, td')).map(c => c.innerText.trim()))"""


def _class_rows(tab) -> dict[str, list[str]]:
    """The Class page's table: {student: [cells]} (the table's first column is the student)."""
    return {cells[0]: cells for cells in tab.evaluate(ROWS_JS)}


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return out


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_class_page_lists_two_students_live_refuses_a_students_stop_and_sigterm_exits_cleanly(browser, tmp_path):
    expect = _expect()
    # one worker thread: the two runs share a core, the other one is left to the server and the browser
    with serve_app(tmp_path, {"GANLAB_TEACHER_PASSCODE": PASSCODE, "GANLAB_WORKERS": "1"}) as (url, proc, log_path):
        tabs = []
        try:
            ada_ctx, ada = _new_tab(browser)
            bob_ctx, bob = _new_tab(browser)
            teacher_ctx, teacher = _new_tab(browser)
            tabs = [ada_ctx, bob_ctx, teacher_ctx]
            ada_job = _start_lab_run(ada, url, "Ada")
            _step_aside(ada, url)
            bob_job = _start_lab_run(bob, url, "Bob")

            # Bob tries to stop Ada's run through a link, and finds no widget for it either
            bob.goto(f"{url}/class?stop={ada_job}&job={ada_job}")
            expect(bob.get_by_text(re.compile(r"This page takes no commands from its address"))).to_be_visible()
            expect(bob.get_by_role("button", name="Stop this run")).to_have_count(0)
            expect(bob).not_to_have_url(re.compile(r"stop="))
            assert _sidebar_job_ids(bob) == [bob_job]  # his own run only


            teacher.goto(url + "/class")
            table = teacher.get_by_test_id("stTable").first  # the runs; the census's tables come after it
            expect(table).to_contain_text("Ada", timeout=30_000)
            expect(table).to_contain_text("Bob")
            rows = _class_rows(teacher)
            assert rows["Ada"][3] == f"#{ada_job}" and rows["Bob"][3] == f"#{bob_job}"
            assert rows["Ada"][1] == "Mode collapse lab" and rows["Ada"][2] == "ring-collapse"
            assert rows["Ada"][6] == "running" and rows["Ada"][7].startswith("modes ")
            teacher.wait_for_function("""() => {  // the gallery: a panel per toy run, titled by nickname
                const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
                const titles = gd && gd.layout ? gd.layout.annotations.map(a => a.text) : [];
                return titles.some(t => t.startsWith('Ada · modes ')) && titles.some(t => t.startsWith('Bob'));
            }""", timeout=15_000)

            # before the passcode: nothing that commands a run
            for name in ("Pause all runs", "Resume all runs", "Stop all runs…", "Stop this run"):
                expect(teacher.get_by_role("button", name=name)).to_have_count(0)

            # Ada's run trained on: the teacher's table shows her step moving (it refreshes itself every 2 s)
            first = int(_class_rows(teacher)["Ada"][4].split(" / ")[0])
            teacher.wait_for_function(
                "first => { const row = (" + ROWS_JS + ")().find(r => r[0] === 'Ada');"
                " return row !== undefined && row[6] === 'running' && parseInt(row[4]) > first; }",
                arg=first, timeout=20_000)

            # the teacher unlocks the controls
            teacher.get_by_text("Teacher controls").click()
            teacher.get_by_label("Teacher passcode").fill(PASSCODE)
            teacher.get_by_role("button", name="Unlock").click()
            expect(teacher.get_by_role("button", name="Pause all runs")).to_be_visible()
            expect(teacher.get_by_role("button", name="Stop this run")).to_be_visible()
            assert PASSCODE not in teacher.url

            # an announcement reaches Ada's open page without a reload (a fragment polls it)
            teacher.get_by_role("textbox", name="Text").fill("Everyone: compare with ring-fixed")
            teacher.get_by_role("button", name="Post").click()
            banner = ada.get_by_test_id("stAlert").filter(has_text="Everyone: compare with ring-fixed")
            expect(banner).to_be_visible(timeout=10_000)

            # the server is stopped (`kill -TERM <pid>`) with both runs training in the training process
            rows = _class_rows(teacher)
            assert rows["Ada"][6] == "running" and rows["Bob"][6] == "running"
            rc, took, children = _sigterm(proc)
        finally:
            for ctx in tabs:
                ctx.close()
        log = log_path.read_text(errors="replace")
    print(f"SIGTERM with two runs training: exit status {rc} after {took:.1f} s")
    assert rc == 0, log[-3000:]
    assert took < 10, f"exit took {took:.1f} s"
    assert all(not os.path.exists(f"/proc/{c}") or _zombie(c) for c in children), "the training process outlived"
    for alarming in ("Traceback", "terminate called", "Aborted", "core dumped", "Error", "Exception"):
        assert alarming not in log, log[-3000:]


def _sigterm(proc) -> tuple[int, float, list[int]]:
    """SIGTERM to the server: (exit status, seconds it took, the children it had: the training process)."""
    children = _children(proc.pid)  # the training process (ganlab/jobs/train_process/)
    assert children, "the lab's runs train in the training process"
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    try:
        rc = proc.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail("the server still runs 15 s after SIGTERM")
    return rc, time.monotonic() - t0, children
