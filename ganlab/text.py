"""Text a user typed, shown as itself: one place that escapes it for Markdown and HTML.

Streamlit renders st.markdown / st.info / st.warning / st.error / st.caption / st.success / st.table cells as
GitHub Markdown with extras: `$...$` is LaTeX, `:red[...]` and `:material/icon:` are directives, a bare
`https://...` or `www.x.y` becomes a link. So a URL key `[re-enter the passcode](https://evil)` would be a live
link on a classmate's page. `md` makes any string inert there with backslash escapes (CommonMark lets any ASCII
punctuation be escaped), but only where a character could start something, so a message stays readable:
  always       \\ ` * [ ] < $ | ~ #     (code, emphasis, links and images, HTML and autolinks, LaTeX, tables,
                                         strikethrough, headings)
  `_`          unless between two letters or digits (intraword `_` never makes emphasis)
  `:` and `.`  before a letter, digit or `/` for `:` (`https://`, `:red[`, `:smile:`), before a letter for `.`
               (the parser's own autolinks; the word joiner below covers the rest)
  at the start `>` `-` `+` `=` and a number's `.` or `)` (quote, list, ordered list)
A bare `www.`, `https://` or `a@b.c` gets an invisible word joiner (GFM finds those links in the text after the
escapes are resolved: Streamlit 1.67 showed `https\\://evil` as a link). Line breaks become spaces (no heading, list
or table can start on a later line), and invisible or direction-changing characters are dropped. `html_text` is the
same for HTML (Plotly titles, unsafe_allow_html). Both cut what they show to `limit` characters: an echo never
floods the page. Apply them to the user's part of a message (a value inside it), or to a whole message that has no
Markdown of its own (an error that quotes what the user typed).
"""
from __future__ import annotations

import html
import re
import unicodedata

LIMIT = 500  # characters of a user's string shown at most (then "…")
_ALWAYS = frozenset("\\`*[]<$|~#")
_AT_START = frozenset(">-+=")
# GFM also finds `www.`, `scheme://` and `a@b.c` links in the parsed text, after escapes are gone: a word joiner
# (U+2060, invisible) right after `www`, `:` before `//` and `@` keeps those from being links.
_AUTOLINK = re.compile(r"((?<![^\W_])www(?=\.)|:(?=//)|@)", re.IGNORECASE)
# Categories nothing on a page should carry: controls, format (zero-width, bidi overrides), line/paragraph
# separators, private use, unassigned.
INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn"})


def plain(text: object, limit: int | None = LIMIT) -> str:
    """str(text) on one line: line breaks and tabs as spaces, invisible characters dropped, at most `limit`."""
    out = "".join(" " if ch in "\r\n\t\v\f\x85\u2028\u2029" else ch for ch in str(text)
                  if ch in "\r\n\t\v\f\x85\u2028\u2029" or unicodedata.category(ch) not in INVISIBLE)
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


def md(text: object, limit: int | None = LIMIT) -> str:
    """`text` as literal Markdown: no link, image, HTML, emphasis, heading, list, LaTeX or directive survives."""
    t = _AUTOLINK.sub("\\1\u2060", plain(text, limit))
    lead = len(t) - len(t.lstrip())  # where a block marker (quote, list) would sit
    out = []
    for i, ch in enumerate(t):
        before, after = t[i - 1] if i else "", t[i + 1] if i + 1 < len(t) else ""
        if (ch in _ALWAYS
                or ch == "_" and not (before.isalnum() and after.isalnum())
                or ch == ":" and (after.isalnum() or after == "/")
                or ch == "." and after.isalpha()
                or ch in _AT_START and i == lead
                or ch in ".)" and i > lead and t[lead:i].isdigit()):
            out.append("\\")
        out.append(ch)
    return "".join(out)


def html_text(text: object, limit: int | None = LIMIT) -> str:
    """`text` as literal HTML (tags and entities shown, not interpreted)."""
    return html.escape(plain(text, limit), quote=True)
