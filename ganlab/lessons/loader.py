"""Read and validate lesson files (TOML, read by Python's tomllib): a LessonError names the file, the step and
the field of the first problem found.

The file format (README, "Lessons"; the shipped files in data/ are the examples):

    id = "mode-collapse"                           lowercase letters, digits and '-'
    title = { en = "...", zh = "..." }             every text: both languages, non-empty
    summary = { en = "...", zh = "..." }
    [[step]]                                       5 to 8 steps, in order
    id = "collapse"                                unique within the lesson
    title = { en = "...", zh = "..." }
    body = { en = "...", zh = "..." }              Markdown; $...$ / $$...$$ LaTeX
    link = "?preset=ring-collapse&b_pack=4"        url path ("", image_gan, latent_space, theory, class) + query
    sections = ["t1.9", "t5.8.2"]                  leaves of tutorials.toml
    look_for = { en = "...", zh = "..." }
    reveal = { en = "...", zh = "..." }
    [step.question]                                asked before the run
    en = "..."
    zh = "..."
    [[step.question.option]]                       2 to 5 options, exactly one with correct = true
    en = "..."
    zh = "..."
    correct = true
    range = [0, 2]                                 with [step.outcome]: the runs' values that answer this option
    [step.outcome]                                 optional: how the class's runs answer the question
    run = "A"                                      which run of the linked page ("A" or "B")
    metric = "modes_captured"                      a logged metric of that page's runs (OUTCOME_METRICS)
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ganlab.lessons.errors import LessonError
from ganlab.lessons.links import parse as parse_link
from ganlab.lessons.model import LANGS, Lesson, Outcome, Question, Step, Text
from ganlab.lessons.tutorials import leaves as section_leaves
from ganlab.lessons.tutorials import sections as section_ids

LESSONS_DIR = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]
MIN_STEPS, MAX_STEPS = 5, 8
MIN_OPTIONS, MAX_OPTIONS = 2, 5
ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
# A line break between two Chinese characters (or full-width punctuation) is a soft wrap in the file; Markdown
# would draw it as a space, which Chinese text does not have, so it is removed on load (also next to bold, **).
# Inline math keeps its space: `$` right after a Chinese character is not reliably read as math.
_HAN = "[\u2018-\u201f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
CJK_WRAP = re.compile(rf"(?:(?<={_HAN})|(?<=\*\*))\n(?={_HAN})|(?<={_HAN})\n(?=\*\*)")
LESSON_KEYS = {"id", "title", "summary", "step"}
STEP_KEYS = {"id", "title", "body", "link", "sections", "question", "look_for", "reveal", "outcome"}
STEP_REQUIRED = STEP_KEYS - {"outcome"}
QUESTION_KEYS = {"en", "zh", "option"}
OPTION_KEYS = {"en", "zh", "correct", "range"}
OUTCOME_KEYS = {"run", "metric"}
# What a run's history logs, per page (url path) that trains: the metrics an outcome may judge.
OUTCOME_METRICS = {"": ("modes_captured", "high_quality_frac", "reverse_kl"), "image_gan": ("fid",),
                   "theory": ("jsd",)}
RUNS = ("A", "B")


def _name(path: Path) -> str:
    """The file as errors name it: relative to the repository when it lies inside it."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


class _Check:
    """Raises LessonError for one file, at one step (None: the lesson's own fields)."""

    def __init__(self, file: str):
        self.file, self.step, self.step_id = file, None, ""

    def fail(self, field: str, reason: str) -> None:
        raise LessonError(self.file, reason, self.step, self.step_id, field)

    def keys(self, table: Any, field: str, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(table, dict):
            self.fail(field, f"expected a table with {', '.join(sorted(required))}, got {type(table).__name__}")
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(field, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(table))
        if missing:
            self.fail(field, f"missing {', '.join(missing)}")
        return table

    def text(self, table: Any, field: str, prose: bool = True) -> Text:
        """Both languages, non-empty; prose in 简体中文 has Chinese characters; $ delimiters are balanced."""
        if not isinstance(table, dict):
            self.fail(field, "expected { en = \"...\", zh = \"...\" }")
        for lang in LANGS:
            v = table.get(lang)
            if v is None:
                self.fail(f"{field}.{lang}", f"missing the {'English' if lang == 'en' else 'Chinese'} text")
            if not isinstance(v, str) or not v.strip():
                self.fail(f"{field}.{lang}", "empty; write the text")
            if len(re.findall(r"(?<!\\)\$", v)) % 2:
                self.fail(f"{field}.{lang}", "an odd number of '$': a formula is not closed")
        if prose and not CJK.search(table["zh"]):
            self.fail(f"{field}.zh", "has no Chinese characters; write the 简体中文 text")
        return Text(table["en"].strip(), CJK_WRAP.sub("", table["zh"].strip()))

    def ident(self, v: Any, field: str) -> str:
        if not isinstance(v, str) or not ID.match(v):
            self.fail(field, f"{v!r} is not an id: lowercase letters, digits and '-', at most 48 characters")
        return v


def _question(c: _Check, q: Any) -> tuple[Question, list[Any]]:
    """The question, and each option's raw `range` (None where it gives none), checked by _outcome."""
    q = c.keys(q, "question", QUESTION_KEYS, QUESTION_KEYS)
    prompt = c.text({k: q[k] for k in LANGS}, "question")
    options = q["option"]
    if not isinstance(options, list) or not (MIN_OPTIONS <= len(options) <= MAX_OPTIONS):
        n = len(options) if isinstance(options, list) else 0
        c.fail("question.option", f"{n} option(s); a question has {MIN_OPTIONS} to {MAX_OPTIONS}")
    texts, correct, ranges = [], [], []
    for i, o in enumerate(options, 1):
        field = f"question.option {i}"
        o = c.keys(o, field, OPTION_KEYS, {"en", "zh"})
        texts.append(c.text(o, field, prose=False))
        flag = o.get("correct", False)
        if not isinstance(flag, bool):
            c.fail(f"{field}.correct", f"expected true or false, got {flag!r}")
        if flag:
            correct.append(i)
        ranges.append(o.get("range"))
    if len(correct) != 1:
        c.fail("question.option", "no option is marked correct = true" if not correct else
               f"options {', '.join(map(str, correct))} are all marked correct; exactly one may be")
    return Question(prompt, tuple(texts), correct[0] - 1), ranges


def _range(c: _Check, v: Any, field: str) -> tuple[float, float]:
    if (not isinstance(v, list) or len(v) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, float))
                                                       for x in v) or v[0] > v[1]):
        c.fail(field, f"expected [low, high] with low <= high (both inclusive), got {v!r}")
    return float(v[0]), float(v[1])


def _outcome(c: _Check, raw: Any, page: str, ranges: list[Any]) -> Outcome | None:
    """[step.outcome] and the options' ranges: both or neither; a metric the linked page's runs log."""
    if raw is None:
        given = [i for i, r in enumerate(ranges, 1) if r is not None]
        if given:
            c.fail(f"question.option {given[0]}.range", "a range needs [step.outcome] (which run, which metric)")
        return None
    raw = c.keys(raw, "outcome", OUTCOME_KEYS, OUTCOME_KEYS)
    metrics = OUTCOME_METRICS.get(page)
    if metrics is None:
        c.fail("outcome", f"the step opens {page or 'the lab'!r}, which trains no run to judge; drop [step.outcome]")
    if raw["run"] not in RUNS:
        c.fail("outcome.run", f"expected \"A\" or \"B\", got {raw['run']!r}")
    if raw["metric"] not in metrics:
        c.fail("outcome.metric", f"{raw['metric']!r} is not logged there; choose one of {', '.join(metrics)}")
    checked = tuple(None if r is None else _range(c, r, f"question.option {i}.range") for i, r in enumerate(ranges, 1))
    if all(r is None for r in checked):
        c.fail("question.option", "[step.outcome] is given but no option has a range")
    return Outcome(RUNS.index(raw["run"]), raw["metric"], checked)


def _sections(c: _Check, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        c.fail("sections", "expected a non-empty list of tutorial section ids, e.g. [\"t1.4\", \"t5.3.1\"]")
    known, leaves = section_ids(), section_leaves()
    for s in v:
        if s not in known:
            c.fail("sections", f"unknown tutorial section {s!r} (ids are in ganlab/lessons/tutorials.toml)")
        if s not in leaves:
            subs = [i for i in leaves if i.startswith(s + ".")]
            c.fail("sections", f"{s!r} is a chapter with sections; cite them instead: {', '.join(subs)}")
    if len(set(v)) != len(v):
        c.fail("sections", "a section is listed twice")
    return tuple(v)


def _step(c: _Check, raw: Any) -> Step:
    c.step_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else ""
    raw = c.keys(raw, "", STEP_KEYS, STEP_REQUIRED)
    sid = c.ident(raw["id"], "id")
    try:
        link = parse_link(raw["link"])
    except ValueError as e:
        c.fail("link", str(e))
    question, ranges = _question(c, raw["question"])
    return Step(sid, c.text(raw["title"], "title"), c.text(raw["body"], "body"), link, question,
                c.text(raw["look_for"], "look_for"), c.text(raw["reveal"], "reveal"), _sections(c, raw["sections"]),
                _outcome(c, raw.get("outcome"), link.page, ranges))


def parse(data: dict, file: str) -> Lesson:
    """A validated Lesson from a TOML document already read into `data`; `file` names it in errors."""
    c = _Check(file)
    c.keys(data, "", LESSON_KEYS, LESSON_KEYS)
    lid = c.ident(data["id"], "id")
    title, summary = c.text(data["title"], "title"), c.text(data["summary"], "summary")
    raw_steps = data["step"]
    if not isinstance(raw_steps, list) or not (MIN_STEPS <= len(raw_steps) <= MAX_STEPS):
        n = len(raw_steps) if isinstance(raw_steps, list) else 0
        c.fail("step", f"{n} step(s); a lesson has {MIN_STEPS} to {MAX_STEPS}")
    steps = []
    for i, raw in enumerate(raw_steps, 1):
        c.step, c.step_id = i, ""
        steps.append(_step(c, raw))
        earlier = [s.id for s in steps[:-1]]
        if steps[-1].id in earlier:
            c.fail("id", f"step id {steps[-1].id!r} is already step {earlier.index(steps[-1].id) + 1}'s")
    return Lesson(lid, title, summary, tuple(steps), file)


def load_file(path: str | Path) -> Lesson:
    path = Path(path)
    name = _name(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise LessonError(name, f"cannot be read ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise LessonError(name, f"not valid TOML: {e}") from None
    return parse(data, name)


def load_dir(folder: str | Path = LESSONS_DIR) -> list[Lesson]:
    """Every `*.toml` in `folder`, in file-name order (01-..., 02-...); lesson ids are unique."""
    lessons: list[Lesson] = []
    for path in sorted(Path(folder).glob("*.toml")):
        lesson = load_file(path)
        twin = next((x for x in lessons if x.id == lesson.id), None)
        if twin is not None:
            raise LessonError(lesson.file, f"lesson id {lesson.id!r} is already {twin.file}'s", field="id")
        lessons.append(lesson)
    return lessons
