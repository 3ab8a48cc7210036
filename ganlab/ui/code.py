"""The "Show the code" expander: the real ganlab functions behind what is on screen (inspect.getsource)."""
from __future__ import annotations

import inspect
from typing import Callable, Iterable

import streamlit as st

from ganlab.i18n import N_, _

SHOW_CODE = N_("Show the code")


def qualified_name(obj: Callable) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def show_code(objects: Iterable[Callable], title: str = SHOW_CODE, intro: str = "",
              formulas: Iterable[tuple[str, str]] = ()) -> None:
    """One expander: optional (caption, LaTeX) formulas, then the source of each function (once each, in order).
    `title`, `intro` and the captions are translated here (pass English msgids marked with N_ or _)."""
    seen: list[Callable] = []
    for obj in objects:
        if obj is not None and obj not in seen:
            seen.append(obj)
    with st.expander(_(title)):
        if intro:
            st.markdown(_(intro))
        for caption, latex in formulas:
            st.caption(_(caption))
            st.latex(latex)
        for obj in seen:
            try:
                src = inspect.getsource(obj)
            except (OSError, TypeError):
                continue
            st.caption(f"`{qualified_name(obj)}`")
            st.code(src, language="python")
