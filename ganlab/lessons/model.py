"""The lesson model: frozen dataclasses, every text in English and 简体中文 side by side (a `Text`).

A lesson is ordered steps; a step teaches tutorial sections (ids from tutorials.toml), opens a page with a
setup (`Link`), asks a multiple-choice question *before* the run, says what to look for, and reveals the
answer. `Lesson.text(lang)` / `Step.text(lang)` give one language as plain strings for a page to draw.
"""
from __future__ import annotations

from dataclasses import dataclass

from ganlab.i18n import normalize
from ganlab.lessons.links import Link

LANGS = ("en", "zh")


def lang_of(lang: str | None) -> str:
    """'zh', 'zh_CN', 'zh-Hans' -> 'zh'; anything else (None, 'en-GB', 'fr') -> 'en'."""
    return "zh" if normalize(lang) == "zh" else "en"


@dataclass(frozen=True)
class Text:
    en: str
    zh: str

    def get(self, lang: str | None) -> str:
        return getattr(self, lang_of(lang))


@dataclass(frozen=True)
class Question:
    prompt: Text
    options: tuple[Text, ...]  # 2-5
    correct: int  # index into options

    @property
    def answer(self) -> Text:
        return self.options[self.correct]


@dataclass(frozen=True)
class Outcome:
    """How a step's question is judged against the class's runs: the `metric` (a history column of the linked
    page's runs, e.g. modes_captured) of run `run` (0: A, 1: B) at its latest logged interval falls in the
    inclusive range of at most one option (None: that option names no measurable outcome)."""

    run: int
    metric: str
    ranges: tuple[tuple[float, float] | None, ...]  # one per option

    def judge(self, value: float) -> int | None:
        """The option whose range holds `value` (the first, if ranges touch), else None."""
        for i, r in enumerate(self.ranges):
            if r is not None and r[0] <= value <= r[1]:
                return i
        return None


@dataclass(frozen=True)
class StepText:
    """One step in one language, plain strings (Markdown with $...$ LaTeX)."""

    id: str
    title: str
    body: str
    url: str  # the relative link, with `lang=zh` for 简体中文
    question: str
    options: tuple[str, ...]
    correct: int
    look_for: str
    reveal: str


@dataclass(frozen=True)
class Step:
    id: str
    title: Text
    body: Text  # the tutorials' material, in our own words
    link: Link
    question: Question
    look_for: Text
    reveal: Text
    sections: tuple[str, ...]  # tutorial section ids (leaves of tutorials.toml)
    outcome: Outcome | None = None  # how the class's runs answer the question (None: they do not, e.g. Class)

    def text(self, lang: str | None) -> StepText:
        lang = lang_of(lang)
        q = self.question
        return StepText(self.id, self.title.get(lang), self.body.get(lang), self.link.url(lang), q.prompt.get(lang),
                        tuple(o.get(lang) for o in q.options), q.correct, self.look_for.get(lang),
                        self.reveal.get(lang))


@dataclass(frozen=True)
class LessonText:
    id: str
    title: str
    summary: str
    steps: tuple[StepText, ...]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    steps: tuple[Step, ...]  # 5-8, in order
    file: str  # where it was read from, relative to the repository

    def text(self, lang: str | None) -> LessonText:
        return LessonText(self.id, self.title.get(lang), self.summary.get(lang),
                          tuple(s.text(lang) for s in self.steps))

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"lesson {self.id!r} has no step {step_id!r}; its steps: "
                       + ", ".join(s.id for s in self.steps))

    @property
    def sections(self) -> set[str]:
        return {sec for s in self.steps for sec in s.sections}
