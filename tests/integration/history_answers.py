"""The pinned answers of the curated history: questions a user would ask, each with its source.

The questions live in ``tests/data/history_answers.yaml`` (one entry per question, with the source
that gives the answer beside it), so a reviewer can check each answer against one source. Each entry
asks either a count on a date (``count``) or one field of one organisation's state (``organisation``
and ``field``), or that an organisation did not exist on the date (``absent``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import yaml

from evolve.bootstrap import Evolve
from evolve.catalogue import Source
from evolve.errors import NotFound

ANSWERS = Path(__file__).resolve().parents[1] / "data" / "history_answers.yaml"


class Count(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """What to count on `as_of`: organisations of a kind, top-level systems at a stage (with the
    sub-areas at that stage too if `with_sub_areas`), or systems holding a flag."""

    kind: str | None = None
    stage: str | None = None
    with_sub_areas: bool = False
    flag: str | None = None


class Answer(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    id: str
    question: str
    as_of: dt.date
    source: Source
    count: Count | None = None
    organisation: str | None = None
    field: str | None = None
    expect: Any = None
    contains: list[str] | None = None
    absent: bool = False


def answers() -> list[Answer]:
    raw = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    return msgspec.convert(raw, list[Answer], strict=False)


def asked(history: Evolve, answer: Answer) -> Any:
    """The log's answer to the question (a number, a field's value, or "absent")."""
    queries = history.queries
    if answer.count is not None:
        return _count(history, answer.as_of, answer.count)
    assert answer.organisation is not None, answer.id
    try:
        state = queries.state(answer.organisation, answer.as_of)
    except NotFound:
        return "absent"
    value: Any = state
    for part in (answer.field or "id").split("."):
        value = None if value is None else getattr(value, part)
    return _plain(value)


def _plain(value: Any) -> Any:
    """Enums as their values, flag periods as their flags, lists item by item."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "flag"):
        return _plain(value.flag)
    return value.value if hasattr(value, "value") else value


def _count(history: Evolve, day: dt.date, count: Count) -> int:
    stats = history.queries.stats(day)
    if count.kind is not None:
        return stats.by_kind.get(count.kind, 0)
    if count.flag is not None:
        return stats.flags.get(count.flag, 0)
    assert count.stage is not None
    top = stats.by_stage.get(count.stage, 0)
    return top + (stats.sub_areas_by_stage.get(count.stage, 0) if count.with_sub_areas else 0)
