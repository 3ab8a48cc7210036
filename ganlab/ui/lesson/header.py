"""The Lesson page's top row: the lesson's title, where the student is (step k of n), and how they move: the
teacher's pace (a toggle to go alone) or their own (lesson picker, Previous / Next). And what the page's poll
(the banner's tick) watches: when the teacher moves the class on, a full rerun shows the new step."""
from __future__ import annotations

import streamlit as st

from ganlab import lessons
from ganlab.i18n import _, pgettext
from ganlab.jobs import classroom
from ganlab.ui import lang, watch
from ganlab.ui.lesson import follow


def _follow_changed(shown_now: follow.Shown) -> None:
    if not st.session_state.get(follow.FOLLOW, True):
        follow.go_alone_from(shown_now)


def draw(shown: follow.Shown) -> None:
    lt = shown.lesson.text(lang.current())
    n = len(shown.lesson.steps)
    where = _("Step {k} of {n}").format(k=shown.index + 1, n=n)
    if shown.paced:
        c1, c2, c3 = st.columns([4, 3, 2], vertical_alignment="center")
        c1.markdown("**" + _("Lesson: {title}").format(title=lt.title) + "**")
        c2.markdown(_("**{where}** · your teacher moves the class from step to step").format(where=where))
    else:
        c1, c2, c3, c4, c5 = st.columns([3, 3, 1.3, 1.3, 1.6], vertical_alignment="center")
        c1.markdown("**" + _("Lesson: {title}").format(title=lt.title) + "**")
        all_ = lessons.all_lessons()
        ids = [x.id for x in all_]
        c2.selectbox(pgettext("a lesson", "Lesson"), ids, index=ids.index(shown.lesson.id),
                     format_func=lambda i: lessons.get(i).title.get(lang.current()), key="lesson_pick_lesson",
                     on_change=lambda: follow.choose_lesson(st.session_state["lesson_pick_lesson"]),
                     label_visibility="collapsed")
        c3.button(_("Previous"), key="lesson_prev", on_click=follow.move, args=(-1,), disabled=shown.index == 0,
                  width="stretch", help=where)
        c4.button(_("Next"), key="lesson_next", on_click=follow.move, args=(1,), disabled=shown.index >= n - 1,
                  width="stretch", help=where)
        c5.markdown(f"**{where}**")
        c3 = c5
    if follow.class_pace() is not None:
        c3.toggle(_("Follow the teacher"), value=True, key=follow.FOLLOW, on_change=_follow_changed, args=(shown,),
                  help=_("Off: go through the lesson at your own pace"))
    elif not shown.paced:
        c1.caption(_("At your own pace: no class lesson is running."))


def follow_the_class() -> None:
    """Note the class's lesson (its version moves at every start, step and stop): the banner's tick on this page
    (ganlab/ui/class_view/banner.py, every LESSON_POLL_S) reruns the page once it moved on."""
    pacing = classroom.classroom().pacing
    watch.note("lesson", pacing.version, lambda: pacing.version)
