"""The image data's notes, composed in English (the CLI prints them; a snapshot carries one from the training
process, which knows no reader's language) and shown in the reader's language by `localize`.

A note is one of the TEMPLATES filled in, possibly nested ("{why}. Using the embedded ... instead." around
"{name} is not installed ..."). `localize` matches a note against the English templates and fills the
translated template with its parts, localized in turn; a note that matches none is translated as a whole
(the fixed notes of the embedded data) or shown as it is.
"""
from __future__ import annotations

import re

from ganlab.i18n import N_, _

FALLBACK = N_("{why}. Using the embedded 5,000-digit MNIST subset instead.")
NOT_INSTALLED = N_("{name} is not installed on this server (the teacher can put its files in the server's data "
                   "folder, {env})")
NOT_DOWNLOADED = N_("{name} is not installed on this server and could not be downloaded")
LOADED = N_("{name}: {n} training images, {shape}")
RESIZED = N_("{note}, resized to {size}x{size}")
TEMPLATES = (FALLBACK, RESIZED, NOT_INSTALLED, NOT_DOWNLOADED, LOADED)  # outer ones first
NESTED = {"why", "note"}  # parts that are notes themselves


def _pattern(template: str) -> re.Pattern:
    """The English template as a regex: each {part} a named group (a repeated part must repeat its value)."""
    out, seen = [], set()
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        out.append(re.escape(literal))
        if name:
            out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("^" + "".join(out) + "$", re.S)


_PATTERNS = tuple((t, _pattern(t)) for t in TEMPLATES)


def localize(note: str) -> str:
    """`note` in the reader's language (see the module docstring)."""
    for template, pattern in _PATTERNS:
        m = pattern.match(note)
        if m:
            parts = {k: localize(v) if k in NESTED else v for k, v in m.groupdict().items()}
            return _(template).format(**parts)
    return _(note)


def is_fallback(note: str) -> bool:
    """A note that says the asked-for dataset was replaced by the embedded MNIST."""
    return _pattern(FALLBACK).match(note) is not None
