"""Issue 20, "smaller ones": what a curious student types or links is shown as itself, never as Markdown; nicknames
cannot pass for someone else; the data folder is the server's; the Theory page's density padding is bounded;
the run line's rate is the rate its counter moves at. Each test fails on the code before these fixes."""
import re

import numpy as np
import pytest

from ganlab.config import ConfigError
from ganlab.jobs import classroom as cr
from ganlab.text import html_text, md

LINK = "[re-enter the passcode](https://evil.example/login)"
IMAGE = "![x](https://evil.example/x.png)"


def unescaped(text: str) -> list[str]:
    """The characters of `text` that Markdown (as Streamlit renders it) could act on, left unescaped: links,
    images, HTML, code, emphasis, LaTeX, tables, directives (`:x`), autolinks (`https:/`, `www.x`)."""
    found, i = [], 0
    while i < len(text):
        ch, after = text[i], text[i + 1: i + 2]
        before = text[i - 1] if i else ""
        if ch == "\\":
            i += 2  # an escape: the next character is literal
            continue
        if (ch in "[]<*`$|~#" or ch == "_" and not (before.isalnum() and after.isalnum())
                or ch == ":" and (after.isalnum() or after == "/") or ch == "." and after.isalpha()):
            found.append(ch)
        i += 1
    # GFM also makes links of bare `www.x`, `scheme://x` and `a@b.c` found in the text once escapes are resolved
    found += re.findall(r"(?i)(?<![^\W_])www\.|://|@[\w-]", text.replace("\\", ""))
    return found


def shown(at) -> list[str]:
    """Every Markdown text the page drew (markdown, captions, alerts)."""
    return [e.value for kind in (at.markdown, at.caption, at.warning, at.error, at.info, at.success) for e in kind]


# ---- 1. echoed strings are escaped ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [LINK, IMAGE, "<b>bold</b>", "**bold** _it_", "# heading", "$x^2$",
                                  ":red[alarm] :material/warning:",
                                  "https://evil.example www.evil.example a@evil.example",
                                  "line one\n# two\u202e"])
def test_md_leaves_nothing_markdown_can_use(text):
    out = md(text)
    assert not unescaped(out) and "\n" not in out and "\u202e" not in out
    literal = out.replace("\\", "").replace("\u2060", "")
    assert literal == text.replace("\n", " ").replace("\u202e", "")  # the same words, shown literally
    assert html_text("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert len(md("x" * 10_000)) <= 501  # an echo never floods the page


def test_a_link_with_a_markdown_key_and_preset_renders_escaped_on_the_lab(app_test):
    at = app_test(query={LINK: "1", "preset": IMAGE}).run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    literal = " ".join(warnings).replace("\\", "").replace("\u2060", "")  # what the student reads
    assert LINK in literal and IMAGE in literal
    for text in shown(at):
        assert not re.search(r"(?<!\\)\]\(", text), text  # no live link or image anywhere on the page
    for w in warnings:
        assert not unescaped(w), w


def test_a_link_value_echoed_in_a_warning_is_escaped_on_the_image_page(app_test):
    at = app_test("pages/image_gan.py", query={"z_dim": LINK, "b_preset": IMAGE, "compare": "1"}).run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    literal = " ".join(warnings).replace("\\", "").replace("\u2060", "")  # what the student reads
    assert LINK in literal and IMAGE in literal
    for w in warnings:
        assert not unescaped(w), w


def test_the_class_page_escapes_the_keys_it_refuses(app_test):
    at = app_test("pages/class_view.py", query={LINK: "stop"}).run()
    errors = [e.value for e in at.error]
    assert any("re-enter the passcode" in e for e in errors)
    for e in errors:
        assert not unescaped(e), e


def test_the_teachers_announcement_is_escaped_in_the_banner():
    from ganlab.jobs.classroom import Announcement
    from ganlab.ui.class_view import banner

    text = banner.text(Announcement(1, f"Everyone: {LINK} $x$", "", 0.0))
    assert text.startswith("**Teacher:** ") and not unescaped(text[len("**Teacher:** "):])


# ---- 2. nicknames -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nick", ["\u200b\u200b\u200b", "\u2060\u200d", "\u3164\u3164", "\u202e\u202d",
                                  "\U000f0000", "\u00ad\u2028\u180e"])
def test_an_invisible_nickname_is_refused(nick):
    room = cr.Classroom()
    room.set_nickname("me", "Ada")
    with pytest.raises(cr.NicknameRefused, match="letters or digits"):
        room.set_nickname("me", nick)
    assert room.nickname("me") == "Ada"  # nothing changed


def test_invisible_and_format_characters_are_dropped_and_the_name_normalised():
    assert cr.clean_nickname("A\u200bd\u200da\u2060") == "Ada"
    assert cr.clean_nickname("\u202eAda\u202c Lovelace") == "Ada Lovelace"
    assert cr.clean_nickname("Ａｄａ\u3000ＬＯＶＥ") == "Ada LOVE"  # full-width forms and spaces (NFKC)
    assert cr.clean_nickname("  [Ada](https://evil)  ") == "Ada https evil"


@pytest.mark.parametrize("nick", ["student 3", "Student 3", "STUDENT   12", "student3", "student\u200b 3",
                                  "ｓｔｕｄｅｎｔ　３", "student #3", "学生 3", "同学3号"])
def test_the_anonymous_label_form_is_refused(nick):
    room = cr.Classroom()
    with pytest.raises(cr.NicknameRefused, match="without a nickname"):
        room.set_nickname("me", nick)
    assert not room.has_nickname("me")


def test_a_taken_nickname_gets_a_suffix_and_the_owner_keeps_theirs():
    room = cr.Classroom()
    assert room.set_nickname("ada", "Ada") == "Ada"
    assert room.set_nickname("mallory", "ada") == "ada (2)"  # case and invisible characters do not make it new
    assert room.set_nickname("eve", "A\u200bda") == "Ada (3)"
    assert room.set_nickname("ada", "Ada") == "Ada"  # one's own name is not taken
    assert room.set_nickname("zed", "z" * 24) == "z" * 24
    assert room.set_nickname("zoe", "Z" * 30) == "Z" * 20 + " (2)"  # still at most NICK_MAX + the suffix


def _nickname_box():
    """The sidebar's nickname box alone (an AppTest of app.py drops its sidebar after the first rerun)."""
    from ganlab.ui import sidebar

    sidebar.nickname_ui("me")


def test_the_nickname_box_refuses_student_n_and_says_when_a_name_was_taken():
    from streamlit.testing.v1 import AppTest

    from ganlab.jobs import classroom
    from ganlab.ui import sidebar

    classroom.install(cr.Classroom())
    try:
        classroom.classroom().set_nickname("someone-else", "Ada")
        at = AppTest.from_function(_nickname_box).run()
        at.text_input(key=sidebar.NICK_KEY).input("Student 7").run()
        assert any("without a nickname" in e.value for e in at.error)
        assert at.text_input(key=sidebar.NICK_KEY).value == "" and not classroom.classroom().has_nickname("me")
        at.text_input(key=sidebar.NICK_KEY).input("A\u200bda").run()
        assert at.text_input(key=sidebar.NICK_KEY).value == "Ada (2)" and not at.error
        assert any("is taken" in i.value and "Ada (2)" in i.value for i in at.info)
    finally:
        classroom.install(cr.Classroom())


# ---- 3. the data folder is the server's ---------------------------------------------------------------------------
def test_the_image_page_offers_datasets_and_no_server_path(app_test, monkeypatch, tmp_path):
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "server-data"))
    at = app_test("pages/image_gan.py", query={"preset": "mnist-dcgan", "data": "cifar10"}).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="ig_data").value == "cifar10"
    assert not [t for t in at.text_input if "data" in (t.key or "") or "irectory" in t.label]
    assert "ig_data_dir" not in at.session_state
    assert not [t for t in shown(at) if str(tmp_path) in t]


def test_a_missing_dataset_names_no_server_path_on_the_page(monkeypatch, tmp_path):
    from ganlab.jobs.spec import RunSpec
    from ganlab.presets import PRESETS

    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "secret-server-folder"))
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    config = PRESETS["mnist-mlp"].config.replace(data="cifar10", steps=2, batch_size=8, device="cpu")
    (runner,) = RunSpec((config,), score=False)()
    note = runner.trainer.data.note
    assert "cifar10 is not installed on this server" in note and "GANLAB_DATA" in note
    assert "secret-server-folder" not in note and str(tmp_path) not in note


def test_resuming_a_checkpoint_whose_data_is_missing_names_no_server_path(monkeypatch, tmp_path):
    from ganlab.data.images import DataUnavailable, load_images
    from ganlab.jobs.spec import RunSpec
    from ganlab.presets import PRESETS

    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "secret-server-folder"))
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)

    class Run:  # a checked checkpoint of a cifar10 run: its trainer loads the run's data
        def make_trainer(self, data_dir=None):
            return load_images("cifar10", data_dir)

    config = PRESETS["mnist-dcgan"].config.replace(data="cifar10")
    with pytest.raises(DataUnavailable) as e:
        RunSpec((config,), resume=Run())()
    assert "not installed on this server" in str(e.value) and "secret-server-folder" not in str(e.value)


def test_every_spelling_of_the_data_folder_shares_one_copy(monkeypatch, tmp_path):
    from test_image_data import _write_idx

    from ganlab.data.images import load_images

    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    images = np.random.default_rng(0).integers(0, 256, (12, 28, 28))
    for prefix in ("train", "t10k"):
        _write_idx(tmp_path / "d" / "MNIST" / "raw", prefix, images, np.arange(12) % 10)
    a = load_images("mnist-full", data_dir=tmp_path / "d")
    b = load_images("mnist-full", data_dir=f"{tmp_path}/d/../d/.")
    monkeypatch.setenv("GANLAB_DATA", f"{tmp_path}//d/")
    assert a is b is load_images("mnist-full")
    assert str(tmp_path) not in a.note  # the note reaches students' pages


def test_the_cli_still_takes_a_data_folder_of_its_own(monkeypatch, tmp_path, capsys):
    from test_image_data import _write_idx

    from ganlab.cli import main as cli

    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "elsewhere"))
    images = np.random.default_rng(1).integers(0, 256, (40, 28, 28))
    for prefix in ("train", "t10k"):
        _write_idx(tmp_path / "mine" / "FashionMNIST" / "raw", prefix, images, np.arange(40) % 10)
    rc = cli.main(["train", "--preset", "mnist-mlp", "--set", "data=fashion-mnist", "batch_size=8", "log_every=1",
                   "--steps", "2", "--device", "cpu", "--quiet", "--json", "--data-dir", str(tmp_path / "mine")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "embedded" not in err  # the folder's own 40 images, not the fallback


# ---- 4. the Theory page's density padding ------------------------------------------------------------------------
def test_the_kde_padding_is_bounded_however_far_g_throws_its_samples(monkeypatch):
    from ganlab.theory import math1d as m1

    grid = m1.make_grid(-5, 5, 401)
    sizes = []
    real = np.convolve

    def recording(a, v, mode="full"):
        sizes.append((len(a), len(v)))
        return real(a, v, mode) if len(v) < 10 * len(grid) else np.zeros(len(a) - len(v) + 1)

    monkeypatch.setattr(m1.np, "convolve", recording)
    samples = np.random.default_rng(0).normal(0, 1e3, 10_000)  # a diverged G
    p = m1.kde(samples, grid)
    assert sizes and max(n for pair in sizes for n in pair) <= 11 * len(grid)  # padding <= 5 grid lengths a side
    assert p.shape == grid.shape and np.all(np.isfinite(p))
    assert np.all(np.isfinite(m1.kde(np.array([np.inf, np.nan, 1e308, -1e308]), grid)))


@pytest.mark.parametrize("grid", [dict(grid_hi=1e6), dict(grid_lo=-1e300), dict(grid_hi=float("inf")),
                                  dict(grid_lo=-60.0, grid_hi=-55.0, means=(-57.0,))])
def test_a_theory_grid_beyond_the_bound_is_refused(grid):
    from ganlab.theory import TheoryConfig

    with pytest.raises(ConfigError, match="grid needs -50 <= grid_lo < grid_hi <= 50"):
        TheoryConfig(**grid)
    assert TheoryConfig(grid_lo=-50.0, grid_hi=50.0, means=(0.0,)).grid_hi == 50.0


# ---- 5. the run line's rate --------------------------------------------------------------------------------------
def test_the_run_line_shows_the_rate_the_counter_moves_at():
    from ganlab.rate import counter_rate
    from ganlab.ui.mode_collapse.views import run_line

    store: dict = {}
    # runner A computes a step in 1/384 s, B in 1/53 s, but the worker shares its time: both counters move 43/s
    polls = [(t * 0.5, int(43 * t * 0.5)) for t in range(8)]
    rates = [counter_rate(store, ("job", 0), step, now) for now, step in polls]
    assert rates[0] is None  # one reading: no rate yet
    line = run_line("A", polls[-1][1], 1000, "running", rates[-1])
    assert line.startswith("Run A · step 150 / 1000 · running · ") and line.endswith(" · 43 steps/s")
    assert run_line("B", 0, 1000, "queued", None) == "Run B · step 0 / 1000 · queued"


def test_the_rate_is_over_a_recent_window_and_restarts_with_the_counter():
    from ganlab.rate import CounterRate

    r = CounterRate(window_s=5)
    for t in range(0, 11):  # 100 steps/s for 10 s ...
        r.update(100 * t, t)
    for t in range(11, 17):  # ... then paused: the rate falls to 0 within the window
        rate = r.update(1000, t)
    assert rate == 0
    r.update(5, 17.0)  # a new run in the same place: its counter starts over
    assert r.update(25, 18.0) == pytest.approx(20)


def test_the_class_table_rate_is_the_counters_rate():
    from ganlab.jobs.status import Status

    class Snap:
        step, seconds, config, history = 0, 1e-3, None, {}  # a compute rate of thousands of steps/s

    class Job:
        id, owner, page, meta, status = 1, "ada", "mode_collapse", {}, Status.RUNNING
        steps = 0

        def snapshots(self):
            return (Snap(),)

        def progress(self):
            return ((self.steps, "running"),)

    class Manager:
        def __init__(self):
            self.job = Job()

        def all_jobs(self):
            return [self.job]

    m, room = Manager(), cr.Classroom()
    clock = iter(np.arange(0, 10, 0.5))
    monkey = pytest.MonkeyPatch()
    monkey.setattr("ganlab.rate.time.monotonic", lambda: float(next(clock)))
    try:
        for _ in range(6):
            (row,) = room.rows(m)
            m.job.steps += 20  # 20 steps every 0.5 s
    finally:
        monkey.undo()
    assert row.steps_per_s == pytest.approx(40)
