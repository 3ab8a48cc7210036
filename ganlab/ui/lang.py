"""The session's language: chosen from the link (`lang=zh`), the sidebar's selector, or the browser's preference,
remembered in st.session_state, and handed to ganlab.i18n for every script run, fragment run and callback.

Order: a link's `lang` (whenever it changes) > the student's choice this session > the browser's preferred
language (st.context.locale, else the Accept-Language header) > English. Switching only changes what the
widgets and views *say*: option values are stable keys shown through `format_func`, so every widget keeps its
value and a live run keeps running (tests/test_i18n_pages.py).

ganlab.i18n keeps the language in a ContextVar, per script thread. A `st.fragment` rerun does not inherit the
value its full run set (Streamlit 1.67 starts it with a fresh context), so every fragment calls `use()` first;
widget callbacks run before the script, so the resolver registered here answers them from the session.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ganlab import i18n
from ganlab.i18n import LANGUAGES, _

KEY = "ganlab_lang"  # the selector's key: the session's language
_LINKED = "_ganlab_lang_linked"  # the link's `lang` last applied (a later change of the link wins again)
PARAM = "lang"


def _session_language() -> str | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None  # a worker thread: no session
    lang = st.session_state.get(KEY)
    return lang if lang in LANGUAGES else init()  # a page run on its own (no app.py before it): decide now


i18n.set_resolver(_session_language)


def browser_language() -> str | None:
    """The browser's preferred language, if it is one of ours ('zh-CN' -> 'zh')."""
    try:
        locale = st.context.locale
    except Exception:  # noqa: BLE001 - no browser context
        locale = None
    lang = i18n.normalize(locale) if isinstance(locale, str) else None
    if lang:
        return lang
    try:
        header = st.context.headers.get("Accept-Language") or ""
    except Exception:  # noqa: BLE001
        header = ""
    return accept_language(header if isinstance(header, str) else "")


def accept_language(header: str) -> str | None:
    """The first of our languages in an Accept-Language header, by its q weight ('zh-CN,zh;q=0.9,en;q=0.8')."""
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = i18n.normalize(tag)
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def init() -> str:
    """Once at the top of every full run (app.py; a page opened on its own calls it too): decide the session's
    language and use it for this run."""
    ss = st.session_state
    linked = i18n.normalize(st.query_params.get(PARAM))
    if linked and ss.get(_LINKED) != linked:
        ss[_LINKED] = linked
        ss[KEY] = linked
    elif ss.get(KEY) not in LANGUAGES:
        ss[KEY] = browser_language() or i18n.DEFAULT
    i18n.set_language(ss[KEY])
    return ss[KEY]


def use() -> str:
    """At the start of every fragment (and callback): this session's language for this run."""
    lang = st.session_state.get(KEY)
    if lang not in LANGUAGES:
        return init()
    i18n.set_language(lang)
    return lang


def current() -> str:
    return i18n.language()


def link_params() -> dict[str, str]:
    """What a share link adds for the language: `lang=zh` unless the page is in English."""
    lang = current()
    return {} if lang == i18n.DEFAULT else {PARAM: lang}


def _changed() -> None:
    lang = st.session_state[KEY]
    if lang != i18n.DEFAULT:
        st.session_state[_LINKED] = lang
    # Back to English the link's `lang` is deleted, but it stays noted as seen (_LINKED keeps it): a rerun the
    # browser sent before it saw the new address still carries the old `lang=zh`, which must not switch back.
    i18n.set_language(lang)
    if lang == i18n.DEFAULT:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    else:
        st.query_params[PARAM] = lang


def selector() -> None:
    """The sidebar's language switch (labelled in both languages, so anyone can find it)."""
    st.selectbox(_("Language / 语言"), tuple(LANGUAGES), key=KEY, format_func=LANGUAGES.get, on_change=_changed)


def callback(fn):
    """`fn` as a widget callback that runs in the session's language (callbacks run before the script)."""
    def run(*args, **kwargs):
        use()
        return fn(*args, **kwargs)

    return run
