"""The projection: folds the log into bitemporal interval tables.

For each organisation the view keeps rows ``(valid_from, valid_to, recorded_from_us,
recorded_to_us, status)``. Valid time is when a state held in the world; record time is when the
log knew it. Rows are never updated in place except to close their record interval, so any past
knowledge stays readable.

Processing an entry (always the newest position in the log):

1. Index it (the log table, its subjects, the organisations it names).
2. Find the organisations it can change and the first date it can change them from: its explicit
   subjects from its effective date; for a broadcast, the organisations it matches on that date;
   for a correction, those of the old and the new version, from the earlier of their dates.
3. Refold each such organisation from that date (:func:`evolve.walk.walk`): its state the day
   before, then every event that touches it from that date on, in (effective, position) order,
   broadcasts resolved against the refolded state, and the endings of the organisations it names.
   The new intervals replace the old ones from that date, as of the entry's record time.
   Entries that share a record time (one append's) are indexed first and refolded together:
   each organisation they name once, from the earliest of their dates (what the view held
   between two of them was never visible).
4. Follow what depends on what changed: a merger's `into` depends on the merged organisations'
   states the day before; an organisation depends on the endings of those it names (its members,
   parent, region), so when an organisation's endings change, every organisation that ever named
   it is refolded from the change.

Refolds report the events the rule book refuses (:class:`evolve.walk.Violation`); an append
refuses a batch that causes any. Each batch of entries and its tracking record commit in one
transaction (exactly-once). The rules of each event live in :mod:`evolve.fold`.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any, NamedTuple

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from evolve import codec, fold
from evolve.catalogue import EventCorrected, PolicyPublished
from evolve.domain import Log
from evolve.errors import InvalidEvent
from evolve.records import EventRecord, micros
from evolve.state import Status
from evolve.store import to_record
from evolve.types import END_OF_TIME
from evolve.views.interface import TimelineView, TimelineWriter
from evolve.walk import Violation, Walked, walk

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

    def process_batch(self, records: Sequence[EventRecord], tracking: Tracking) -> list[Violation]:
        """Project several entries in one transaction, tracked by the last one's `tracking`; what
        the rule book refused (entries the log took before a rule existed, or from a lenient writer)."""
        violations: list[Violation] = []
        if not records:
            return violations
        with self.view.transaction(tracking) as writer:
            violations += project_batch(writer, records)
        return violations


def index_entry(writer: TimelineWriter, record: EventRecord, recorded_us: int) -> list[tuple[dt.date, str]]:
    """Steps 1 and 2: index the entry; the organisations it can change, each with the first date."""
    event = record.event
    if isinstance(event, EventCorrected):
        writer.add_entry(record, recorded_us, None)
        return _correct(writer, event, recorded_us)
    writer.add_entry(record, recorded_us, event)
    if isinstance(event, PolicyPublished):
        writer.set_policy(record.position, event, recorded_us)
        return []
    day = event.effective
    scope = event.scope_or_none
    broadcast = scope is not None and scope.is_broadcast
    orgs = writer.orgs_on(day, scope) if broadcast else event.subjects()
    return [(day, org) for org in orgs]


def project_batch(writer: TimelineWriter, records: Sequence[EventRecord]) -> list[Violation]:
    """Project entries of one batch; what the rule book refuses once the whole batch is in.

    A batch is judged as a whole: an event left dangling by one of its entries and mended by a
    later one (a retraction, then a correction of the event that named what it retracted) is no
    violation. So what a refold found along the way is looked at again at the end.
    """
    if len(records) > 1:
        writer.prefetch(_starts(records))
    found = _project_grouped(writer, records)
    first: dict[str, dt.date] = {}
    for violation in found:
        first[violation.org] = min(first.get(violation.org, violation.effective), violation.effective)
    settled: list[Violation] = []
    for org, day in sorted(first.items()):
        settled += _walk(writer, org, day, writer.status_on(org, day - ONE_DAY)).violations
    return settled


class Refused(NamedTuple):
    """The batch of an append that the rule book refuses, and why."""

    batch: Sequence[EventRecord]
    violations: list[Violation]


def project_appended(
    writer: TimelineWriter, unseen: Sequence[EventRecord], batches: Sequence[Sequence[EventRecord]]
) -> Refused | None:
    """Project appends in their own transaction: first the entries the view has not seen (appended
    by another process), as the catch-up would, then each batch in turn, judged as if alone on top
    of those before it; the first that the rule book refuses, if any (the projection stops there)."""
    _project_grouped(writer, unseen)
    if len(batches) > 1:  # a group commit's: what its appends refold first, read at once
        writer.prefetch(_starts([record for batch in batches for record in batch]))
    for batch in batches:
        violations = project_batch(writer, batch)
        if violations:
            return Refused(batch, violations)
    return None


def _project_grouped(writer: TimelineWriter, records: Sequence[EventRecord]) -> list[Violation]:
    """Project entries in log order, refolding once per record time: the entries of one append
    share it, and what the view holds between two of them is never visible (a row made and
    replaced at one record time is dropped), so each organisation they name is refolded once,
    from the earliest of their dates, after all of them are indexed. Indexing reads the view
    as the earlier record time left it; that misses nothing, since every organisation the
    deferred refold changes is in its work or followed from it, and a refold resolves
    broadcasts against the refolded states."""
    violations: list[Violation] = []
    work: list[tuple[dt.date, str]] = []
    group_us: int | None = None
    for record in records:
        recorded_us = _recorded_us(writer, record)
        if group_us is not None and recorded_us != group_us:
            violations += refold(writer, work, group_us)
            work = []
        group_us = recorded_us
        work += index_entry(writer, record, recorded_us)
    if group_us is not None:
        violations += refold(writer, work, group_us)
    return violations


def refusal(violations: Sequence[Violation], batch: Sequence[EventRecord]) -> InvalidEvent:
    """The first violation as the error that refuses a batch, located in it (``/2/members/0``)."""
    violation = violations[0]
    for index, record in enumerate(batch):
        prefix = f"/{index}" if len(batch) > 1 else ""
        if record.position == violation.position:
            return InvalidEvent(violation.message, prefix + violation.field)
        event = record.event
        if isinstance(event, EventCorrected) and str(event.corrects) == violation.event_id:
            return InvalidEvent(violation.message, prefix + "/replacement" + violation.field)
    return InvalidEvent(
        f"this would leave event {violation.event_id} (position {violation.position}, already in the log) "
        f"refused by the rules: {violation.message}"
    )


def _recorded_us(writer: TimelineWriter, record: EventRecord) -> int:
    """The entry's record time in the view: the store's, kept strictly increasing from one batch
    to the next and shared by the entries of one batch (which share the store's time)."""
    raw = micros(record.recorded_at)
    last = writer.last_entry()
    return last.recorded_us if raw == last.raw_us else max(raw, last.recorded_us + 1)


def _correct(writer: TimelineWriter, correction: EventCorrected, recorded_us: int) -> list[tuple[dt.date, str]]:
    """Put the correction's version in place; the organisations either version can change."""
    target = writer.entry(str(correction.corrects))
    if target is None:  # the store refuses these; a view may not invent history
        return []
    old, new = target.current, correction.replacement
    writer.set_current(target.position, new)
    versions = [v for v in (old, new) if v is not None]
    if any(isinstance(v, PolicyPublished) for v in versions):
        writer.set_policy(target.position, new if isinstance(new, PolicyPublished) else None, recorded_us)
    org_versions = [v for v in versions if not isinstance(v, PolicyPublished)]
    if not org_versions:
        return []
    start = min(v.effective for v in org_versions)
    orgs: set[str] = set()
    for version in org_versions:
        scope = version.scope_or_none
        if scope is not None and scope.is_broadcast:
            # Which systems a broadcast met depends on same-day events around
            # it, so every system alive around its date is refolded (rare), and
            # those it ended: one created on its date is alive on neither day.
            for day in (version.effective - ONE_DAY, version.effective):
                orgs.update(writer.orgs_on(day))
            orgs.update(writer.ended_by(target.position))
        else:
            orgs.update(version.subjects())
    return [(start, org) for org in sorted(orgs)]


def refold(writer: TimelineWriter, work: list[tuple[dt.date, str]], recorded_us: int) -> list[Violation]:
    """Recompute each (from-date, organisation) timeline, following what depends on it (an
    organisation named more than once is refolded once, from the earliest of its dates)."""
    starts = _earliest(work)
    if len(starts) > 1:  # a broadcast's systems, a correction's organisations, a record time's
        writer.prefetch(starts)
    heap = [(day, org) for org, day in starts.items()]
    heapq.heapify(heap)
    violations: list[Violation] = []
    while heap:
        start, org = heapq.heappop(heap)
        before = writer.status_on(org, start - ONE_DAY)
        walked = _walk(writer, org, start, before)
        violations += walked.violations
        changed = _rewrite(writer, org, start, before, walked.starts, recorded_us)
        if changed:
            for pair in walked.mergers:
                heapq.heappush(heap, pair)
        old = writer.endings_of([org], start)
        if old != walked.endings:
            writer.set_endings(org, start, walked.endings)
            since = min(e.effective for e in set(old) ^ set(walked.endings))
            for dependent in sorted(writer.dependents_of(org)):
                heapq.heappush(heap, (since, dependent))
    return violations


def _starts(records: Sequence[EventRecord]) -> dict[str, dt.date]:
    """The organisations a batch's events name, each from the earliest of their dates (broadcasts
    and corrections find theirs as they are projected)."""
    return _earliest(
        [
            (record.event.effective, org)
            for record in records
            if not isinstance(record.event, EventCorrected | PolicyPublished)
            for org in record.event.subjects()
        ]
    )


def _earliest(work: Sequence[tuple[dt.date, str]]) -> dict[str, dt.date]:
    starts: dict[str, dt.date] = {}
    for day, org in work:
        if org not in starts or day < starts[org]:
            starts[org] = day
    return starts


def _walk(writer: TimelineWriter, org: str, start: dt.date, before: Status | None) -> Walked:
    """Walk `org` from `start`, with the endings of every organisation its states name (found by
    walking again while the walk names organisations whose endings it has not read)."""
    events = writer.timeline_events(org, start)
    named = fold.relations(before)
    endings = writer.endings_of(sorted(named), start)
    while True:
        walked = walk(org, before, events, endings, writer.status_on)
        unread = walked.named - named
        if not unread:
            break
        named |= unread
        endings += writer.endings_of(sorted(unread), start)
    writer.add_dependents(org, named)
    return walked


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

