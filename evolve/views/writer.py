"""The projection's writer on SQL: a read cache over what storage holds and what this transaction
has pending.

Writes go to :class:`evolve.views.pending.Pending` and are sent in bulk by :meth:`SqlWriter.flush`,
the writer's last call: a transaction of thousands of entries costs a handful of statements,
not several per entry. Until then storage holds only what earlier transactions wrote, so every
read here adds the pending changes to what :class:`evolve.views.stored.StoredRows` finds. Reads
are cached for the transaction's life, and only the part of a timeline that an event can change
is read: its tail from the event's date on.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence

import msgspec

from evolve import codec, fold
from evolve.catalogue import BaseEvent, PolicyPublished, Scope
from evolve.records import EventRecord, micros
from evolve.state import Status
from evolve.types import END_OF_TIME
from evolve.views import blobs, runs
from evolve.views.floors import FloorCache
from evolve.views.interface import OPEN, Ending, Entry, LastEntry, Segment, TimelineEvent, TimelineWriter
from evolve.views.pending import EntryRow, IntervalRow, Pending, TouchRow, endings_replaced
from evolve.views.sql import day_of
from evolve.views.stored import StoredRows, stored_current

ONE_DAY = dt.timedelta(days=1)
_encode = msgspec.json.Encoder().encode

#: The columns of an entry row that depend on its current version: (own, current, fold_effective, broadcast).
CurrentColumns = tuple[int, bytes | None, str, int]


def current_columns(current: BaseEvent | None, fallback: dt.date, *, own: bool = False) -> CurrentColumns:
    """The columns for an entry whose current version is `current`: its `own` event (read from the
    record), or another stored apart."""
    if current is None:
        return (0, None, fallback.isoformat(), 0)
    scope = current.scope_or_none
    broadcast = int(scope is not None and scope.is_broadcast)
    return (int(own), None if own else blobs.pack(_encode(current)), current.effective.isoformat(), broadcast)


class SqlWriter(TimelineWriter):
    """The projection's writes and reads inside one open transaction."""

    def __init__(self, stored: StoredRows) -> None:
        self.stored = stored
        self.pending = Pending()
        self._last: LastEntry | None = None
        # `_tails`: each organisation's current rows with valid_to >= a floor, by valid_from;
        # `_broadcasts = (floor, items)`: broadcasts on or after floor, in fold order.
        self._tails: FloorCache[Segment] = FloorCache(stored.current_rows)
        self._broadcasts: tuple[dt.date, list[TimelineEvent]] | None = None
        self._new_broadcasts: list[TimelineEvent] = []  # added by this transaction
        self._before: dict[str, str | None] = {}  # each org's latest touch date before this transaction
        self._added: dict[str, list[TimelineEvent]] = {}  # touches this transaction added, by org
        self._touched: dict[int, list[str]] = {}  # the organisations each of those touches names
        self._orgs: set[str] = set()  # organisations this transaction has named
        self._added_dependents: dict[str, set[str]] = {}  # cause -> dependents this transaction noted
        # `_endings[org] = (floor, endings)`: every ending of `org` effective on or after floor, as
        # storage holds it with this transaction's pending changes; `_dependents[cause]`: storage's dependents.
        # A refold reads each organisation's endings and dependents again and again; on PostgreSQL
        # each read was a round trip (a quarter of the curated import).
        self._endings: dict[str, tuple[dt.date, list[Ending]]] = {}
        # `_stored_touches`: the entries of earlier transactions naming each organisation, effective
        # on or after a floor (a refold of an organisation read them again each time).
        self._stored_touches: FloorCache[TimelineEvent] = FloorCache(stored.touches)
        self._dependents: dict[str, set[str]] = {}
        # `_runs`: each organisation's current relation rows with valid_to >= a floor. They follow the
        # interval rows one record time at a time: `_unsettled[org]` is the earliest valid_from of
        # the rows changed at `_unsettled_us` whose runs are not settled yet.
        self._runs: FloorCache[runs.Run] = FloorCache(stored.current_runs)
        self._unsettled: dict[str, dt.date] = {}
        self._unsettled_us = 0

    def flush(self) -> None:
        self._settle()
        self.stored.write(self.pending)
        self.pending = Pending()

    # ---- entries -----------------------------------------------------------------

    def last_entry(self) -> LastEntry:
        if self._last is None:
            self._last = self.stored.last_entry()
        return self._last

    def add_entry(self, record: EventRecord, recorded_us: int, current: BaseEvent | None) -> None:
        self._last = LastEntry(record.position, micros(record.recorded_at), recorded_us)
        event = record.event
        self.pending.add_entry(
            EntryRow(
                record.position,
                str(record.id),
                event.type,
                event.effective.isoformat(),
                record.recorded_at.isoformat(),
                recorded_us,
                blobs.pack(_encode(record)),
                *current_columns(current, event.effective, own=current is event),
            )
        )
        self.pending.subjects.extend((s, record.position) for s in dict.fromkeys(record.subjects))
        if current is not None:
            self._touch(record.position, current, str(record.id))

    def entry(self, event_id: str) -> Entry | None:
        row = self.pending.entry(event_id)
        if row is None:
            return self.stored.entry(event_id)
        current = stored_current(row.own, row.record if row.own else row.current)
        return Entry(row.position, day_of(row.fold_effective), current)

    def set_current(self, position: int, current: BaseEvent | None) -> None:
        row = self.pending.entries.get(position)
        if row is not None:  # pending: change the row before it is sent
            event_id, was_broadcast = row.event_id, row.broadcast
            columns = current_columns(current, day_of(row.fold_effective))
            self.pending.entries[position] = row._replace(
                own=columns[0], current=columns[1], fold_effective=columns[2], broadcast=columns[3]
            )
        else:
            stored = self.stored.entry_at(position)
            event_id, was_broadcast = stored.event_id, stored.broadcast
            self.stored.set_current(position, current_columns(current, day_of(stored.fold_effective)))
        # The old version's touches go, wherever they are. `_before` may now claim
        # a touch that is gone: harmless, it only sends a read to storage.
        for org in self.stored.delete_touches(position):
            self._stored_touches.keep(org, lambda e: e.position != position)
        orgs = self._touched.pop(position, [])
        self.pending.drop_touches(position, orgs)
        for org in orgs:
            self._added[org] = [e for e in self._added[org] if e.position != position]
        if was_broadcast:
            self._new_broadcasts = [b for b in self._new_broadcasts if b.position != position]
            if self._broadcasts is not None:
                floor, cached = self._broadcasts
                self._broadcasts = (floor, [b for b in cached if b.position != position])
        if current is not None:
            self._touch(position, current, event_id, stored=row is None)

    def _touch(self, position: int, current: BaseEvent, event_id: str, *, stored: bool = False) -> None:
        """Note what `current` touches; `stored` if its entry row is already in storage."""
        if isinstance(current, PolicyPublished):
            return
        item = TimelineEvent.of(current.effective, position, event_id, current)
        scope = current.scope_or_none
        if scope is not None and scope.is_broadcast:
            if not stored:  # else a reload of the cache finds it in storage
                self._new_broadcasts.append(item)
            if self._broadcasts is not None and item.effective >= self._broadcasts[0]:
                bisect.insort(self._broadcasts[1], item)
            return
        day = current.effective.isoformat()
        for org in dict.fromkeys(current.subjects()):
            self._load_before(org)
            self._added.setdefault(org, []).append(item)
            self._touched.setdefault(position, []).append(org)
            self.pending.touches[(org, position)] = TouchRow(org, day, position)
            if org not in self._orgs:
                self._orgs.add(org)
                self.pending.orgs.append(org)

    # ---- timelines ---------------------------------------------------------------

    def _tail(self, org: str, day: dt.date) -> list[Segment]:
        """`org`'s current rows ending on or after `day`, by valid_from (current rows never overlap)."""
        segments = self._tails.rows(org, day)
        if segments and segments[0].valid_to < day:
            return segments[bisect.bisect_left(segments, day, key=lambda s: s.valid_to) :]
        return segments

    def status_on(self, org: str, day: dt.date) -> Status | None:
        segments = self._tail(org, day + ONE_DAY)
        if segments and segments[0].valid_from <= day:
            return segments[0].decoded()
        return None

    def segments_from(self, org: str, day: dt.date) -> list[Segment]:
        return list(self._tail(org, day))

    def orgs_on(self, day: dt.date, scope: Scope | None = None) -> list[str]:
        column: str | None = None
        value: str | None = None
        if scope is not None and scope.stage is not None:
            column, value = "stage", scope.stage.value
        elif scope is not None and scope.kind is not None:
            column, value = "kind", scope.kind.value
        # Storage lacks what this transaction has pending: drop the rows it closed, add the
        # current rows it wrote.
        gone = self.pending.closed()
        orgs = {key[0] for key in self.stored.current_on(day, column, value) if key not in gone}
        orgs.update(row.org for row in self.pending.current_on(day.isoformat()) if _matches(row, column, value))
        return sorted(orgs)

    def timeline_events(self, org: str, day: dt.date) -> list[TimelineEvent]:
        self._load_before(org)
        before = self._before[org]
        found = [e for e in self._added.get(org, ()) if e.effective >= day]
        found += self._broadcasts_from(day)
        if before is not None and before >= day.isoformat():  # entries of earlier transactions reach `day`
            found += [e for e in self._stored_touches.rows(org, day) if e.effective >= day]
        return sorted(found)

    def _load_before(self, org: str) -> None:
        """Remember `org`'s latest touch date as it stood before this transaction added any."""
        if org not in self._before:
            self._before[org] = self.stored.latest_touch(org)

    def _broadcasts_from(self, day: dt.date) -> list[TimelineEvent]:
        """Broadcasts effective on or after `day`, cached like the tails, in (date, position) order."""
        cached = self._broadcasts
        if cached is None or day < cached[0]:
            found = self.stored.broadcasts(day, cached[0] if cached is not None else None)
            upper = cached[0] if cached is not None else END_OF_TIME
            found += [b for b in self._new_broadcasts if day <= b.effective < upper]
            found.sort()  # all before the old floor, so the joined list stays in (date, position) order
            cached = self._broadcasts = (day, found + (cached[1] if cached is not None else []))
        items = cached[1]
        return items[bisect.bisect_left(items, day, key=lambda b: b.effective) :]

    def close_segment(self, org: str, segment: Segment, recorded_us: int) -> None:
        self._changed(org, segment.valid_from, recorded_us)
        self._tails.rows(org, segment.valid_to).remove(segment)
        self.pending.close((org, segment.valid_from, segment.recorded_from_us), recorded_us)

    def insert_segment(
        self, org: str, valid_from: dt.date, valid_to: dt.date, recorded_us: int, status: Status, data: codec.Encoded
    ) -> None:
        self._changed(org, valid_from, recorded_us)
        bisect.insort(
            self._tails.rows(org, valid_to),
            Segment(valid_from, valid_to, recorded_us, data.scalar, data.lists, data.lists_data, status),
            key=lambda s: s.valid_from,
        )
        self.pending.inserts[(org, valid_from, recorded_us)] = IntervalRow(
            org,
            valid_from.isoformat(),
            valid_to.isoformat(),
            recorded_us,
            OPEN,
            status.kind.value,
            status.stage.value if status.stage is not None else None,
            status.name,
            data.scalar,  # packed when sent (StoredRows.write): a buffered row may be replaced first
            data.lists,
        )
        if data.lists is not None and data.lists_data is not None:
            self.pending.lists[data.lists] = data.lists_data

    # ---- relation runs -------------------------------------------------------------

    def _changed(self, org: str, valid_from: dt.date, recorded_us: int) -> None:
        """Note an interval row of `org` changing from `valid_from` at `recorded_us`, settling the
        runs of the record time before first (a rebuild's transaction spans many)."""
        if recorded_us != self._unsettled_us:
            self._settle()
            self._unsettled_us = recorded_us
        floor = self._unsettled.get(org)
        if floor is None or valid_from < floor:
            self._unsettled[org] = valid_from

    def _settle(self) -> None:
        """Bring the relation runs of every organisation changed at `_unsettled_us` up to date."""
        recorded_us = self._unsettled_us
        for org, floor in self._unsettled.items():
            held = self._runs.rows(org, floor)
            old = [r for r in held if r.valid_to >= floor]
            # Every current row from the floor on is in the tail cache: it changed only rows it read.
            closed, opened = runs.settle(floor, old, self._tails.held(org))
            for run in closed:
                held.remove(run)
                self.pending.close_relation((org, run.relation, run.related, run.valid_from, run.recorded_from_us),
                                            recorded_us)
            for extent in opened:
                held.append(runs.Run(*extent, recorded_us))
                self.pending.open_relation((org, extent.relation, extent.related, extent.valid_from, recorded_us),
                                           extent.valid_to)
        self._unsettled.clear()

    def prefetch(self, starts: Mapping[str, dt.date]) -> None:
        """Read in bulk, for the organisations not read yet, what a refold from `starts[org]` reads
        first: the current rows from that day, the latest touch, and the endings of the organisation
        and of those its state names the day before. The same reads one by one would cost a
        statement each (a round trip on PostgreSQL: most of a bulk import there)."""
        tails = {org: day for org, day in starts.items() if org not in self._tails}
        if tails:
            self._tails.fill(tails, self.stored.current_rows_of(tails))
        untouched = [org for org in starts if org not in self._before]
        if untouched:
            self._before.update(self.stored.latest_touches(untouched))
        reaching = {  # those with stored entries that a refold from the day reads
            org: day
            for org, day in starts.items()
            if org not in self._stored_touches and (self._before[org] or "") >= day.isoformat()
        }
        if reaching:
            self._stored_touches.fill(reaching, self.stored.touches_of(reaching))
        floors = dict(starts)
        unrun: dict[str, dt.date] = {}
        for org, day in starts.items():
            before = self.status_on(org, day - ONE_DAY)
            if org not in self._runs:  # a rewrite from `day` may change the row before it, from its start
                unrun[org] = min(day, before.since) if before is not None else day
            for named in fold.relations(before):
                floors[named] = min(day, floors.get(named, day))
        if unrun:
            self._runs.fill(unrun, self.stored.current_runs_of(unrun))
        if floors:  # one read from the earliest day: endings are few
            self._read_endings(list(floors), min(floors.values()))

    # ---- what depends on what ------------------------------------------------------------

    def endings_of(self, orgs: Sequence[str], day: dt.date) -> list[Ending]:
        wanted = list(dict.fromkeys(orgs))
        self._read_endings(wanted, day)
        return sorted(
            (e for org in wanted for e in self._endings[org][1] if e.effective >= day),
            key=lambda e: (e.effective, e.position, e.org),
        )

    def _read_endings(self, wanted: Sequence[str], day: dt.date) -> None:
        """Cache the endings of `wanted` from `day` on, reading only those not cached that far. What
        is cached stays: it holds this transaction's pending changes, which storage lacks."""
        unread = [org for org in wanted if (cached := self._endings.get(org)) is None or cached[0] > day]
        if unread:
            found: dict[str, list[Ending]] = {org: [] for org in unread}
            for ending in self.stored.endings_of(unread, day):
                cached = self._endings.get(ending.org)
                if cached is None or ending.effective < cached[0]:
                    found[ending.org].append(ending)
            for org, endings in found.items():
                cached = self._endings.get(org)
                self._endings[org] = (day, endings + cached[1] if cached is not None else endings)

    def ended_by(self, position: int) -> list[str]:
        orgs = {
            e.org for e in self.stored.ended_by(position)
            if (stale := self.pending.ended_since(e.org)) is None or e.effective < stale
        }
        orgs.update(
            org for org, (_, endings) in self.pending.endings.items() if any(e.position == position for e in endings)
        )
        return sorted(orgs)

    def set_endings(self, org: str, day: dt.date, endings: list[Ending]) -> None:
        """Storage will drop `org`'s endings from `day` on and take `endings` (at :meth:`flush`);
        the cache does so now."""
        self.pending.set_endings(org, day, endings)
        self._endings[org] = endings_replaced(self._endings.get(org), day, endings)

    def dependents_of(self, org: str) -> set[str]:
        stored = self._dependents.get(org)
        if stored is None:
            stored = self._dependents[org] = self.stored.dependents_of(org)
        return stored | self._added_dependents.get(org, set())

    def add_dependents(self, org: str, causes: set[str]) -> None:
        for cause in causes:
            added = self._added_dependents.setdefault(cause, set())
            if org not in added:
                added.add(org)
                self.pending.dependents.add((cause, org))

    # ---- policies ----------------------------------------------------------------

    def set_policy(self, position: int, event: PolicyPublished | None, recorded_us: int) -> None:
        version = None
        if event is not None:
            row = self.pending.entries.get(position)
            event_id = row.event_id if row is not None else self.stored.entry_at(position).event_id
            version = (event.policy_id, event.effective.isoformat(), event_id, blobs.pack(_encode(event)))
        self.stored.set_policy(position, version, recorded_us)


def _matches(row: IntervalRow, column: str | None, value: str | None) -> bool:
    if column == "stage":
        return row.stage == value
    if column == "kind":
        return row.kind == value
    return True
