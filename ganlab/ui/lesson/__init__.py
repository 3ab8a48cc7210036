"""The Lesson page and the teacher's lesson controls: which step a student sees (follow.py), the step itself with
its question asked before the run (step_view.py), the teacher's pacing on the Class page (teacher_controls.py) and
the class's predictions against what its runs did (tally_view.py)."""
