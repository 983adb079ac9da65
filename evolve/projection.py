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
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from evolve import codec, fold
from evolve.catalogue import EventCorrected, FootprintsMerged, PolicyPublished
from evolve.domain import Log
from evolve.records import EventRecord, micros
from evolve.state import Status
from evolve.store import to_record
from evolve.types import END_OF_TIME
from evolve.views.interface import TimelineView, TimelineWriter

ONE_DAY = dt.timedelta(days=1)


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
    recorded_us = max(micros(record.recorded_at), writer.last_recorded_us() + 1)
    event = record.event
    if isinstance(event, EventCorrected):
        writer.add_entry(record, recorded_us, None)
        _project_correction(writer, event, recorded_us)
        return
    writer.add_entry(record, recorded_us, event)
    if isinstance(event, PolicyPublished):
        writer.refresh_policy(event.policy_id)
        return
    day = event.effective
    scope = event.scope_or_none
    broadcast = scope is not None and scope.is_broadcast
    orgs = writer.orgs_on(day, scope) if broadcast else event.subjects()
    refold(writer, [(day, org) for org in orgs], recorded_us)


def _project_correction(writer: TimelineWriter, correction: EventCorrected, recorded_us: int) -> None:
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
    refold(writer, [(start, org) for org in sorted(orgs)], recorded_us)


def refold(writer: TimelineWriter, work: list[tuple[dt.date, str]], recorded_us: int) -> None:
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
        if _rewrite(writer, org, start, before, starts, recorded_us):
            for pair in downstream:
                heapq.heappush(heap, pair)


def _rewrite(
    writer: TimelineWriter,
    org: str,
    start: dt.date,
    before: Status | None,
    starts: list[tuple[dt.date, Status | None]],
    recorded_us: int,
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
            writer.close_segment(org, segment, recorded_us)
            changed = True
    for key, (status, data) in encoded.items():
        if key not in old_keys:
            writer.insert_segment(org, key[0], key[1], recorded_us, status, data)
            changed = True
    return changed

