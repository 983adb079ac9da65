"""Folding one organisation's timeline from a date: the pure core of the projection.

Given the organisation's state the day before, the events that can touch it from then on (in
fold order), and the endings of the organisations it names, :func:`walk` returns the states it
takes (one per day on which it changes), the events the rule book refused, the organisations it
named along the way, and its own endings. Flags tied to a financial year end by themselves
(:func:`evolve.fold.expire`), after the events of the day they end on. It reads nothing but the
merged organisations' states on the day before a merger, through `source_of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import NamedTuple

from evolve import fold
from evolve.catalogue import OrganisationsMerged
from evolve.state import Status
from evolve.views.interface import Ending, TimelineEvent

ONE_DAY = dt.timedelta(days=1)


class Violation(NamedTuple):
    """An event the rule book refuses for an organisation it names (see :mod:`evolve.rules`)."""

    effective: dt.date
    position: int
    event_id: str
    org: str
    field: str
    message: str


class Walked(NamedTuple):
    starts: list[tuple[dt.date, Status | None]]  # (day, state from that day); None: the organisation ended
    violations: list[Violation]
    named: set[str]  # every organisation the states name (members, parent, region)
    endings: list[Ending]  # where this organisation ended, and by what
    mergers: list[tuple[dt.date, str]]  # (day, into) of the mergers that ended it


def walk(
    org: str,
    before: Status | None,
    events: list[TimelineEvent],
    endings: list[Ending],
    source_of: Callable[[str, dt.date], Status | None],
) -> Walked:
    """Fold `events` and the `endings` of named organisations into `before`, in (date, position)
    order (an event before an ending of the same entry)."""
    state = before
    starts: list[tuple[dt.date, Status | None]] = []
    out = Walked(starts, [], fold.relations(before), [], [])

    def mark(day: dt.date, new: Status | None) -> None:
        nonlocal state
        state = new
        if starts and starts[-1][0] == day:
            starts[-1] = (day, new)
        else:
            starts.append((day, new))
        out.named.update(fold.relations(new))

    for item in _in_fold_order(events, endings):
        for day, expired in _expiries(state, item.effective):
            mark(day, expired)
        if isinstance(item, Ending):
            if state is not None:
                new = fold.relation_ended(state, item.org, item.successor, item.effective, item.event_id)
                if new is not state:
                    mark(item.effective, new)
            continue
        event = item.event
        if not fold.touches(event, state, org, item.subjects):
            continue
        merger = event if isinstance(event, OrganisationsMerged) else None
        sources = []
        if merger is not None and org == merger.into:
            sources = [source_of(m, item.effective - ONE_DAY) for m in merger.merged]
        applied = fold.apply(event, state, org, item.event_id, sources, item.subjects)
        if applied.problem is not None:
            out.violations.append(Violation(item.effective, item.position, item.event_id, org, *applied.problem))
            continue
        if applied.state is state:
            continue
        if state is not None and applied.state is None:
            successor = merger.into if merger is not None and org in merger.merged else None
            out.endings.append(Ending(org, item.effective, item.position, item.event_id, successor))
        if merger is not None and org in merger.merged:
            out.mergers.append((item.effective, merger.into))
        mark(item.effective, applied.state)
    for day, expired in _expiries(state, None):
        mark(day, expired)
    return out


def _in_fold_order(events: list[TimelineEvent], endings: list[Ending]) -> list[TimelineEvent | Ending]:
    items: list[TimelineEvent | Ending] = [*events, *endings]
    return sorted(items, key=lambda e: (e.effective, e.position, isinstance(e, Ending), getattr(e, "org", "")))


def _expiries(state: Status | None, before: dt.date | None) -> Iterator[tuple[dt.date, Status]]:
    """The states `state` takes as its flags end, on days before `before` (None: for ever).

    A flag ends after the events of its last day's morrow: so an application for the next
    financial year on its first day finds the flag still there, and extends it."""
    while state is not None:
        day = fold.next_expiry(state)
        if day is None or (before is not None and day >= before):
            return
        state = fold.expire(state, day)
        yield day, state
