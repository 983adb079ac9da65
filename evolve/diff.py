"""What changed between two dates: transitions of state, each tied to its cause.

A transition is the step from one interval of an organisation's timeline to
the next; its cause is the event that began the new interval. The field
comparison is pure, so the same rules serve one organisation or all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from enum import Enum

import msgspec

from evolve.state import Status
from evolve.types import END_OF_TIME
from evolve.views.interface import Span

Value = str | bool | int | list[str] | None


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    before: Value
    after: Value


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    name: str
    date: dt.date
    event_id: str | None
    changes: list[FieldChange]


class Diff(msgspec.Struct, frozen=True, kw_only=True):
    from_date: dt.date = msgspec.field(name="from")
    to_date: dt.date = msgspec.field(name="to")
    known_at: dt.datetime
    items: list[Transition]


#: The scalar fields a change can show, each as a plain value.
_SCALARS: dict[str, Callable[[Status], object]] = {
    "name": lambda s: s.name,
    "kind": lambda s: s.kind,
    "code": lambda s: s.code,
    "ods_code": lambda s: s.ods_code,
    "region": lambda s: s.region,
    "parent": lambda s: s.parent,
    "stage": lambda s: s.stage,
    "stage_term": lambda s: s.stage_term,
    "leader": lambda s: s.leader.name if s.leader else None,
    "leader_role": lambda s: s.leader.role if s.leader else None,
    "population": lambda s: s.population.count if s.population else None,
}


def _plain(value: object) -> Value:
    if isinstance(value, Enum):
        return str(value.value)
    if value is None or isinstance(value, str | bool | int):
        return value
    return str(value)


def changes(before: Status | None, after: Status | None) -> list[FieldChange]:
    """Field-level differences between two states of one organisation."""
    if before is None and after is None:
        return []
    if before is None or after is None:
        appeared = [FieldChange(field="exists", before=before is not None, after=after is not None)]
        if after is not None and after.stage is not None:
            appeared.append(FieldChange(field="stage", before=None, after=after.stage.value))
        return appeared
    out: list[FieldChange] = []
    for field, read in _SCALARS.items():
        old, new = _plain(read(before)), _plain(read(after))
        if old != new:
            out.append(FieldChange(field=field, before=old, after=new))
    for field, old_set, new_set in (
        ("members", set(before.members), set(after.members)),
        ("flags", {f.flag.value for f in before.flags}, {f.flag.value for f in after.flags}),
    ):
        if old_set != new_set:
            out.append(FieldChange(field=field, before=sorted(old_set - new_set), after=sorted(new_set - old_set)))
    if len(after.funding) > len(before.funding):
        added = after.funding[len(before.funding) :]
        out.append(
            FieldChange(
                field="funding", before=None, after=[f"{f.fund} {f.financial_year}: {f.amount_pence}p" for f in added]
            )
        )
    if len(after.milestones) > len(before.milestones):
        added_m = after.milestones[len(before.milestones) :]
        out.append(FieldChange(field="milestones", before=None, after=[m.milestone.value for m in added_m]))
    return out


def transitions(org: str, timeline: Sequence[Span], start: dt.date, end: dt.date) -> list[Transition]:
    """Transitions of one organisation whose date falls in (start, end].

    `timeline` is its intervals (valid_from, valid_to, status) as known at one
    record time; gaps (the organisation not existing) count as state None.
    """
    out: list[Transition] = []
    previous: Status | None = None
    previous_end: dt.date | None = None
    for valid_from, valid_to, status in timeline:
        if previous_end is not None and previous_end < valid_from and start < previous_end <= end:
            out.append(_transition(org, previous, None, previous_end, None))
            previous = None
        if previous_end is not None and previous_end < valid_from:
            previous = None
        if start < valid_from <= end:
            out.append(_transition(org, previous, status, valid_from, status.last_event_id))
        previous, previous_end = status, valid_to
    if (
        previous is not None
        and previous_end is not None
        and previous_end != END_OF_TIME
        and start < previous_end <= end
    ):
        out.append(_transition(org, previous, None, previous_end, None))
    return [t for t in out if t.changes]


def _transition(
    org: str, before: Status | None, after: Status | None, day: dt.date, event_id: str | None
) -> Transition:
    name = (after or before).name if (after or before) else org  # type: ignore[union-attr]
    return Transition(organisation=org, name=name, date=day, event_id=event_id, changes=changes(before, after))


def merge_sorted(groups: Iterable[list[Transition]]) -> list[Transition]:
    return sorted((t for g in groups for t in g), key=lambda t: (t.date, t.organisation))
