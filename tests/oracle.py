"""A naive reference fold: the meaning of the log, written as plainly as possible.

The projection must always agree with this. It shares only the per-event rules
(`evolve.fold`) and replays the whole log for every question.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from evolve import fold
from evolve.catalogue import BaseEvent, EventCorrected, FootprintsMerged, PolicyPublished
from evolve.records import EventRecord
from evolve.state import Status


def known_from(records: Sequence[EventRecord]) -> dict[int, int]:
    """Record time per position: the store's time, kept strictly increasing along the log."""
    out: dict[int, int] = {}
    last = 0
    for record in sorted(records, key=lambda r: r.position):
        micros = int(record.recorded_at.timestamp() * 1_000_000)
        last = max(micros, last + 1)
        out[record.position] = last
    return out


def fold_log(records: Sequence[EventRecord], as_of: dt.date, known_at: int) -> dict[str, Status]:
    """Every organisation's state on `as_of`, as the log stood at record time `known_at` (µs)."""
    times = known_from(records)
    visible = sorted((r for r in records if times[r.position] <= known_at), key=lambda r: r.position)
    by_id = {r.id: r.position for r in visible}
    versions: dict[int, tuple[str, BaseEvent | None]] = {}
    for record in visible:
        if isinstance(record.event, EventCorrected):
            target = by_id[record.event.corrects]
            versions[target] = (versions[target][0], record.event.replacement)
        else:
            versions[record.position] = (str(record.id), record.event)
    timeline = sorted(
        (event.effective, position, event_id, event)
        for position, (event_id, event) in versions.items()
        if event is not None and not isinstance(event, PolicyPublished)
    )
    states: dict[str, Status | None] = {}
    end_of_previous_day: dict[str, Status | None] = {}
    day: dt.date | None = None
    for effective, _position, event_id, event in timeline:
        if effective > as_of:
            break
        if effective != day:
            end_of_previous_day, day = dict(states), effective
        scope = event.scope_or_none
        candidates = list(states) if scope is not None and scope.is_broadcast else event.subjects()
        for org in candidates:
            state = states.get(org)
            if not fold.touches(event, state, org):
                continue
            sources = (
                [end_of_previous_day.get(m) for m in event.merged]
                if isinstance(event, FootprintsMerged) and org == event.into
                else []
            )
            states[org] = fold.apply(event, state, org, event_id, sources)
    return {org: state for org, state in states.items() if state is not None}
