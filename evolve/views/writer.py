"""The projection's side of the interval tables: buffered writes, cached reads."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from evolve import codec
from evolve.catalogue import BaseEvent, Correctable, PolicyPublished, Scope
from evolve.projection import ONE_DAY, Entry, Segment, TimelineEvent, TimelineWriter
from evolve.records import EventRecord
from evolve.state import Status
from evolve.types import END_OF_TIME
from evolve.views.sql import JOINED, OPEN, Dialect, as_bytes, day_of

_encode = msgspec.json.Encoder().encode
_decode_correctable = msgspec.json.Decoder(Correctable).decode


class SqlWriter(TimelineWriter):
    """The projection's writes and reads inside one open transaction.

    Writes are buffered and sent with one bulk statement per table when the
    transaction ends (:meth:`flush`, the writer's last call): a transaction of
    thousands of entries costs a handful of statements, not several per entry.
    Until then the database holds only what earlier transactions wrote, and
    every read adds this transaction's buffered changes to what it finds.
    Reads are cached for the transaction's life, and only the part of a
    timeline that an event can change is read: its tail from the event's date on.
    """

    def __init__(self, cursor: Any, dialect: Dialect, ignore_conflict: tuple[str, str]) -> None:
        self.c = cursor
        self.sql = dialect
        self._insert_prefix, self._insert_suffix = ignore_conflict
        self._known: int | None = None
        # Read caches. `_tails[org] = (floor, rows)`: every current row of `org`
        # with valid_to >= floor, by valid_from; `_broadcasts` likewise by date.
        self._tails: dict[str, tuple[dt.date, list[Segment]]] = {}
        self._before: dict[str, str | None] = {}  # latest touch date per org before this transaction
        self._added: dict[str, list[TimelineEvent]] = {}  # touches added in this transaction
        self._touched: dict[int, list[str]] = {}  # the organisations each of those touches names
        self._broadcasts: tuple[dt.date, list[TimelineEvent]] | None = None
        self._orgs: set[str] = set()
        # Write buffers, in flush order.
        self._entries: dict[int, list[Any]] = {}  # by position
        self._entry_positions: dict[str, int] = {}  # buffered entries' positions by event id
        self._subjects: list[tuple[str, int]] = []
        self._touches: dict[tuple[str, int], tuple[str, str, int]] = {}  # by (org, position)
        self._new_orgs: list[tuple[str]] = []
        self._new_broadcasts: list[TimelineEvent] = []  # added by this transaction
        self._closes: list[tuple[int, str, str, int]] = []
        self._inserts: dict[tuple[str, dt.date, int], list[Any]] = {}
        self._lists: dict[str, bytes] = {}

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(self.sql(statement), params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.c.executemany(self.sql(statement), rows)

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.c.execute(self.sql(statement), params)
        return list(self.c.fetchall())

    def insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """Add rows that cannot conflict with existing ones."""
        if not rows:
            return
        if self.sql.copy:
            with self.c.copy(self.sql(f"COPY {table} ({columns}) FROM STDIN")) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ",".join("?" * (columns.count(",") + 1))
            self.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608 - fixed names

    def insert_ignore(self, table_and_columns: str, values: str, rows: Sequence[Sequence[Any]]) -> None:
        self.executemany(f"{self._insert_prefix} INTO {table_and_columns} VALUES {values} {self._insert_suffix}", rows)

    def flush(self) -> None:
        self.insert(
            "timeline_entries",
            "position, event_id, type, effective, recorded_at, known_from, record, current, fold_effective, "
            "broadcast, policy_id",
            list(self._entries.values()),
        )
        self.insert("timeline_subjects", "subject, position", self._subjects)
        self.insert("timeline_touches", "org, effective, position", list(self._touches.values()))
        self.insert_ignore("timeline_organisations (org)", "(?)", self._new_orgs)
        self.executemany(
            "UPDATE timeline_intervals SET recorded_to=? WHERE org=? AND valid_from=? AND recorded_from=?", self._closes
        )
        self.insert(
            "timeline_intervals",
            "org, valid_from, valid_to, recorded_from, recorded_to, kind, stage, name, event_id, status, lists",
            list(self._inserts.values()),
        )
        self.insert_ignore("timeline_lists (hash, data)", "(?,?)", list(self._lists.items()))
        self._lists.clear()
        for buffer in (self._subjects, self._new_orgs, self._closes):
            buffer.clear()
        self._touches.clear()
        self._entries.clear()
        self._entry_positions.clear()
        self._new_broadcasts.clear()
        self._inserts.clear()

    # ---- TimelineWriter --------------------------------------------------------

    def last_known_from(self) -> int:
        if self._known is None:
            # Record time only grows along the log, so the last entry holds the maximum.
            found = self.rows("SELECT known_from FROM timeline_entries ORDER BY position DESC LIMIT 1")
            self._known = int(found[0][0]) if found else 0
        return self._known

    def add_entry(self, record: EventRecord, known_from: int, current: BaseEvent | None) -> None:
        self._known = known_from
        event = record.event
        self._entries[record.position] = [
            record.position,
            str(record.id),
            event.type,
            event.effective.isoformat(),
            record.recorded_at.isoformat(),
            known_from,
            _encode(record),
            *self._current_columns(current, event.effective),
        ]
        self._entry_positions[str(record.id)] = record.position
        self._subjects.extend((s, record.position) for s in dict.fromkeys(record.subjects))
        if current is not None:
            self._touch(record.position, current, str(record.id))

    def _current_columns(self, current: BaseEvent | None, fallback: dt.date) -> tuple[Any, ...]:
        if current is None:
            return (None, fallback.isoformat(), 0, None)
        scope = current.scope_or_none
        return (
            _encode(current),
            current.effective.isoformat(),
            int(scope is not None and scope.is_broadcast),
            current.policy_id if isinstance(current, PolicyPublished) else None,
        )

    def _touch(self, position: int, current: BaseEvent, event_id: str, *, stored: bool = False) -> None:
        """Note what `current` touches; `stored` if its entry row is already in the database."""
        if isinstance(current, PolicyPublished):
            return
        item = TimelineEvent(current.effective, position, event_id, current)
        scope = current.scope_or_none
        if scope is not None and scope.is_broadcast:
            if not stored:  # else a reload of the cache finds it in the database
                self._new_broadcasts.append(item)
            if self._broadcasts is not None and item.effective >= self._broadcasts[0]:
                bisect.insort(self._broadcasts[1], item)
            return
        day = current.effective.isoformat()
        for org in dict.fromkeys(current.subjects()):
            self._load_before(org)
            self._added.setdefault(org, []).append(item)
            self._touched.setdefault(position, []).append(org)
            self._touches[(org, position)] = (org, day, position)
            if org not in self._orgs:
                self._orgs.add(org)
                self._new_orgs.append((org,))

    def entry(self, event_id: str) -> Entry | None:
        position = self._entry_positions.get(event_id)
        if position is not None:  # buffered: not in the database yet
            row = self._entries[position]
            return Entry(position, day_of(row[8]), _decode_correctable(row[7]) if row[7] is not None else None)
        found = self.rows(
            "SELECT position, fold_effective, current FROM timeline_entries WHERE event_id=?", (event_id,)
        )
        if not found:
            return None
        position, effective, current = found[0]
        return Entry(
            position, day_of(effective), _decode_correctable(as_bytes(current)) if current is not None else None
        )

    def set_current(self, position: int, current: BaseEvent | None) -> None:
        row = self._entries.get(position)
        if row is not None:  # buffered: change the row before it is written
            event_id, effective, was_broadcast = row[1], row[8], row[9]
            row[7:11] = self._current_columns(current, day_of(effective))
        else:
            found = self.rows(
                "SELECT event_id, fold_effective, broadcast FROM timeline_entries WHERE position=?", (position,)
            )
            event_id, effective, was_broadcast = found[0]
            self.execute(
                "UPDATE timeline_entries SET current=?, fold_effective=?, broadcast=?, policy_id=? WHERE position=?",
                (*self._current_columns(current, day_of(effective)), position),
            )
        # The old version's touches go, wherever they are. `_before` may now claim
        # a touch that is gone: harmless, it only sends a read to the database.
        self.execute("DELETE FROM timeline_touches WHERE position=?", (position,))
        for org in self._touched.pop(position, ()):
            self._touches.pop((org, position), None)
            self._added[org] = [e for e in self._added[org] if e.position != position]
        if was_broadcast:
            self._new_broadcasts = [b for b in self._new_broadcasts if b.position != position]
            if self._broadcasts is not None:
                floor, cached = self._broadcasts
                self._broadcasts = (floor, [b for b in cached if b.position != position])
        if current is not None:
            self._touch(position, current, str(event_id), stored=row is None)

    def _cached_tail(self, org: str, day: dt.date) -> list[Segment]:
        """The cached list of `org`'s current rows, holding at least those ending on or after `day`.

        Rows ending before the cached floor were never changed by this
        transaction (it only changes rows it has read), so extending the
        cache downwards reads just those from the database.
        """
        cached = self._tails.get(org)
        if cached is not None and cached[0] <= day:
            return cached[1]
        statement = (
            f"SELECT valid_from, valid_to, recorded_from, status, lists, data {JOINED} "
            "WHERE org=? AND recorded_to=? AND valid_to>=?"
        )
        params: list[Any] = [org, OPEN, day.isoformat()]
        if cached is not None:
            statement += " AND valid_to<?"
            params.append(cached[0].isoformat())
        found = self.rows(statement + " ORDER BY valid_from", params)
        segments = [
            Segment(day_of(a), day_of(b), int(r), as_bytes(s), h, as_bytes(d) if d is not None else None)
            for a, b, r, s, h, d in found
        ]
        if cached is not None:
            segments += cached[1]
        self._tails[org] = (day, segments)
        return segments

    def _tail(self, org: str, day: dt.date) -> list[Segment]:
        """`org`'s current rows ending on or after `day`, by valid_from (current rows never overlap)."""
        segments = self._cached_tail(org, day)
        if segments and segments[0].valid_to < day:
            return segments[bisect.bisect_left(segments, day, key=lambda s: s.valid_to) :]
        return segments

    def status_on(self, org: str, day: dt.date) -> Status | None:
        segments = self._tail(org, day + ONE_DAY)
        if segments and segments[0].valid_from <= day:
            return segments[0].decoded()
        return None

    def orgs_on(self, day: dt.date, scope: Scope | None = None) -> list[str]:
        iso = day.isoformat()
        clause, params, column, value = "", [OPEN, iso, iso], 0, ""
        if scope is not None and scope.stage is not None:
            clause, column, value = " AND stage=?", 6, scope.stage.value
        elif scope is not None and scope.kind is not None:
            clause, column, value = " AND kind=?", 5, scope.kind.value
        found = self.rows(
            "SELECT org, valid_from, recorded_from FROM timeline_intervals "  # noqa: S608
            "WHERE recorded_to=? AND valid_from<=? AND valid_to>?" + clause,  # fixed text chosen above
            [*params, value] if clause else params,
        )
        # The database lacks what this transaction buffered: drop the rows it
        # closed, add the current rows it wrote.
        gone = {(org, valid_from, recorded_from) for _, org, valid_from, recorded_from in self._closes}
        orgs = {str(org) for org, valid_from, recorded_from in found if (org, valid_from, recorded_from) not in gone}
        orgs.update(
            row[0]
            for row in self._inserts.values()
            if row[4] == OPEN and row[1] <= iso < row[2] and (not column or row[column] == value)
        )
        return sorted(orgs)

    def segments_from(self, org: str, day: dt.date) -> list[Segment]:
        return list(self._tail(org, day))

    def timeline_events(self, org: str, day: dt.date) -> list[TimelineEvent]:
        self._load_before(org)
        before = self._before[org]
        found = [e for e in self._added.get(org, ()) if e.effective >= day]
        found += self._broadcasts_from(day)
        if before is not None and before >= day.isoformat():
            found += self._stored_touches(org, day)  # entries of earlier transactions reach `day`
        return sorted(found)

    def _load_before(self, org: str) -> None:
        """Remember `org`'s latest touch date as it stood before this transaction added any."""
        if org not in self._before:
            found = self.rows("SELECT MAX(effective) FROM timeline_touches WHERE org=?", (org,))
            self._before[org] = found[0][0]

    def _broadcasts_from(self, day: dt.date) -> list[TimelineEvent]:
        """Broadcasts effective on or after `day`, cached like the tails, in (date, position) order."""
        cached = self._broadcasts
        if cached is None or day < cached[0]:
            statement = (
                "SELECT fold_effective, position, event_id, current FROM timeline_entries "
                "WHERE broadcast = 1 AND fold_effective>=?"
            )
            params = [day.isoformat()]
            if cached is not None:
                statement += " AND fold_effective<?"
                params.append(cached[0].isoformat())
            found = [
                TimelineEvent(day_of(effective), int(position), event_id, _decode_correctable(as_bytes(current)))
                for effective, position, event_id, current in self.rows(statement, params)
            ]
            upper = cached[0] if cached is not None else END_OF_TIME
            found += [b for b in self._new_broadcasts if day <= b.effective < upper]
            found.sort()  # all before the old floor, so the joined list stays in (date, position) order
            cached = self._broadcasts = (day, found + (cached[1] if cached is not None else []))
        items = cached[1]
        return items[bisect.bisect_left(items, day, key=lambda b: b.effective) :]

    def _stored_touches(self, org: str, day: dt.date) -> list[TimelineEvent]:
        found = self.rows(
            "SELECT e.fold_effective, e.position, e.event_id, e.current FROM timeline_touches t "
            "JOIN timeline_entries e ON e.position = t.position WHERE t.org=? AND t.effective>=?",
            (org, day.isoformat()),
        )
        return [
            TimelineEvent(day_of(effective), int(position), event_id, _decode_correctable(as_bytes(current)))
            for effective, position, event_id, current in found
        ]

    def close_segment(self, org: str, segment: Segment, known_from: int) -> None:
        self._cached_tail(org, segment.valid_to).remove(segment)
        key = (org, segment.valid_from, segment.recorded_from)
        row = self._inserts.get(key)
        if row is None:  # written by an earlier transaction, so recorded before `known_from`
            self._closes.append((known_from, org, segment.valid_from.isoformat(), segment.recorded_from))
        elif segment.recorded_from == known_from:
            del self._inserts[key]  # made and unmade by the same entry: never written
        else:
            row[4] = known_from

    def insert_segment(
        self, org: str, valid_from: dt.date, valid_to: dt.date, known_from: int, status: Status, data: codec.Encoded
    ) -> None:
        bisect.insort(
            self._cached_tail(org, valid_to),
            Segment(valid_from, valid_to, known_from, data.scalar, data.lists, data.lists_data, status),
            key=lambda s: s.valid_from,
        )
        self._inserts[(org, valid_from, known_from)] = [
            org,
            valid_from.isoformat(),
            valid_to.isoformat(),
            known_from,
            OPEN,
            status.kind.value,
            status.stage.value if status.stage is not None else None,
            status.name,
            status.last_event_id,
            data.scalar,
            data.lists,
        ]
        if data.lists is not None and data.lists_data is not None:
            self._lists[data.lists] = data.lists_data

    def refresh_policy(self, policy_id: str) -> None:
        """The policy row is its newest current version, in the database or still buffered."""
        found = self.rows(
            "SELECT fold_effective, position, event_id, current FROM timeline_entries "
            "WHERE policy_id=? AND current IS NOT NULL ORDER BY fold_effective DESC, position DESC LIMIT 1",
            (policy_id,),
        )
        candidates = [(str(e), int(p), str(i), as_bytes(c)) for e, p, i, c in found]
        candidates += [
            (row[8], row[0], row[1], row[7])
            for row in self._entries.values()
            if row[10] == policy_id and row[7] is not None
        ]
        self.execute("DELETE FROM timeline_policies WHERE policy_id=?", (policy_id,))
        if candidates:
            effective, position, event_id, current = max(candidates, key=lambda c: (c[0], c[1]))
            self.execute(
                "INSERT INTO timeline_policies (policy_id, position, event_id, effective, event) VALUES (?,?,?,?,?)",
                (policy_id, position, event_id, effective, current),
            )
