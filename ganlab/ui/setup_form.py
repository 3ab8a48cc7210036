"""What the training pages' setup forms share (Mode collapse lab, Image GAN; `panel` on the Theory page too).

A setup form keeps its widget values in st.session_state under the page's prefix (no widget gets `value=`), so
a preset or a share link writes them before the widgets are drawn (ganlab/ui/state.py keeps them across page
switches). While a run is active (`locked`), only the settings a live run can take (LIVE_KEYS: losses,
learning rates, betas, D steps, remedies other than packing, the step budget) stay editable; the page sends
them to the running job (controls.sync_live).

The whole setup sits in one expander (`panel`): open before a run, folded into a one-line summary from Start
until Reset, so the live view is what a student sees first, even on a 1366x768 laptop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import streamlit as st

from ganlab.engine.trainer import LIVE_KEYS
from ganlab.i18n import _, language
from ganlab.losses import LOSSES
from ganlab.presets import PRESETS
from ganlab.ui.links import CUSTOM


def loss_label(key: str) -> str:
    """The loss's name as the user reads it ('Non-saturating'), in the session's language; an unknown key as
    itself."""
    return _(LOSSES[key].label) if key in LOSSES else key


def preset_label(name: str) -> str:
    """A preset picker's option: the preset's name, or "(custom)" in the session's language."""
    return _("(custom)") if name == CUSTOM else name


def locked_out(name: str, locked: bool) -> bool:
    """Is the setting `name` disabled? While a run is active, all but the live-changeable ones are."""
    return locked and name not in LIVE_KEYS


@dataclass(frozen=True)
class SetupForm:
    """One page's setup form: its session-state prefix, its presets, and how a share link or a preset is
    written into its widgets' values."""

    prefix: str
    presets: tuple[str, ...]  # the picker's presets (CUSTOM comes first)
    load_link: Callable[[Mapping[str, Any]], list[str]]  # a link's query params -> widget values; its warnings
    load_preset: Callable[[str], None]  # a preset's name -> widget values

    def init(self) -> list[str]:
        """First visit in this session: write the URL's setup (or the default preset) into the widgets' values.
        Every run returns that link's warnings, for the page to show."""
        ss, p = st.session_state, self.prefix
        if not ss.get(p + "ready"):
            warnings = self.load_link(st.query_params.to_dict())
            ss[p + "ready"] = True
            ss[p + "link_warnings"] = warnings
        return ss.get(p + "link_warnings", [])

    def on_preset(self) -> None:
        """The preset picker's callback: load the chosen preset (CUSTOM keeps the widgets as they are)."""
        name = st.session_state[self.prefix + "preset"]
        if name in PRESETS:
            self.load_preset(name)

    def preset_select(self, locked: bool, help: str) -> str:
        """The preset picker; returns the chosen preset's name (or CUSTOM)."""
        st.selectbox(_("Preset"), (CUSTOM, *self.presets), key=self.prefix + "preset", on_change=self.on_preset,
                     disabled=locked, help=help, format_func=preset_label)
        return st.session_state[self.prefix + "preset"]

    def number(self, col, label: str, name: str, locked: bool, *, key: str | None = None, off: bool = False,
               **kw: Any) -> None:
        """A number input for the config field `name` (value under `key`, else prefix + name), disabled while
        the run holds it (locked_out) or when it does not apply (`off`, e.g. a DCGAN width for an MLP)."""
        col.number_input(label, key=key or self.prefix + name, disabled=locked_out(name, locked) or off, **kw)


def preset_row(form, locked: bool, compare_key: str, preset_help: str, compare_help: str, custom_hint: str):
    """A setup's first row: the preset picker and the "compare with run B" box, beside the preset's lesson.
    Returns (preset name, the lesson's column for more widgets, True when a preset rather than a custom setup
    is chosen)."""
    c1, c2 = st.columns([1, 3])
    with c1:
        name = form.preset_select(locked, help=preset_help)
        st.checkbox(_("Compare with a second run B"), key=compare_key, disabled=locked, help=compare_help)
    with c2:
        chosen = lesson(name, custom_hint)
    return name, c2, chosen


def lesson(name: str, custom_hint: str) -> bool:
    """The preset's lesson in a box (True), or `custom_hint` when no preset is chosen (False)."""
    if name in PRESETS:
        st.info(f"**{name}** — {PRESETS[name].text()}")
        return True
    st.caption(custom_hint)
    return False


def panel(prefix: str, label: str, job_id: int | None, summary: Callable[[], str]):
    """The expander that holds a page's setup. While the page shows no run: open, under `label`. From Start
    until Reset (the page's slot holds job `job_id`): folded, under `summary()` of the setup that run started
    with, so the live view is the first thing on screen; a student opens it to change what a running run
    takes (losses, learning rates) or, once it ended, to set up the next one.

    The folded label is computed once per run and kept (under prefix + "summary"): Streamlit re-folds an
    expander whose label changed, which would close it under the student's hand at every edit.
    """
    if job_id is None:
        return st.expander(label, expanded=True)
    held = st.session_state.get(prefix + "summary")
    if held is None or held[0] != (job_id, language()):  # a new run, or the student switched the language
        held = st.session_state[prefix + "summary"] = ((job_id, language()), summary())
    return st.expander(held[1], expanded=False)
