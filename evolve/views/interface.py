"""The view's ports: what the projection writes through, what the queries read through.

A view keeps, for every organisation, bitemporal interval rows ``(valid_from, valid_to,
recorded_from_us, recorded_to_us, status)`` (valid time as dates, record time as integer
microseconds since the epoch), plus an index of the log's entries. Three implementations
share these interfaces: SQLite and PostgreSQL (:mod:`evolve.views.sqlite`,
:mod:`evolve.views.postgres`) and a plain-object one (:mod:`evolve.views.memory`) for fast
tests and for checking files without a database.

- :class:`TimelineWriter` is the projection's side, inside one transaction.
- :class:`TimelineReader` is the queries' side (read-only, CQRS).
- :class:`TimelineView` opens either, and commits each write transaction together with a
  tracking record (exactly-once projection).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

from eventsourcing.persistence import Tracking, TrackingRecorder

from evolve import codec
from evolve.catalogue import BaseEvent, PolicyPublished, Scope
from evolve.counts import Counts
from evolve.records import EventRecord
from evolve.state import Status

#: The open end of a record interval (µs since the epoch).
OPEN = 2**62


class Segment(NamedTuple):
    """One current-knowledge interval of an organisation's timeline.

    `status` and `lists` are the stored encoding (see :mod:`evolve.codec`), what rows are
    compared by. `state` is the decoded value when the writer made it (a timeline extended
    event by event is never decoded); rows read from storage are decoded only if asked,
    from `status` and `lists_data`.
    """

    valid_from: dt.date
    valid_to: dt.date
    recorded_from_us: int
    status: bytes
    lists: str | None
    lists_data: bytes | None = None
    state: Status | None = None

    def decoded(self) -> Status:
        return self.state if self.state is not None else codec.decode(self.status, self.lists_data)


class TimelineEvent(NamedTuple):
    """An event as a timeline folds it: in (effective, position) order. `subjects` are the event's,
    computed once (each organisation it names walks it, again at every refold)."""

    effective: dt.date
    position: int
    event_id: str
    event: BaseEvent
    subjects: frozenset[str]

    @classmethod
    def of(cls, effective: dt.date, position: int, event_id: str, event: BaseEvent) -> TimelineEvent:
        return cls(effective, position, event_id, event, frozenset(event.subjects()))


class Entry(NamedTuple):
    """A log entry as the projection knows it: `current` is the version timelines fold
    (the event, its replacement after a correction, or None once retracted)."""

    position: int
    effective: dt.date
    current: BaseEvent | None


class LastEntry(NamedTuple):
    """The newest entry's position, and its record time as the store gave it (`raw_us`) and as the
    view keeps it (`recorded_us`), both µs."""

    position: int
    raw_us: int
    recorded_us: int


NO_ENTRY = LastEntry(0, 0, 0)


class Ending(NamedTuple):
    """Where an organisation's timeline ends: on `effective`, by the entry at `position`;
    `successor` is the merger's `into`, None for a dissolution."""

    org: str
    effective: dt.date
    position: int
    event_id: str
    successor: str | None


class Relation(NamedTuple):
    """`holder`'s state names `related` as its `relation` ("member", "parent" or "region") over
    ``[valid_from, valid_to)``."""

    holder: str
    related: str
    relation: str
    valid_from: dt.date
    valid_to: dt.date


class Span(NamedTuple):
    """A state and the valid-time interval ``[valid_from, valid_to)`` it held over."""

    valid_from: dt.date
    valid_to: dt.date
    state: Status


class Point(NamedTuple):
    """One organisation on a day, read at once: the record time it was read at (None for an empty
    view), its state then (None if it did not exist) and the relations others held to it."""

    recorded_us: int | None
    status: Status | None
    held: list[Relation]


class PolicyVersion(NamedTuple):
    """A policy as one event recorded it."""

    event_id: str
    event: PolicyPublished


class TimelineWriter(ABC):
    """What the projection needs from the view inside one transaction."""

    @abstractmethod
    def last_entry(self) -> LastEntry:
        """The newest entry indexed so far (all zero for none)."""

    @abstractmethod
    def add_entry(self, record: EventRecord, recorded_us: int, current: BaseEvent | None) -> None:
        """Index a log entry and the subjects it names."""

    @abstractmethod
    def entry(self, event_id: str) -> Entry | None:
        """The entry with this event id, with its current (corrected) version."""

    @abstractmethod
    def set_current(self, position: int, current: BaseEvent | None) -> None:
        """Make `current` the version of the entry at `position` that timelines fold."""

    @abstractmethod
    def status_on(self, org: str, day: dt.date) -> Status | None:
        """Current knowledge of `org` on `day`."""

    @abstractmethod
    def orgs_on(self, day: dt.date, scope: Scope | None = None) -> list[str]:
        """Organisations existing on `day` (current knowledge), those a broadcast `scope`
        selects if given, sorted; answered from an index."""

    @abstractmethod
    def segments_from(self, org: str, day: dt.date) -> list[Segment]:
        """Current rows of `org` that end on or after `day`, by valid_from."""

    @abstractmethod
    def timeline_events(self, org: str, day: dt.date) -> list[TimelineEvent]:
        """Events naming `org` and broadcasts, effective on or after `day`, in fold order."""

    @abstractmethod
    def endings_of(self, orgs: Sequence[str], day: dt.date) -> list[Ending]:
        """Where these organisations' timelines end, on or after `day` (current knowledge), in
        (date, position, org) order."""

    @abstractmethod
    def ended_by(self, position: int) -> list[str]:
        """The organisations whose timelines the entry at `position` ends (current knowledge)."""

    @abstractmethod
    def set_endings(self, org: str, day: dt.date, endings: list[Ending]) -> None:
        """Replace `org`'s endings on or after `day`."""

    @abstractmethod
    def dependents_of(self, org: str) -> set[str]:
        """The organisations whose timelines have read `org`'s endings."""

    @abstractmethod
    def add_dependents(self, org: str, causes: set[str]) -> None:
        """Note that `org`'s timeline reads the endings of each of `causes`."""

    @abstractmethod
    def close_segment(self, org: str, segment: Segment, recorded_us: int) -> None:
        """End a row's record interval at `recorded_us` (or drop it if it began then)."""

    @abstractmethod
    def insert_segment(
        self, org: str, valid_from: dt.date, valid_to: dt.date, recorded_us: int, status: Status, data: codec.Encoded
    ) -> None:
        """Add a current row."""

    @abstractmethod
    def set_policy(self, position: int, event: PolicyPublished | None, recorded_us: int) -> None:
        """The entry at `position` publishes `event` from `recorded_us` on (None: no policy any more)."""

    @abstractmethod
    def prefetch(self, starts: Mapping[str, dt.date]) -> None:
        """Refolds of these organisations from these days are coming: read at once what they will
        read first (a view that answers from memory has nothing to do)."""

    @abstractmethod
    def flush(self) -> None:
        """Write whatever the writer still buffers; its last call, before the transaction commits."""


class TimelineReader(Protocol):
    """The read side's questions to the view; record time is `recorded_us` (µs)."""

    def state(self, org: str, day: dt.date, recorded_us: int) -> Status | None:
        """`org` on `day` as known at `recorded_us`, or None."""

    def known_organisation(self, org: str) -> bool:
        """Whether any entry ever named `org` as an organisation."""

    def point(self, org: str, day: dt.date, recorded_us: int | None) -> Point:
        """`org` on `day` as known at `recorded_us` (None: as the newest entry knows it), with the
        relations (member, parent, region) others' states hold to it on `day`. One statement on SQL:
        on PostgreSQL each statement is a round trip, and these were three."""

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
        """Every organisation on `day`, filtered (`code`: holds that ONS or ODS code, any case), ordered by
        id, after `after`, at most `limit`."""

    def history(self, org: str, recorded_us: int) -> list[Span]:
        """`org`'s intervals of valid time as known at `recorded_us`, in order."""

    def timelines(self, recorded_us: int, start: dt.date, end: dt.date) -> dict[str, list[Span]]:
        """Every organisation's intervals that touch ``[start, end]``, as known at `recorded_us`."""

    def cause(self, org: str, day: dt.date, recorded_us: int) -> str | None:
        """The last event naming `org` that took effect on `day` (e.g. what ended it)."""

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
        """Log entries after position `after`, filtered, in log order, at most `limit`."""

    def record(self, event_id: str) -> EventRecord | None:
        """The entry with this id."""

    def relations(
        self, related: str, recorded_us: int, relation: str | None = None, day: dt.date | None = None
    ) -> list[Relation]:
        """Every interval over which an organisation's state names `related` (as `relation`, if given;
        holding on `day`, if given), as known at `recorded_us`, by (holder, valid_from)."""

    def relations_on(self, day: dt.date, recorded_us: int, related: Sequence[str] | None = None) -> list[Relation]:
        """Every relation that holds on `day`, as known at `recorded_us` (naming one of `related`, if given)."""

    def counts(self, day: dt.date, recorded_us: int) -> Counts:
        """The organisations on `day`, as known at `recorded_us`, counted (see :mod:`evolve.counts`)."""

    def policies(self, day: dt.date, recorded_us: int, after: str | None, limit: int) -> list[PolicyVersion]:
        """Each policy published by `day`, as known at `recorded_us`: its newest version (by date, then
        position), ordered by id, after `after`."""

    def policy(self, policy_id: str, day: dt.date, recorded_us: int) -> PolicyVersion | None:
        """One policy's newest version published by `day`, as known at `recorded_us`."""

    def entry_count(self) -> int:
        """How many log entries the view holds."""

    def latest_recorded_us(self) -> int | None:
        """Record time (µs) of the newest entry, or None for an empty log."""


class TimelineView(TrackingRecorder, ABC):
    """A view whose every write commits together with a tracking record."""

    @abstractmethod
    def transaction(self, tracking: Tracking) -> AbstractContextManager[TimelineWriter]:
        """A write transaction that records `tracking` when it commits."""

    @abstractmethod
    def reader(self) -> AbstractContextManager[TimelineReader]:
        """A read transaction for the queries."""

    @abstractmethod
    def preview(self) -> AbstractContextManager[TimelineWriter]:
        """A write transaction that is always rolled back: to see what appending would do."""

    @abstractmethod
    def drop(self) -> None:
        """Delete every row of the view and its tracking (for rebuilds)."""

    @abstractmethod
    def upgrade(self) -> bool:
        """Make the view's tables this version's layout; True if a projected view was
        dropped (the caller projects the log again)."""

    def release_journal(self) -> None:
        """Give back the disk space a bulk write's journal took (SQLite's write-ahead log), once
        it is over; nothing elsewhere."""

    def close(self) -> None:
        """Close what the view opened itself (the store's datastore is closed by the store)."""
