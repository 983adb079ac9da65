"""The view as plain Python objects: the same interfaces as the SQL views, no database.

It is written as directly as the interfaces allow (no caches, no pending rows), so it doubles as
their reference: the projection's unit tests and the property test run on it as well as on
SQLite and PostgreSQL, and ``evolve validate`` folds files into it. A write transaction works on
a copy of the tables and replaces them, with its tracking record, when it commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from eventsourcing.persistence import Tracking
from eventsourcing.popo import POPOTrackingRecorder

from evolve import codec
from evolve.catalogue import BaseEvent, PolicyPublished, Scope
from evolve.counts import Counts, counts_of
from evolve.records import EventRecord, micros
from evolve.state import Status
from evolve.views.interface import (
    NO_ENTRY,
    OPEN,
    Ending,
    Entry,
    LastEntry,
    Point,
    PolicyVersion,
    Relation,
    Segment,
    Span,
    TimelineEvent,
    TimelineReader,
    TimelineView,
    TimelineWriter,
)


class _Entry(NamedTuple):
    record: EventRecord
    recorded_us: int
    current: BaseEvent | None

    @property
    def fold_effective(self) -> dt.date:
        return self.current.effective if self.current is not None else self.record.event.effective


class _Row(NamedTuple):
    valid_from: dt.date
    valid_to: dt.date
    recorded_from_us: int
    recorded_to_us: int
    state: Status
    data: codec.Encoded

    def visible(self, recorded_us: int) -> bool:
        return self.recorded_from_us <= recorded_us < self.recorded_to_us

    def segment(self) -> Segment:
        scalar, lists, data = self.data
        return Segment(self.valid_from, self.valid_to, self.recorded_from_us, scalar, lists, data, self.state)


class _PolicyRow(NamedTuple):
    position: int
    recorded_from_us: int
    recorded_to_us: int
    version: PolicyVersion


@dataclass
class _Tables:
    entries: dict[int, _Entry] = field(default_factory=dict)  # by position
    positions: dict[str, int] = field(default_factory=dict)  # by event id
    subjects: dict[str, set[int]] = field(default_factory=dict)  # positions naming each subject
    touches: dict[str, dict[int, dt.date]] = field(default_factory=dict)  # org -> {position: effective}
    rows: dict[str, list[_Row]] = field(default_factory=dict)  # org -> interval rows
    organisations: set[str] = field(default_factory=set)
    policies: list[_PolicyRow] = field(default_factory=list)
    endings: dict[str, list[Ending]] = field(default_factory=dict)
    dependents: dict[str, set[str]] = field(default_factory=dict)

    def copy(self) -> _Tables:
        """A copy a transaction may change (rows and entries are immutable, so shared)."""
        return _Tables(
            dict(self.entries),
            dict(self.positions),
            {k: set(v) for k, v in self.subjects.items()},
            {k: dict(v) for k, v in self.touches.items()},
            {k: list(v) for k, v in self.rows.items()},
            set(self.organisations),
            list(self.policies),
            {k: list(v) for k, v in self.endings.items()},
            {k: set(v) for k, v in self.dependents.items()},
        )


class MemoryWriter(TimelineWriter):
    """The projection's side of a transaction, applied straight to the working tables."""

    def __init__(self, tables: _Tables) -> None:
        self.t = tables

    def last_entry(self) -> LastEntry:
        if not self.t.entries:
            return NO_ENTRY
        position = max(self.t.entries)
        last = self.t.entries[position]
        return LastEntry(position, micros(last.record.recorded_at), last.recorded_us)

    def add_entry(self, record: EventRecord, recorded_us: int, current: BaseEvent | None) -> None:
        self.t.entries[record.position] = _Entry(record, recorded_us, current)
        self.t.positions[str(record.id)] = record.position
        for subject in record.subjects:
            self.t.subjects.setdefault(subject, set()).add(record.position)
        self._touch(record.position, current)

    def _touch(self, position: int, current: BaseEvent | None) -> None:
        if current is None or isinstance(current, PolicyPublished):
            return
        scope = current.scope_or_none
        if scope is not None and scope.is_broadcast:
            return
        for org in current.subjects():
            self.t.touches.setdefault(org, {})[position] = current.effective
            self.t.organisations.add(org)

    def entry(self, event_id: str) -> Entry | None:
        position = self.t.positions.get(event_id)
        if position is None:
            return None
        found = self.t.entries[position]
        return Entry(position, found.fold_effective, found.current)

    def set_current(self, position: int, current: BaseEvent | None) -> None:
        self.t.entries[position] = self.t.entries[position]._replace(current=current)
        for touched in self.t.touches.values():
            touched.pop(position, None)
        self._touch(position, current)

    def _current(self, org: str) -> list[_Row]:
        return sorted((r for r in self.t.rows.get(org, ()) if r.recorded_to_us == OPEN), key=lambda r: r.valid_from)

    def status_on(self, org: str, day: dt.date) -> Status | None:
        return next((r.state for r in self._current(org) if r.valid_from <= day < r.valid_to), None)

    def orgs_on(self, day: dt.date, scope: Scope | None = None) -> list[str]:
        found = []
        for org in self.t.rows:
            state = self.status_on(org, day)
            if state is None:
                continue
            if scope is not None and scope.stage is not None and state.stage != scope.stage:
                continue
            if scope is not None and scope.kind is not None and state.kind != scope.kind:
                continue
            found.append(org)
        return sorted(found)

    def segments_from(self, org: str, day: dt.date) -> list[Segment]:
        return [r.segment() for r in self._current(org) if r.valid_to >= day]

    def timeline_events(self, org: str, day: dt.date) -> list[TimelineEvent]:
        touched = self.t.touches.get(org, {})
        found = []
        for position, entry in self.t.entries.items():
            current = entry.current
            if current is None or isinstance(current, PolicyPublished) or current.effective < day:
                continue
            scope = current.scope_or_none
            if position in touched or (scope is not None and scope.is_broadcast):
                found.append(TimelineEvent.of(current.effective, position, str(entry.record.id), current))
        return sorted(found)

    def prefetch(self, starts: Mapping[str, dt.date]) -> None:
        pass  # everything is in memory already

    def endings_of(self, orgs: Sequence[str], day: dt.date) -> list[Ending]:
        found = [e for org in orgs for e in self.t.endings.get(org, ()) if e.effective >= day]
        return sorted(found, key=lambda e: (e.effective, e.position, e.org))

    def ended_by(self, position: int) -> list[str]:
        return sorted(org for org, endings in self.t.endings.items() if any(e.position == position for e in endings))

    def set_endings(self, org: str, day: dt.date, endings: list[Ending]) -> None:
        kept = [e for e in self.t.endings.get(org, ()) if e.effective < day]
        self.t.endings[org] = [*kept, *endings]

    def dependents_of(self, org: str) -> set[str]:
        return set(self.t.dependents.get(org, ()))

    def add_dependents(self, org: str, causes: set[str]) -> None:
        for cause in causes:
            self.t.dependents.setdefault(cause, set()).add(org)

    def close_segment(self, org: str, segment: Segment, recorded_us: int) -> None:
        rows = self.t.rows[org]
        key = (segment.valid_from, segment.recorded_from_us, OPEN)
        index = next(i for i, r in enumerate(rows) if (r.valid_from, r.recorded_from_us, r.recorded_to_us) == key)
        if rows[index].recorded_from_us == recorded_us:
            del rows[index]  # made and unmade at one record time: never visible
        else:
            rows[index] = rows[index]._replace(recorded_to_us=recorded_us)

    def insert_segment(
        self, org: str, valid_from: dt.date, valid_to: dt.date, recorded_us: int, status: Status, data: codec.Encoded
    ) -> None:
        self.t.rows.setdefault(org, []).append(_Row(valid_from, valid_to, recorded_us, OPEN, status, data))

    def set_policy(self, position: int, event: PolicyPublished | None, recorded_us: int) -> None:
        rows = []
        for row in self.t.policies:
            if row.position != position or row.recorded_to_us != OPEN:
                rows.append(row)
            elif row.recorded_from_us != recorded_us:  # else made and unmade at one record time
                rows.append(row._replace(recorded_to_us=recorded_us))
        if event is not None:
            version = PolicyVersion(str(self.t.entries[position].record.id), event)
            rows.append(_PolicyRow(position, recorded_us, OPEN, version))
        self.t.policies = rows

    def flush(self) -> None:
        """Nothing is buffered."""


class MemoryReader(TimelineReader):
    """The queries' side, over one committed version of the tables."""

    def __init__(self, tables: _Tables) -> None:
        self.t = tables

    def _visible(self, org: str, recorded_us: int) -> list[_Row]:
        return sorted((r for r in self.t.rows.get(org, ()) if r.visible(recorded_us)), key=lambda r: r.valid_from)

    def state(self, org: str, day: dt.date, recorded_us: int) -> Status | None:
        return next((r.state for r in self._visible(org, recorded_us) if r.valid_from <= day < r.valid_to), None)

    def known_organisation(self, org: str) -> bool:
        return org in self.t.organisations

    def point(self, org: str, day: dt.date, recorded_us: int | None) -> Point:
        at = recorded_us if recorded_us is not None else self.latest_recorded_us()
        if at is None:
            return Point(None, None, [])
        return Point(at, self.state(org, day, at), self.relations(org, at, day=day))

    def states(
        self,
        day: dt.date,
        recorded_us: int,
        *,
        kind: str | None = None,
        stage: str | None = None,
        text: str | None = None,
        code: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Status]:
        found = []
        for org in sorted(self.t.rows):
            state = self.state(org, day, recorded_us)
            if state is None or (after is not None and org <= after):
                continue
            if (kind is not None and state.kind.value != kind) or (stage is not None and state.stage != stage):
                continue
            if text and text.lower() not in state.name.lower() and text.lower() not in org:
                continue
            if code and code.upper() not in {c.upper() for c in (state.code, state.ods_code) if c}:
                continue
            found.append(state)
        return found if limit is None else found[:limit]

    def history(self, org: str, recorded_us: int) -> list[Span]:
        return [Span(r.valid_from, r.valid_to, r.state) for r in self._visible(org, recorded_us)]

    def timelines(self, recorded_us: int, start: dt.date, end: dt.date) -> dict[str, list[Span]]:
        out: dict[str, list[Span]] = {}
        for org in sorted(self.t.rows):
            spans = [s for s in self.history(org, recorded_us) if s.valid_from <= end and s.valid_to >= start]
            if spans:
                out[org] = spans
        return out

    def cause(self, org: str, day: dt.date, recorded_us: int) -> str | None:
        positions = [
            p
            for p, effective in self.t.touches.get(org, {}).items()
            if effective == day and self.t.entries[p].recorded_us <= recorded_us
        ]
        return str(self.t.entries[max(positions)].record.id) if positions else None

    def records(
        self,
        *,
        type_: str | None = None,
        subject: str | None = None,
        from_day: dt.date | None = None,
        to_day: dt.date | None = None,
        after: int = 0,
        limit: int = 50,
    ) -> list[EventRecord]:
        found = []
        for position in sorted(p for p in self.t.entries if p > after):
            record = self.t.entries[position].record
            event = record.event
            if type_ is not None and event.type != type_:
                continue
            if from_day is not None and event.effective < from_day:
                continue
            if to_day is not None and event.effective > to_day:
                continue
            if subject is not None and position not in self.t.subjects.get(subject, set()):
                continue
            found.append(record)
            if len(found) == limit:
                break
        return found

    def record(self, event_id: str) -> EventRecord | None:
        position = self.t.positions.get(event_id)
        return self.t.entries[position].record if position is not None else None

    def relations(
        self, related: str, recorded_us: int, relation: str | None = None, day: dt.date | None = None
    ) -> list[Relation]:
        found = []
        for org in sorted(self.t.rows):
            for r in self._visible(org, recorded_us):
                if day is not None and not r.valid_from <= day < r.valid_to:
                    continue
                named = [("member", related in r.state.members), ("parent", r.state.parent == related),
                         ("region", r.state.region == related)]
                found += [Relation(org, related, kind, r.valid_from, r.valid_to)
                          for kind, holds in named if holds and relation in (None, kind)]
        return found

    def relations_on(self, day: dt.date, recorded_us: int, related: Sequence[str] | None = None) -> list[Relation]:
        found = []
        for org in sorted(self.t.rows):
            for r in self._visible(org, recorded_us):
                if r.valid_from <= day < r.valid_to:
                    state = r.state
                    found += [Relation(org, m, "member", r.valid_from, r.valid_to) for m in state.members]
                    found += [Relation(org, named, kind, r.valid_from, r.valid_to)
                              for kind, named in (("parent", state.parent), ("region", state.region)) if named]
        if related is None:
            return found
        wanted = set(related)
        return [r for r in found if r.related in wanted]

    def counts(self, day: dt.date, recorded_us: int) -> Counts:
        return counts_of(self.states(day, recorded_us))

    def _newest(self, day: dt.date, recorded_us: int) -> dict[str, PolicyVersion]:
        newest: dict[str, tuple[tuple[dt.date, int], PolicyVersion]] = {}
        for row in self.t.policies:
            event = row.version.event
            if not row.recorded_from_us <= recorded_us < row.recorded_to_us or event.effective > day:
                continue
            key = (event.effective, row.position)
            if event.policy_id not in newest or newest[event.policy_id][0] < key:
                newest[event.policy_id] = (key, row.version)
        return {policy_id: version for policy_id, (_, version) in newest.items()}

    def policies(self, day: dt.date, recorded_us: int, after: str | None, limit: int) -> list[PolicyVersion]:
        newest = self._newest(day, recorded_us)
        return [newest[p] for p in sorted(newest) if p > (after or "")][:limit]

    def policy(self, policy_id: str, day: dt.date, recorded_us: int) -> PolicyVersion | None:
        return self._newest(day, recorded_us).get(policy_id)

    def entry_count(self) -> int:
        return len(self.t.entries)

    def latest_recorded_us(self) -> int | None:
        return self.t.entries[max(self.t.entries)].recorded_us if self.t.entries else None


class MemoryTimelineView(POPOTrackingRecorder, TimelineView):
    """The view in this process's memory: gone when the process ends (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._tables = _Tables()

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[TimelineWriter]:
        with self._database_lock:
            self._assert_tracking_uniqueness(tracking)
            working = self._tables.copy()
            yield MemoryWriter(working)
            self._tables = working
            self._insert_tracking(tracking)

    @contextmanager
    def preview(self) -> Iterator[TimelineWriter]:
        with self._database_lock:
            yield MemoryWriter(self._tables.copy())

    @contextmanager
    def reader(self) -> Iterator[TimelineReader]:
        yield MemoryReader(self._tables)

    def drop(self) -> None:
        with self._database_lock:
            self._tables = _Tables()
            self._max_tracking_ids.clear()

    def upgrade(self) -> bool:
        return False  # nothing outlives the process, so there is no older layout
