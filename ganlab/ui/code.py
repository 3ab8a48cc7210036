"""The "Show the code" expander: the real ganlab functions behind what is on screen (inspect.getsource)."""
from __future__ import annotations

import inspect
from typing import Callable, Iterable

import streamlit as st


def qualified_name(obj: Callable) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def show_code(objects: Iterable[Callable], title: str = "Show the code", intro: str = "",
              formulas: Iterable[tuple[str, str]] = ()) -> None:
    """One expander: optional (caption, LaTeX) formulas, then the source of each function (once each, in order)."""
    seen: list[Callable] = []
    for obj in objects:
        if obj is not None and obj not in seen:
            seen.append(obj)
    with st.expander(title):
        if intro:
            st.markdown(intro)
        for caption, latex in formulas:
            st.caption(caption)
            st.latex(latex)
        for obj in seen:
            try:
                src = inspect.getsource(obj)
            except (OSError, TypeError):
                continue
            st.caption(f"`{qualified_name(obj)}`")
            st.code(src, language="python")
