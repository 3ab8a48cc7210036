"""The five tutorials' headings (tutorials.toml): what the lessons must cover, section by section.

A section id is `<tutorial>.<chapter>[.<section>]`; a chapter with sections is covered when every one of its
sections is, so lessons cite *leaves* (a chapter without sections, or a section).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TUTORIALS_FILE = Path(__file__).resolve().parent / "tutorials.toml"


@dataclass(frozen=True)
class Section:
    id: str
    number: str  # as the tutorial prints it ("2.1", "Q3")
    zh: str  # the heading in the tutorial's words
    en: str
    tutorial: str  # the tutorial's id


@dataclass(frozen=True)
class Tutorial:
    id: str
    file: str  # the tutorial's source file name, as listed in tutorials.toml (the tutorials are not shipped)
    title_en: str
    title_zh: str
    sections: tuple[Section, ...]


@lru_cache(maxsize=1)
def tutorials() -> tuple[Tutorial, ...]:
    with TUTORIALS_FILE.open("rb") as f:
        data = tomllib.load(f)
    out = []
    for t in data["tutorial"]:
        sections = tuple(Section(s["id"], s["number"], s["zh"], s["en"], t["id"]) for s in t["section"])
        out.append(Tutorial(t["id"], t["file"], t["title"]["en"], t["title"]["zh"], sections))
    return tuple(out)


@lru_cache(maxsize=1)
def sections() -> dict[str, Section]:
    """Every heading by id, in the tutorials' order."""
    return {s.id: s for t in tutorials() for s in t.sections}


@lru_cache(maxsize=1)
def leaves() -> dict[str, Section]:
    """The sections lessons cite: those with no section under them."""
    ids = sections()
    return {i: s for i, s in ids.items() if not any(j.startswith(i + ".") for j in ids)}


def uncovered(cited: set[str]) -> list[Section]:
    """The leaves no lesson step cites, in the tutorials' order."""
    return [s for i, s in leaves().items() if i not in cited]
