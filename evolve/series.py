"""The dates of a time series of counts: from a first day, every month, quarter or year, to a last.

A chart of how the system evolved needs counts on regular dates; the dates are computed here, pure,
so that the bound (at most :data:`MAX_POINTS`) is checked before any state is read.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum

from evolve.errors import InvalidQuery

#: More points than this is refused: a chart needs far fewer, and each point reads every state.
MAX_POINTS = 1000


class Step(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


MONTHS = {Step.MONTH: 1, Step.QUARTER: 3, Step.YEAR: 12}


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months`, on the same day of the month or the month's last day if shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def points(start: dt.date, end: dt.date, step: Step) -> list[dt.date]:
    """`start`, then every `step` after it while not after `end` (refused if `end` < `start` or too many)."""
    if end < start:
        raise InvalidQuery("`to` is before `from`", "to")
    months = MONTHS[step]
    span = (end.year - start.year) * 12 + end.month - start.month
    if span // months + 1 > MAX_POINTS:
        raise InvalidQuery(f"more than {MAX_POINTS} points: widen `step` or narrow `from`..`to`", "step")
    out: list[dt.date] = []
    n = 0
    while (day := add_months(start, n * months)) <= end:
        out.append(day)
        n += 1
    return out
