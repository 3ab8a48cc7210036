"""The class lesson on the Class page (for the projector): the current step, how the class predicted, and what
its runs did -- "17 of 28 predicted 0 to 2; 26 of 27 runs ended there".

Runs counted: those on the step's page started since the teacher moved to the step (job id above the pace's
`first_job`), judged by the step's outcome (its metric for run A or B at the latest logged interval, the option
whose range holds it: ganlab/lessons/pacing.py). Drawn inside the page's live fragment: it follows the class.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ganlab import jobs
from ganlab.i18n import _, ngettext
from ganlab.jobs import classroom
from ganlab.lessons.pacing import tally
from ganlab.text import md
from ganlab.ui import lang
from ganlab.ui.lesson import follow

JOB_PAGE = {"": "mode_collapse", "image_gan": "image_gan", "theory": "theory"}  # link page -> a job's page tag
MAX_NAMES = 12  # nicknames listed per answer; the rest as "and N more"


def _names(nicks: list[str]) -> str:
    shown = ", ".join(nicks[:MAX_NAMES])
    more = len(nicks) - MAX_NAMES
    return shown + (" " + _("and {n} more").format(n=more) if more > 0 else "")


def render() -> None:
    paced = follow.class_pace()
    if paced is None:
        return
    lesson, pace = paced
    step = lesson.steps[pace.step]
    text = step.text(lang.current())
    room = classroom.classroom()
    answers = room.pacing.answers(lesson.id, step.id)
    page = JOB_PAGE.get(step.link.page)
    runs = [j.snapshots() for j in jobs.manager().all_jobs() if page and j.page == page and j.id > pace.first_job]
    t = tally(step, answers, runs)
    st.markdown(_("**Lesson:** {title} · step {k} of {n}: {step}").format(
        title=lesson.text(lang.current()).title, k=pace.step + 1, n=len(lesson.steps), step=text.title))
    right = text.options[text.correct]
    said = _("{p} of {n} predicted “{option}”").format(p=t.predicted[text.correct], n=t.answered, option=right)
    if step.outcome is not None:
        said += "; " + _("{r} of {n} runs ended there").format(r=t.runs[text.correct], n=t.judged)
    st.markdown(f"{md(text.question)}  \n**{said}.**")
    who: dict[int, list[str]] = {}
    for owner, option in answers.items():
        who.setdefault(option, []).append(room.nickname(owner))
    table = pd.DataFrame({
        _("Answer"): [("✓ " if i == text.correct else "") + o for i, o in enumerate(text.options)],
        _("Predicted"): list(t.predicted),
        _("Runs"): [str(r) if step.outcome is not None else "–" for r in t.runs],
        _("Who predicted it"): [_names(sorted(who.get(i, []), key=str.casefold)) for i in range(len(text.options))],
    })
    st.table(table.set_index(_("Answer")))
    if step.outcome is not None and t.elsewhere:
        st.caption(ngettext("{n} run ended in none of the answers' ranges.",
                            "{n} runs ended in none of the answers' ranges.", t.elsewhere).format(n=t.elsewhere))
    elif step.outcome is None:
        st.caption(_("This step's question is not judged by runs: read the answer with the class."))
