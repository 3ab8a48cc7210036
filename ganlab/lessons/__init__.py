"""Lessons as data: one TOML file per lesson in data/ (English and 简体中文 side by side), validated on load.

    from ganlab import lessons
    lessons.all_lessons()            [Lesson, ...] in file order, read and validated once
    lessons.get("mode-collapse")     one lesson (KeyError naming the known ids)
    lesson.text("zh").steps[0].body  one language as plain strings (Markdown with $...$ LaTeX)

Model: model.py; reading and validation (LessonError names file, step and field): loader.py; links checked as
the pages read them: links.py; the tutorials' sections that the lessons must cover: tutorials.toml / .py.
No Streamlit here (docs/architecture.md, "Lessons").
"""
from __future__ import annotations

from functools import lru_cache

from ganlab.lessons.errors import LessonError
from ganlab.lessons.loader import LESSONS_DIR, load_dir, load_file
from ganlab.lessons.model import Lesson, LessonText, Step, StepText, Text

__all__ = ["LESSONS_DIR", "Lesson", "LessonError", "LessonText", "Step", "StepText", "Text", "all_lessons", "get",
           "load_dir", "load_file"]


@lru_cache(maxsize=1)
def _shipped() -> tuple[Lesson, ...]:
    return tuple(load_dir(LESSONS_DIR))


def all_lessons() -> list[Lesson]:
    """The shipped lessons in order (read once; a broken file raises LessonError)."""
    return list(_shipped())


def get(lesson_id: str) -> Lesson:
    for lesson in _shipped():
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}; lessons: {', '.join(x.id for x in _shipped())}")
