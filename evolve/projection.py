"""The projection: folds the log into bitemporal interval tables.

For each organisation the view keeps rows ``(valid_from, valid_to,
recorded_from, recorded_to, status)``. Valid time is when a state held in the
world; record time is when the log knew it. Rows are never updated in place
except to close their record interval, so any past knowledge stays readable.

Processing an entry (always the newest position in the log):

1. Index it (the log table, its subjects, the organisations it names).
2. Find the organisations it can change and the first date it can change
   them from: its explicit subjects from its effective date; for a broadcast,
   the organisations it matches on that date; for a correction, those of the
   old and the new version, from the earlier of their dates.
3. Refold each such organisation from that date: its state the day before,
   then every event that touches it from that date on, in (effective,
   position) order, broadcasts resolved against the refolded state. The new
   intervals replace the old ones from that date, as of the entry's record
   time. A merge makes its `into` depend on the merged systems, so a change
   to a merged system refolds the merged result too.

Each entry's writes and its tracking record commit in one transaction
(exactly-once). The rules of each event live in :mod:`evolve.fold`.
"""

from __future__ import annotations

import datetime as dt
import heapq
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import singledispatchmethod
from typing import Any, NamedTuple

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from evolve import codec, fold
from evolve.catalogue import BaseEvent, EventCorrected, FootprintsMerged, PolicyPublished, Scope
from evolve.domain import Log
from evolve.records import EventRecord
from evolve.state import Status
from evolve.store import to_record
from evolve.types import END_OF_TIME

ONE_DAY = dt.timedelta(days=1)
#: Consecutive lost races a catch-up tolerates before it reports the error.
MAX_RACES = 20


class Segment(NamedTuple):
    """One current-knowledge interval of an organisation's timeline.

    `status` and `lists` are the stored encoding (see :mod:`evolve.codec`),
    what rows are compared by. `state` is the decoded value when the writer
    made it (a timeline extended event by event is never decoded); rows read
    from the database are decoded only if asked, from `status` and `lists_data`.
    """

    valid_from: dt.date
    valid_to: dt.date
    recorded_from: int
    status: bytes
    lists: str | None
    lists_data: bytes | None = None
    state: Status | None = None

    def decoded(self) -> Status:
        return self.state if self.state is not None else codec.decode(self.status, self.lists_data)


class TimelineEvent(NamedTuple):
    effective: dt.date
    position: int
    event_id: str
    event: BaseEvent


class Entry(NamedTuple):
    position: int
    effective: dt.date
    current: BaseEvent | None


class TimelineWriter(ABC):
    """What the projection needs from the view inside one transaction."""

    @abstractmethod
    def last_known_from(self) -> int:
        """The latest record time (µs since the epoch) indexed so far, or 0."""

    @abstractmethod
    def add_entry(self, record: EventRecord, known_from: int, current: BaseEvent | None) -> None:
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
        """Organisations existing on `day` (current knowledge), those a
        broadcast `scope` selects if given; answered from an index."""

    @abstractmethod
    def segments_from(self, org: str, day: dt.date) -> list[Segment]:
        """Current rows of `org` that end on or after `day`, by valid_from."""

    @abstractmethod
    def timeline_events(self, org: str, day: dt.date) -> list[TimelineEvent]:
        """Events naming `org` and broadcasts, effective on or after `day`, in fold order."""

    @abstractmethod
    def close_segment(self, org: str, segment: Segment, known_from: int) -> None:
        """End a row's record interval at `known_from` (or drop it if it began then)."""

    @abstractmethod
    def insert_segment(
        self, org: str, valid_from: dt.date, valid_to: dt.date, known_from: int, status: Status, data: codec.Encoded
    ) -> None:
        """Add a current row."""

    @abstractmethod
    def refresh_policy(self, policy_id: str) -> None:
        """Recompute the policy view row for `policy_id` from its current events."""

    @abstractmethod
    def flush(self) -> None:
        """Write whatever the writer still buffers; called before the transaction commits."""


class TimelineView(TrackingRecorder, ABC):
    """A view whose every write commits together with a tracking record."""

    @abstractmethod
    def transaction(self, tracking: Tracking) -> AbstractContextManager[TimelineWriter]:
        """A write transaction that records `tracking` when it commits."""

    @abstractmethod
    def drop(self) -> None:
        """Delete every row of the view and its tracking (for rebuilds)."""


class TimelineProjection(Projection[TimelineView]):
    name = "timeline"
    topics = (get_topic(Log.Recorded),)

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: Log.Recorded, tracking: Tracking) -> None:
        self.process_batch([to_record(domain_event)], tracking)

    def process_batch(self, records: Sequence[EventRecord], tracking: Tracking) -> None:
        """Project several entries in one transaction, tracked by the last one's `tracking`."""
        if not records:
            return
        with self.view.transaction(tracking) as writer:
            for record in records:
                project(writer, record)


def project(writer: TimelineWriter, record: EventRecord) -> None:
    """Apply one log entry to the view (see the module docstring)."""
    recorded = int(record.recorded_at.timestamp() * 1_000_000)
    known_from = max(recorded, writer.last_known_from() + 1)
    event = record.event
    if isinstance(event, EventCorrected):
        writer.add_entry(record, known_from, None)
        _project_correction(writer, event, known_from)
        return
    writer.add_entry(record, known_from, event)
    if isinstance(event, PolicyPublished):
        writer.refresh_policy(event.policy_id)
        return
    day = event.effective
    scope = event.scope_or_none
    broadcast = scope is not None and scope.is_broadcast
    orgs = writer.orgs_on(day, scope) if broadcast else event.subjects()
    refold(writer, [(day, org) for org in orgs], known_from)


def _project_correction(writer: TimelineWriter, correction: EventCorrected, known_from: int) -> None:
    target = writer.entry(str(correction.corrects))
    if target is None:  # the store refuses these; a view may not invent history
        return
    old, new = target.current, correction.replacement
    writer.set_current(target.position, new)
    versions = [v for v in (old, new) if v is not None]
    for version in versions:
        if isinstance(version, PolicyPublished):
            writer.refresh_policy(version.policy_id)
    org_versions = [v for v in versions if not isinstance(v, PolicyPublished)]
    if not org_versions:
        return
    start = min(v.effective for v in org_versions)
    orgs: set[str] = set()
    for version in org_versions:
        scope = version.scope_or_none
        if scope is not None and scope.is_broadcast:
            # Which systems a broadcast met depends on same-day events around
            # it, so every system alive around its date is refolded (rare).
            for day in (version.effective - ONE_DAY, version.effective):
                orgs.update(writer.orgs_on(day))
        else:
            orgs.update(version.subjects())
    refold(writer, [(start, org) for org in sorted(orgs)], known_from)


def refold(writer: TimelineWriter, work: list[tuple[dt.date, str]], known_from: int) -> None:
    """Recompute each (from-date, organisation) timeline, following merges."""
    heap = list(work)
    heapq.heapify(heap)
    while heap:
        start, org = heapq.heappop(heap)
        before = writer.status_on(org, start - ONE_DAY)
        state = before
        starts: list[tuple[dt.date, Status | None]] = []
        downstream: list[tuple[dt.date, str]] = []
        for item in writer.timeline_events(org, start):
            event = item.event
            if not fold.touches(event, state, org):
                continue
            sources: Sequence[Status | None] = ()
            if isinstance(event, FootprintsMerged):
                if org == event.into:
                    sources = [writer.status_on(m, item.effective - ONE_DAY) for m in event.merged]
                else:
                    downstream.append((item.effective, event.into))
            new = fold.apply(event, state, org, item.event_id, sources)
            if new is None and state is None:
                continue
            state = new
            if starts and starts[-1][0] == item.effective:
                starts[-1] = (item.effective, state)
            else:
                starts.append((item.effective, state))
        if _rewrite(writer, org, start, before, starts, known_from):
            for pair in downstream:
                heapq.heappush(heap, pair)


def _rewrite(
    writer: TimelineWriter,
    org: str,
    start: dt.date,
    before: Status | None,
    starts: list[tuple[dt.date, Status | None]],
    known_from: int,
) -> bool:
    """Replace `org`'s current rows that reach `start` or later; True if any changed."""
    wanted: list[tuple[dt.date, dt.date, Status]] = []
    first_change = starts[0][0] if starts else END_OF_TIME
    if before is not None:
        wanted.append((before.since, first_change, before))
    for i, (day, status) in enumerate(starts):
        if status is not None:
            until = starts[i + 1][0] if i + 1 < len(starts) else END_OF_TIME
            wanted.append((day, until, status))
    encoded: dict[tuple[dt.date, dt.date, bytes, str | None], tuple[Status, codec.Encoded]] = {}
    for a, b, s in wanted:
        data = codec.encode(s)
        encoded[(a, b, data.scalar, data.lists)] = (s, data)
    old = writer.segments_from(org, start)
    old_keys = {(s.valid_from, s.valid_to, s.status, s.lists) for s in old}
    changed = False
    for segment in old:
        if (segment.valid_from, segment.valid_to, segment.status, segment.lists) not in encoded:
            writer.close_segment(org, segment, known_from)
            changed = True
    for key, (status, data) in encoded.items():
        if key not in old_keys:
            writer.insert_segment(org, key[0], key[1], known_from, status, data)
            changed = True
    return changed


def catch_up(store: Any, projection: TimelineProjection, batch: int = 500, progress: Any = None) -> int:
    """Project every log entry the view has not seen yet; returns how many.

    Works on every store (SQLite has no push subscriptions), reading the
    notification log from the view's tracking position.
    """
    done = 0
    raced = 0
    topics = list(TimelineProjection.topics)
    while True:
        start = projection.view.max_tracking_id(store.name)
        notifications = store.recorder.select_notifications(
            start=start, limit=batch, topics=topics, inclusive_of_start=False
        )
        if not notifications:
            return done
        records = [store.record(n) for n in notifications]
        try:
            projection.process_batch(records, Tracking(store.name, notifications[-1].id))
        except IntegrityError:
            # Another projector (a process, or an append projecting inline)
            # recorded these first; its transaction won, ours rolled back.
            raced += 1
            if raced > MAX_RACES:
                raise
            continue
        done += len(records)
        if progress is not None:
            progress(len(records))
        if len(notifications) < batch:
            return done
