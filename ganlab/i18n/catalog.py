"""Extraction and catalog upkeep with Babel: every `_()`, `N_()` and `ngettext()` string of the app's code.

    python -m ganlab.i18n.catalog          extract, then update locale/zh_CN/LC_MESSAGES/ganlab.po: new strings
                                           come in untranslated, strings no longer in the code leave
    python -m ganlab.i18n.catalog --check  only report (exit 1 when an entry is missing, empty, fuzzy or unused)

tests/test_i18n_catalog.py runs the same checks. No Streamlit here.
"""
from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from ganlab.i18n import DOMAIN, LOCALES, po_path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app.py", "pages", "ganlab")  # what is scanned, relative to the repository root
SKIP = ("ganlab/cli",)  # the CLI stays English
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
Msgid = str | tuple[str, str]
Key = tuple[Msgid, str | None]  # (msgid, context)
HEADER = ("# 简体中文 for ganlab. English source strings are the msgids; regenerate the list with\n"
          "# `python -m ganlab.i18n.catalog` (Babel), then translate the empty entries.\n#")


def source_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for s in SOURCES:
        p = root / s
        files += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return [f for f in files if not any(f.relative_to(root).as_posix().startswith(s) for s in SKIP)]


def extract(root: Path = ROOT) -> dict[Key, list[tuple[str, int]]]:
    """(msgid (or (singular, plural)), context) -> [(file, line)] of every marked string."""
    found: dict[Key, list[tuple[str, int]]] = {}
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        for lineno, message, _comments, context in extract_from_file("python", str(path), keywords=KEYWORDS):
            if isinstance(message, tuple):
                message = (message[0], message[1])
            if message:
                found.setdefault((message, context), []).append((rel, lineno))
    return found


def template(root: Path = ROOT) -> Catalog:
    cat = Catalog(domain=DOMAIN, project="ganlab", charset="utf-8")
    for (msgid, context), where in extract(root).items():
        cat.add(msgid, locations=where, flags=("python-brace-format",) if placeholders(msgid) else (),
                context=context)
    return cat


def read(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as f:
        return read_po(f, locale=LOCALES[lang], domain=DOMAIN)


def write(cat: Catalog, lang: str) -> None:
    with open(po_path(lang), "wb") as f:
        write_po(f, cat, width=116, sort_output=False, sort_by_file=True, ignore_obsolete=True,
                 include_previous=False)


def update(lang: str, root: Path = ROOT) -> Catalog:
    """The language's catalog brought in line with the code (no fuzzy guessing: a changed msgid is new)."""
    path = po_path(lang)
    cat = read(lang) if path.exists() else Catalog(locale=LOCALES[lang], domain=DOMAIN, project="ganlab")
    created = cat.creation_date
    cat.update(template(root), no_fuzzy_matching=True, update_header_comment=False)
    cat.obsolete.clear()
    cat.creation_date, cat.revision_date = created, created  # no date churn in the file's history
    cat.fuzzy = False
    cat.version, cat.last_translator, cat.language_team = "1", "ganlab", "ganlab"
    cat.msgid_bugs_address = ""
    cat.header_comment = HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    write(cat, lang)
    return cat



def placeholders(text: Msgid) -> set[str]:
    """The `{fields}` a message formats (named fields; `{{` and `}}` are literal braces)."""
    texts = text if isinstance(text, tuple) else (text,)
    out: set[str] = set()
    for t in texts:
        try:
            out |= {f for _lit, f, _spec, _conv in string.Formatter().parse(t) if f is not None}
        except ValueError:  # not a format string (a stray brace): no fields
            pass
    return out


def problems(lang: str, root: Path = ROOT) -> dict[str, list[str]]:
    """What is wrong with the language's catalog against the code: missing, empty, fuzzy, unused entries and
    translations whose placeholders differ from their msgid's."""
    code = extract(root)
    cat = read(lang)
    out: dict[str, list[str]] = {"missing": [], "empty": [], "fuzzy": [], "unused": [], "placeholders": []}
    entries = {(m.id, m.context): m for m in cat if m.id}
    for (msgid, context), where in code.items():
        m = entries.get((msgid, context))
        if m is None:
            out["missing"].append(f"{where[0][0]}:{where[0][1]}: {msgid!r}")
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(strings):
            out["empty"].append(repr(msgid))
        elif m.fuzzy:
            out["fuzzy"].append(repr(msgid))
        elif any(placeholders(s) != placeholders(msgid) for s in strings):
            out["placeholders"].append(f"{msgid!r}: {placeholders(msgid)} vs {strings!r}")
    out["unused"] = [repr(k) for k in entries if k not in code]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ganlab.i18n.catalog", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report problems (exit 1 when there are any)")
    args = ap.parse_args(argv)
    bad = 0
    for lang in LOCALES:
        if not args.check:
            cat = update(lang)
            print(f"{po_path(lang).relative_to(ROOT)}: {len([m for m in cat if m.id])} entries")
        for kind, items in problems(lang).items():
            if items:
                bad += len(items)
                print(f"{lang}: {len(items)} {kind}", file=sys.stderr)
                for item in items[:20]:
                    print(f"  {item}", file=sys.stderr)
    return 1 if bad and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
