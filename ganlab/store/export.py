"""The class's results as CSV, one row per run (the lab's A and B are two rows): what the teacher takes home
from the Class page, and what `python -m ganlab runs --csv` prints on the server."""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any, Iterable

from ganlab.store.store import RunRecord

NUMBERS = ("d_loss", "g_loss", "modes_captured", "n_modes", "high_quality_frac", "reverse_kl", "fid")
COLUMNS = ("nickname", "page", "preset", "run", "data", "model", "loss", "remedy", "status", "steps", "budget",
           *NUMBERS, "created")


def midnight() -> float:
    """Today's 00:00 in local time, as time.time() counts (the day's lesson starts after it)."""
    now = dt.datetime.now()
    return dt.datetime(now.year, now.month, now.day).timestamp()


def remedy(config: dict[str, Any]) -> str:
    """What a toy run changed against the presets' plain GAN (the census's words: "PacGAN 4", "R1 10"), "none";
    an image run: its preset's settings are in the preset column, so ""."""
    from ganlab import census

    if config.get("data") not in census.MIXTURES:
        return ""
    try:
        key = census.toy_key(config)
    except KeyError:
        return ""
    from ganlab.i18n import _

    msgs = dict(census.REMEDIES)
    return ", ".join(_(msgs[f]).format(v=float(v)) for f, v in key.remedies) or _("none")


def rows(records: Iterable[RunRecord]) -> list[tuple]:
    out = []
    for rec in records:
        names = ("A", "B") if len(rec.configs) > 1 else ("",)
        for i, config in enumerate(rec.configs):
            nums = rec.numbers[i] if i < len(rec.numbers) and isinstance(rec.numbers[i], dict) else {}
            out.append((rec.nickname, rec.page, rec.preset, names[i] if i < len(names) else str(i + 1),
                        config.get("data", ""), config.get("model", ""), config.get("loss", ""), remedy(config),
                        rec.shown_status, rec.step, rec.budget, *(_number(nums.get(k)) for k in NUMBERS),
                        dt.datetime.fromtimestamp(rec.created).isoformat(timespec="seconds")))
    return out


def _number(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return round(float(v), 4)
    return ""


def to_csv(records: Iterable[RunRecord]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows([_cell(c) for c in row] for row in rows(records))
    return buf.getvalue()


def _cell(v: Any) -> Any:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: a nickname never gets to."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
