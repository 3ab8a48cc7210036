"""`python -m ganlab lessons [FILE ...] [--steps] [--lang en|zh]`: list the lessons and validate them.

Without files: the shipped lessons (ganlab/lessons/data/), one line each, and how many of the tutorials'
sections they cover. With files: validates those (a teacher's new lesson) the same way. An invalid file exits 2
with one line naming the file, the step and the field (ganlab.lessons.LessonError)."""
from __future__ import annotations

import argparse

from ganlab.cli.common import UsageError


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("lessons", help="list the lessons and validate them")
    p.add_argument("files", nargs="*", help="lesson files to validate instead of the shipped ones")
    p.add_argument("--steps", action="store_true", help="also list each lesson's steps (id, link, title)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the titles (default en)")
    p.set_defaults(func=cmd_lessons)
    return p


def cmd_lessons(args: argparse.Namespace) -> int:
    from ganlab import lessons
    from ganlab.lessons import tutorials

    try:
        found = [lessons.load_file(f) for f in args.files] if args.files else lessons.load_dir(lessons.LESSONS_DIR)
    except lessons.LessonError as e:
        raise UsageError(str(e)) from None
    if not found:
        raise UsageError(f"no lesson files (*.toml) in {lessons.LESSONS_DIR}")
    width = max(len(x.id) for x in found)
    for i, lesson in enumerate(found, 1):
        print(f"{i:>2}  {lesson.id:<{width}}  {len(lesson.steps)} steps  {lesson.title.get(args.lang)}")
        if args.steps:
            for j, s in enumerate(lesson.steps, 1):
                print(f"      {j}. {s.id:<20} /{s.link.url():<55} {s.title.get(args.lang)}")
    cited = set().union(*(x.sections for x in found))
    leaves = tutorials.leaves()
    print(f"{len(found)} lesson(s) valid; they teach {len(cited & set(leaves))} of the tutorials' {len(leaves)} "
          "sections")
    missing = tutorials.uncovered(cited)
    if missing and not args.files:
        print("not covered: " + ", ".join(f"{s.id} ({s.en})" for s in missing))
    return 0
