"""A naive reference fold: the meaning of the log, written as plainly as possible.

The projection must always agree with this. It shares only the per-event rules (`evolve.fold`,
`evolve.rules`) and replays the whole log, every organisation at once, for every question:
events in (effective, position) order; the events of one day, then the flags that ended that
day; an organisation's end passed at once to every organisation naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from evolve import fold
from evolve.catalogue import BaseEvent, EventCorrected, OrganisationsMerged, PolicyPublished
from evolve.records import EventRecord
from evolve.state import Status
from evolve.types import END_OF_TIME

ONE_DAY = dt.timedelta(days=1)


class Refusal(NamedTuple):
    position: int
    org: str
    message: str


def record_times(records: Sequence[EventRecord]) -> dict[int, int]:
    """Record time per position as the view keeps it: the store's, one per batch (entries with the
    same time), strictly increasing from one batch to the next."""
    out: dict[int, int] = {}
    last_raw, last = 0, 0
    for record in sorted(records, key=lambda r: r.position):
        raw = int(record.recorded_at.timestamp() * 1_000_000)
        last = last if raw == last_raw else max(raw, last + 1)
        last_raw = raw
        out[record.position] = last
    return out


def _timeline(records: Sequence[EventRecord], known_at: int) -> list[tuple[dt.date, int, str, BaseEvent]]:
    """The events the log held at `known_at`, as corrected by then, in fold order."""
    times = record_times(records)
    visible = sorted((r for r in records if times[r.position] <= known_at), key=lambda r: r.position)
    by_id = {r.id: r.position for r in visible}
    versions: dict[int, tuple[str, BaseEvent | None]] = {}
    for record in visible:
        if isinstance(record.event, EventCorrected):
            target = by_id[record.event.corrects]
            versions[target] = (versions[target][0], record.event.replacement)
        else:
            versions[record.position] = (str(record.id), record.event)
    return sorted(
        (event.effective, position, event_id, event)
        for position, (event_id, event) in versions.items()
        if event is not None and not isinstance(event, PolicyPublished)
    )


def _expire(states: dict[str, Status | None], day: dt.date) -> None:
    """Every state at the end of `day`: the flags whose last day was before it gone."""
    for org, state in states.items():
        while state is not None and (end := fold.next_expiry(state)) is not None and end < day + ONE_DAY:
            state = fold.expire(state, end)
        states[org] = state


def fold_log(
    records: Sequence[EventRecord], as_of: dt.date, known_at: int, refusals: list[Refusal] | None = None
) -> dict[str, Status]:
    """Every organisation's state at the end of `as_of`, as the log stood at record time `known_at`
    (µs). Events the rule book refuses change nothing; `refusals` collects them."""
    states: dict[str, Status | None] = {}
    end_of_previous_day: dict[str, Status | None] = {}
    day: dt.date | None = None
    for effective, position, event_id, event in _timeline(records, known_at):
        if effective > as_of:
            break
        if effective != day:
            _expire(states, effective - ONE_DAY)  # the flags that ended by the end of yesterday
            end_of_previous_day, day = dict(states), effective
        _step(states, end_of_previous_day, position, event_id, event, refusals)
    _expire(states, as_of)
    return {org: state for org, state in states.items() if state is not None}


def _step(
    states: dict[str, Status | None],
    yesterday: dict[str, Status | None],
    position: int,
    event_id: str,
    event: BaseEvent,
    refusals: list[Refusal] | None,
) -> None:
    scope = event.scope_or_none
    candidates = sorted(states) if scope is not None and scope.is_broadcast else event.subjects()
    ended: list[tuple[str, str | None]] = []
    for org in candidates:
        state = states.get(org)
        if not fold.touches(event, state, org):
            continue
        merger = event if isinstance(event, OrganisationsMerged) else None
        sources = [yesterday.get(m) for m in merger.merged] if merger is not None and org == merger.into else []
        applied = fold.apply(event, state, org, event_id, sources)
        if applied.problem is not None:
            if refusals is not None:
                refusals.append(Refusal(position, org, applied.problem[1]))
            continue
        if state is not None and applied.state is None:
            ended.append((org, merger.into if merger is not None and org in merger.merged else None))
        states[org] = applied.state
    for gone, successor in sorted(ended):
        for holder, state in states.items():
            if state is not None:
                states[holder] = fold.relation_ended(state, gone, successor, event.effective, event_id)


def refusals_of(records: Sequence[EventRecord]) -> list[Refusal]:
    """What the rule book refuses anywhere in the log, as it stands now."""
    found: list[Refusal] = []
    fold_log(records, END_OF_TIME - ONE_DAY, 2**62, found)
    return found
