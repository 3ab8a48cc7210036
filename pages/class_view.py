"""Class: every run on this server, live, for the teacher's projector -- who trains what, the lesson's number,
the point clouds side by side and the sample grids -- and, behind the passcode, the teacher's controls.

Thin page: the teacher's part (ganlab/ui/class_view/teacher_panel.py: passcode, class-wide commands, the
announcement) -> the live table and gallery (ganlab/ui/class_view/views.py, rows from ganlab.jobs.classroom,
the gallery figure from ganlab/viz/class_view.py) -> the census (ganlab/ui/class_view/census_view.py: the
class's runs grouped by what was changed, beside PacGAN's Table 1, with CSV downloads). Students see no controls here.
"""
import streamlit as st

from ganlab.i18n import _
from ganlab.ui import lang, session
from ganlab.ui.class_view import census_view, saved_view, teacher_panel, views
from ganlab.ui.lesson import tally_view, teacher_controls

session.owner()
st.title(_("Class"))
st.caption(_("Every run on this server, live: who trains what, how far, and the number its lesson is about. "
             "Put the gallery on the projector: whose rings collapsed, whose did not?"))
views.refuse_link_commands()
teacher_panel.render()
teacher_controls.render()  # the class lesson: start, pace, end (teacher only)


@st.fragment(run_every=views.REFRESH_S)
def class_view() -> None:
    lang.use()  # a fragment rerun starts without the full run's language
    rows = views.rows()
    views.table(rows)
    teacher_panel.stop_one(rows)
    tally_view.render()  # the class lesson's step: predictions against runs (while one runs)
    views.toy_gallery(rows)
    views.image_gallery(rows)
    census_view.render()


class_view()
saved_view.render()  # the day's runs from the run store (also from before a restart), and their CSV
