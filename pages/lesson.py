"""Lesson: one step of a lesson at a time -- the tutorials' material, a question to answer before running, the
link that opens the page with the step's setup, what to look for, and the reveal.

Thin page: which step (ganlab/ui/lesson/follow.py: the teacher's while a class lesson runs, else the student's
own, moved with Previous / Next) -> the step (ganlab/ui/lesson/step_view.py). When the teacher moves the class
on, the page notices within a second or two (ganlab/ui/watch.py) and shows the new step.
"""
from ganlab.ui import session
from ganlab.ui.lesson import follow, header, step_view

owner = session.owner()
shown = follow.shown()
header.draw(shown)
step_view.draw(shown, owner)
header.follow_the_class()
