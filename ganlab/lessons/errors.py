"""LessonError: what is wrong in a lesson file, naming the file, the step and the field."""
from __future__ import annotations


class LessonError(ValueError):
    """A lesson file is invalid. The message is one line: `<file>: step <n> '<id>', <field>: <what is wrong>`
    (step n counts from 1 in the file's order).

    Messages are English, like the CLI's: they are read by whoever writes a lesson file (docs/architecture.md,
    "Lessons"); the lesson's own texts carry both languages."""

    def __init__(self, file: str, reason: str, step: int | None = None, step_id: str = "", field: str = ""):
        self.file, self.reason, self.step, self.step_id, self.field = file, reason, step, step_id, field
        where = []
        if step is not None:
            where.append(f"step {step}" + (f" {step_id!r}" if step_id else ""))
        if field:
            where.append(field)
        super().__init__(f"{file}: " + (", ".join(where) + ": " if where else "") + reason)
