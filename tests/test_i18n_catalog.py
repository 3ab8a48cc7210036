"""The 简体中文 catalog against the code (Babel extraction of every `_()`, `N_()` and `ngettext()` string in
app.py, pages/ and ganlab/): every string has a Chinese entry that is neither empty nor fuzzy, no entry is
unused, every translation formats the same `{placeholders}` as its msgid; and the UI layer passes no unmarked
English literal to a Streamlit call. The lookup itself: per context (thread, ContextVar), never process-wide.
"""
from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest

from ganlab import i18n
from ganlab.i18n import catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return catalog.problems("zh")


def test_the_catalog_has_entries_for_the_whole_ui():
    found = catalog.extract()
    entries = [m for m in catalog.read("zh") if m.id]
    print(f"\n{len(found)} marked strings in the code, {len(entries)} entries in the zh_CN catalog")
    assert len(found) > 400  # pages, widgets, figures, lessons, messages
    for expected in ("Mode collapse lab", "Start", "Pause", "Reset", "Run {name} · step {step} / {steps} · {status}"):
        assert (expected, None) in found


@pytest.mark.parametrize("kind", ["missing", "empty", "fuzzy", "unused", "placeholders"])
def test_catalog_is_complete_and_in_line_with_the_code(problems, kind):
    assert not problems[kind], f"{len(problems[kind])} {kind} (run `python -m ganlab.i18n.catalog`):\n" + \
        "\n".join(problems[kind][:30])


def test_placeholders_are_compared_by_name():
    assert catalog.placeholders("step {step} / {steps:,}") == {"step", "steps"}
    assert catalog.placeholders("{{literal}} {a!r}") == {"a"}
    assert catalog.placeholders(("{n} run", "{n} runs")) == {"n"}


# ---- unmarked literals in the UI layer -----------------------------------------------------------------------
UI_FILES = ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py")),
            *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ganlab" / "ui").rglob("*.py"))]
# Streamlit calls whose first argument (or these keywords) a user reads.
TEXT_CALLS = {"title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success",
              "toast", "button", "download_button", "form_submit_button", "link_button", "page_link", "checkbox",
              "toggle", "radio", "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input",
              "text_area", "file_uploader", "expander", "popover", "metric", "spinner", "Page", "number"}
TEXT_KEYWORDS = {"label", "help", "placeholder", "caption", "title", "help_start", "intro", "building"}
WORDS = re.compile(r"[A-Za-z]{2,}")
# Formulas shown as themselves in every language (metric labels of the Theory page) and the bilingual switch.
SAME_IN_EVERY_LANGUAGE = {"V(D*, G)", "−log 4 + 2·JSD", "JSD(p_data ‖ p_g)", "max |D − D*|",
                          "z ~ N(0, I) or U[-1, 1]^k"}


def _literal_text(node: ast.AST) -> str | None:
    """The English words of a literal string or f-string argument, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) or _literal_text(node.right)
    else:
        return None
    if text in SAME_IN_EVERY_LANGUAGE or not WORDS.search(re.sub(r"\{[^}]*\}|`[^`]*`", "", text)):
        return None
    return text


def unmarked_literals(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = []
        if name in TEXT_CALLS and node.args and name != "Page":  # st.Page's first argument is the script
            args.append(node.args[1] if name == "number" and len(node.args) > 1 else node.args[0])
        if name in TEXT_CALLS or name in ("buttons", "live_snapshots", "show_code", "preset_row"):
            args += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in args:
            text = _literal_text(arg)
            if text is not None:
                out.append(f"{path.relative_to(ROOT)}:{arg.lineno}: {name}({text!r})")
    return out


def test_the_ui_layer_marks_every_literal_it_shows():
    found = [hit for f in UI_FILES for hit in unmarked_literals(ROOT / f)]
    assert not found, "unmarked user-visible strings (wrap them in _() or N_()):\n" + "\n".join(found)


def test_the_literal_check_finds_what_it_should(tmp_path):
    sample = tmp_path / "page.py"
    sample.write_text('import streamlit as st\nst.button("Start")\nst.caption(f"step {n}")\n'
                      'st.markdown(_("fine"))\nst.info("x = 1", help="Shown on hover")\nst.metric("V(D*, G)", 1)\n')
    hits = [h.split(": ", 1)[1] for h in unmarked_literals_at(sample, tmp_path)]
    assert hits == ["button('Start')", "caption('step ')", "info('Shown on hover')"]


def unmarked_literals_at(path: Path, root: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return unmarked_literals(path)
    finally:
        ROOT = saved


# ---- the lookup ----------------------------------------------------------------------------------------------
def test_lookup_is_per_context_and_never_global():
    assert i18n.gettext("Start") == "Start"  # no language set: English
    seen = {}

    def worker(lang: str) -> None:
        i18n.set_language(lang)
        seen[lang] = [i18n.gettext("Start") for _ in range(200)]

    threads = [threading.Thread(target=worker, args=(lang,)) for lang in ("zh", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen["zh"]) == {"开始"} and set(seen["en"]) == {"Start"}
    assert i18n.gettext("Start") == "Start"  # the threads' choices stayed in their own contexts
    with i18n.using("zh"):
        assert i18n.gettext("Start") == "开始"
        assert i18n.status("running") == "运行中"
        assert i18n.ngettext("Paused {n} run.", "Paused {n} runs.", 3).format(n=3) == "已暂停 3 个运行。"
    assert i18n.language() == "en"


def test_language_names_and_browser_preferences():
    from ganlab.ui.lang import accept_language

    assert i18n.normalize("zh-CN") == i18n.normalize("zh_Hans") == "zh"
    assert i18n.normalize("en-GB") == "en" and i18n.normalize("fr") is None
    assert accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert accept_language("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert accept_language("fr-FR,zh-TW;q=0.5") == "zh"
    assert accept_language("") is None


def test_english_source_strings_keep_the_wording_tools_read():
    from ganlab.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match=r"^z_dim must be between 1 and 512, got 0$"):
        TrainConfig(z_dim=0)
    with i18n.using("zh"):
        with pytest.raises(ConfigError, match="z_dim"):
            TrainConfig(z_dim=0)
        try:
            TrainConfig(z_dim=0)
        except ConfigError as e:
            assert re.search(r"[\u4e00-\u9fff]", str(e)), str(e)
