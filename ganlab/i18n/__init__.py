"""Message catalogs and the lookup every layer uses: English source strings are the msgids, 简体中文 lives in
`locale/zh_CN/LC_MESSAGES/ganlab.po` (gettext, maintained with Babel: `python -m ganlab.i18n.catalog`).

Marking (docs/architecture.md, "Languages"):
    _("Start")                          translated now, in the caller's language
    pgettext("table column", "Step")    the same English word in another sense
    N_("Mode collapse lab")             a module-level constant: marked for extraction, translated where shown
                                        with _(CONSTANT)
    ngettext("{n} run", "{n} runs", n)  a count
Placeholders are named `{fields}` filled with .format(...) after the lookup, so a translation may reorder them.

The language is per session, never process-wide: many Streamlit sessions run at once in threads of one
process, so nothing here calls gettext.install. It lives in a ContextVar that the UI sets at the start of every
script run and every fragment run (ganlab/ui/lang.py); a fragment rerun does NOT inherit the value of the full
run that defined it (checked on Streamlit 1.67: a run_every rerun starts with a fresh context). Where the UI
cannot set it first (widget callbacks run before the script), a resolver the UI registers answers from the
session. Worker threads, the CLI and tests see English unless they set a language themselves.
No Streamlit here: the engine (viz, presets, config validation) uses the same lookup.
"""
from __future__ import annotations

import contextlib
import gettext as _gettext
import io
import threading
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Callable, Iterator

DOMAIN = "ganlab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
LANGUAGES = {"en": "English", "zh": "简体中文"}  # link value -> the language's own name (the selector shows it)
LOCALES = {"zh": "zh_CN"}  # link value -> catalog folder under LOCALE_DIR

_current: ContextVar[str | None] = ContextVar("ganlab_language", default=None)
_resolver: Callable[[], str | None] | None = None
_lock = threading.Lock()
_catalogs: dict[str, _gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Mark a constant for extraction without translating it (translate it where it is shown: _(CONSTANT))."""
    return message


def normalize(lang: object) -> str | None:
    """'zh', 'zh-CN', 'zh_Hans', 'ZH' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    if not isinstance(lang, str):
        return None
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def set_language(lang: str) -> Token:
    """Use `lang` in this context (this script run, fragment run or thread) from now on."""
    return _current.set(normalize(lang) or DEFAULT)


def set_resolver(fn: Callable[[], str | None] | None) -> None:
    """The UI's answer for contexts that did not set a language (a widget callback): the session's choice."""
    global _resolver
    _resolver = fn


def language() -> str:
    lang = _current.get()
    if lang is None and _resolver is not None:
        try:
            lang = normalize(_resolver())
        except Exception:  # noqa: BLE001 - no session here (a worker thread): the default
            lang = None
    return lang or DEFAULT


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """Temporarily use `lang` (tests, a screenshot, a CLI that wants Chinese)."""
    token = set_language(lang)
    try:
        yield
    finally:
        _current.reset(token)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(lang: str) -> _gettext.NullTranslations:
    """The language's catalog, compiled in memory from its .po (fuzzy entries left out), once per process."""
    with _lock:
        if lang not in _catalogs:
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with open(po_path(lang), "rb") as f:
                catalog = read_po(f, locale=LOCALES[lang], domain=DOMAIN)
            buf = io.BytesIO()
            write_mo(buf, catalog, use_fuzzy=False)
            buf.seek(0)
            _catalogs[lang] = _gettext.GNUTranslations(buf)
        return _catalogs[lang]


def translations(lang: str | None = None) -> _gettext.NullTranslations:
    lang = lang or language()
    return _gettext.NullTranslations() if lang == DEFAULT or lang not in LOCALES else _load(lang)


def gettext(message: str) -> str:
    """`message` in this context's language (English: itself)."""
    lang = language()
    return message if lang == DEFAULT else translations(lang).gettext(message)


def pgettext(context: str, message: str) -> str:
    """`message` in the sense `context` names (one English word, two Chinese ones: a "Step" button vs column)."""
    lang = language()
    return message if lang == DEFAULT else translations(lang).pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = language()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return translations(lang).ngettext(singular, plural, n)


_ = gettext

# Job statuses as the pages show them (ganlab.jobs.Status values are the msgids).
STATUS_LABELS = {s: s for s in (N_("queued"), N_("starting"), N_("running"), N_("paused"), N_("done"),
                                N_("stopped"), N_("diverged"), N_("error"))}


def status(value: object) -> str:
    """A job or run status ('running') in this context's language; an unknown one as itself."""
    s = str(value)
    return gettext(s) if s in STATUS_LABELS else s
