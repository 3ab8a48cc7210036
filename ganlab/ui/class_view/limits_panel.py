"""The teacher's class limit on the Class page: how long one step of a student's run may take on this server.

Admission (ganlab/jobs/cost/, checked in JobManager.submit) refuses a run whose estimated step is dearer; the
default keeps every counter moving once a second with a full class. A teacher who wants one heavy run for a
demonstration raises it here (GANLAB_CLASS_STEP_LIMIT_S sets the server's start value). The callback checks
again that this session is the teacher's.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from ganlab import jobs
from ganlab.i18n import _
from ganlab.ui import teacher

KEY = "class_step_limit"
MEMORY_KEY = "class_memory_limit"
MAX_S = 3600.0
MAX_MB = 1 << 20


def _set(say: Callable[[str, str], None], not_teacher: str) -> None:
    if not teacher.is_teacher():
        say("error", not_teacher)
        return
    value = float(st.session_state.get(KEY) or 0.0)
    mb = float(st.session_state.get(MEMORY_KEY) or 0.0)
    limits = jobs.manager().limits
    limits.step_s = value if value > 0 else None
    limits.memory_mb = mb if mb > 0 else None
    step = (_("a run may take up to {seconds:g} s per step").format(seconds=value) if value > 0
            else _("no limit on the seconds per step"))
    memory = (_("up to {mb:,.0f} MB of memory").format(mb=mb) if mb > 0 else _("no limit on memory"))
    say("success", _("Class limit set: {step}, {memory}.").format(step=step, memory=memory))


def render(say: Callable[[str, str], None], not_teacher: str) -> None:
    """The limit's form (teacher only: the caller draws it inside the unlocked controls)."""
    limits = jobs.manager().limits
    if KEY not in st.session_state:
        st.session_state[KEY] = float(limits.step_s or 0.0)
    if MEMORY_KEY not in st.session_state:
        st.session_state[MEMORY_KEY] = float(limits.memory_mb or 0.0)
    with st.form("class_limits", border=True):
        st.markdown(_("**Class limit** (how heavy one student's run may be)"))
        st.number_input(_("Seconds per training step, at most (0 = no limit)"), key=KEY, min_value=0.0,
                        max_value=MAX_S, step=0.05, format="%.2f",
                        help=_("Start refuses a run whose step would take longer on this server, and says what "
                               "to lower. The default keeps every student's counter moving at least once a "
                               "second with a full class; raise it for one heavy demonstration run."))
        st.number_input(_("Memory per run, at most, in MB (0 = no limit)"), key=MEMORY_KEY, min_value=0.0,
                        max_value=float(MAX_MB), step=256.0, format="%.0f",
                        help=_("Weights, optimiser state, one step's activations and the run's copy of its data."))
        st.form_submit_button(_("Set the limit"), on_click=_set, args=(say, not_teacher))
