"""The projection's statements on the interval tables: what earlier transactions stored, and
the writes of this one (sent in bulk by :meth:`StoredRows.write`, or at once for the few
in-place changes). :class:`evolve.views.writer.SqlWriter` combines these with its pending rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import msgspec

from evolve.catalogue import Correctable
from evolve.records import micros
from evolve.views import blobs
from evolve.views.interface import NO_ENTRY, OPEN, Ending, Entry, LastEntry, Segment, TimelineEvent
from evolve.views.pending import IntervalRow, Pending
from evolve.views.runs import Run
from evolve.views.sql import JOINED, Dialect, day_of, unpacked

_decode_correctable = msgspec.json.Decoder(Correctable).decode


class _OwnEvent(msgspec.Struct):
    """The one field of a stored record that a fold needs (the others are skipped, not decoded)."""

    event: Correctable


_decode_own = msgspec.json.Decoder(_OwnEvent).decode
#: An entry's current version as two columns (own, the blob to decode): see :func:`stored_current`.
_CURRENT = "own, CASE WHEN own = 1 THEN record ELSE current END"
#: One organisation's statements, read alone or many at once (:meth:`StoredRows.each`).
_CURRENT_ROWS = (
    f"SELECT valid_from, valid_to, recorded_from_us, status, lists, data {JOINED} "
    "WHERE org=? AND recorded_to_us=? AND valid_to>=?"
)
_CURRENT_RUNS = (
    "SELECT relation, related, valid_from, valid_to, recorded_from_us FROM timeline_relations "
    "WHERE org=? AND recorded_to_us=? AND valid_to>=?"
)
_LATEST_TOUCH = "SELECT MAX(effective) FROM timeline_touches WHERE org=?"
_TOUCHES = (
    f"SELECT e.fold_effective, e.position, e.event_id, {_CURRENT} FROM timeline_touches t "  # noqa: S608 - constants
    "JOIN timeline_entries e ON e.position = t.position WHERE t.org=? AND t.effective>=?"
)
#: Organisations per ``IN`` list of endings (SQLite allows 32,766 parameters, PostgreSQL 65,535).
CHUNK = 500
_T = TypeVar("_T")
#: Up to this many pending rows, PostgreSQL gets them in one pipeline rather than by COPY.
PIPELINE_ROWS = 500


class StoredEntry(NamedTuple):
    """What a correction needs of a stored entry row."""

    event_id: str
    fold_effective: str
    broadcast: int


class StoredRows:
    """Statements on one open transaction's cursor, in the dialect of its database."""

    def __init__(self, cursor: Any, dialect: Dialect, ignore_conflict: tuple[str, str]) -> None:
        self.c = cursor
        self.sql = dialect
        self._insert_prefix, self._insert_suffix = ignore_conflict

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(self.sql(statement), params)

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.c.execute(self.sql(statement), params)
        return list(self.c.fetchall())

    # ---- reads -------------------------------------------------------------------

    def last_entry(self) -> LastEntry:
        # Record time only grows along the log, so the last entry holds the maximum.
        found = self.rows(
            "SELECT position, recorded_at, recorded_us FROM timeline_entries ORDER BY position DESC LIMIT 1"
        )
        if not found:
            return NO_ENTRY
        position, recorded_at, recorded_us = found[0]
        return LastEntry(int(position), micros(dt.datetime.fromisoformat(recorded_at)), int(recorded_us))

    def entry(self, event_id: str) -> Entry | None:
        statement = f"SELECT position, fold_effective, {_CURRENT} FROM timeline_entries WHERE event_id=?"  # noqa: S608
        found = self.rows(statement, (event_id,))
        if not found:
            return None
        position, effective, own, current = found[0]
        return Entry(int(position), day_of(effective), stored_current(own, current))

    def entry_at(self, position: int) -> StoredEntry:
        found = self.rows(
            "SELECT event_id, fold_effective, broadcast FROM timeline_entries WHERE position=?", (position,)
        )
        return StoredEntry(str(found[0][0]), str(found[0][1]), int(found[0][2]))

    def each(self, statement: str, params: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """`statement`'s rows for each set of `params`, in order. PostgreSQL gets them all in one
        pipeline: one round trip, and each statement planned for its one organisation. (One join
        of all the organisations at once was planned as a scan of the whole table on a server
        that had never analysed it, and grew with the table: 18 % of a 1M import.) SQLite runs
        them one by one, in process."""
        if not params:
            return []
        if not self.sql.pipeline:
            return [self.rows(statement, one) for one in params]
        self.c.executemany(self.sql(statement), params, returning=True)
        found = [list(self.c.fetchall())]
        while self.c.nextset():
            found.append(list(self.c.fetchall()))
        return found

    def current_rows(self, org: str, floor: dt.date, below: dt.date | None) -> list[Segment]:
        """`org`'s current rows with ``floor <= valid_to`` (and ``valid_to < below``), by valid_from."""
        return [_segment(*row) for row in self._current(_CURRENT_ROWS, org, floor, below, " ORDER BY valid_from")]

    def current_rows_of(self, floors: Mapping[str, dt.date]) -> dict[str, list[Segment]]:
        """:meth:`current_rows` of many organisations at once, each from its own floor."""
        found = self._current_of(_CURRENT_ROWS + " ORDER BY valid_from", floors)
        return {org: [_segment(*row) for row in rows] for org, rows in found.items()}

    def current_runs(self, org: str, floor: dt.date, below: dt.date | None) -> list[Run]:
        """`org`'s current relation rows with ``floor <= valid_to`` (and ``valid_to < below``)."""
        return [_run(*row) for row in self._current(_CURRENT_RUNS, org, floor, below)]

    def current_runs_of(self, floors: Mapping[str, dt.date]) -> dict[str, list[Run]]:
        """:meth:`current_runs` of many organisations at once, each from its own floor."""
        return {org: [_run(*row) for row in rows] for org, rows in self._current_of(_CURRENT_RUNS, floors).items()}

    def _current(self, statement: str, org: str, floor: dt.date, below: dt.date | None, order: str = "") -> list[Any]:
        """`statement` (bound: org, the open record end, floor) with ``valid_to < below`` if given."""
        params: list[Any] = [org, OPEN, floor.isoformat()]
        if below is not None:
            statement += " AND valid_to<?"
            params.append(below.isoformat())
        return self.rows(statement + order, params)

    def _current_of(self, statement: str, floors: Mapping[str, dt.date]) -> dict[str, list[Any]]:
        found = self.each(statement, [(org, OPEN, day.isoformat()) for org, day in floors.items()])
        return dict(zip(floors, found, strict=True))

    def current_on(self, day: dt.date, column: str | None, value: str | None) -> list[tuple[str, str, int]]:
        """(org, valid_from, recorded_from_us) of the current rows holding on `day`, where
        `column` (``kind`` or ``stage``, chosen by the caller) equals `value` if given."""
        iso = day.isoformat()
        clause = f" AND {column}=?" if column is not None else ""
        found = self.rows(
            "SELECT org, valid_from, recorded_from_us FROM timeline_intervals "  # noqa: S608 - fixed column names
            "WHERE recorded_to_us=? AND valid_from<=? AND valid_to>?" + clause,
            [OPEN, iso, iso, *([value] if column is not None else [])],
        )
        return [(str(org), str(valid_from), int(recorded)) for org, valid_from, recorded in found]

    def latest_touch(self, org: str) -> str | None:
        found = self.rows(_LATEST_TOUCH, (org,))
        return found[0][0] if found else None

    def latest_touches(self, orgs: Sequence[str]) -> dict[str, str | None]:
        """:meth:`latest_touch` of many organisations at once."""
        found = self.each(_LATEST_TOUCH, [(org,) for org in orgs])
        return {org: rows[0][0] if rows else None for org, rows in zip(orgs, found, strict=True)}

    def broadcasts(self, floor: dt.date, below: dt.date | None) -> list[TimelineEvent]:
        """Broadcasts effective on or after `floor` (and before `below`), unordered."""
        statement = (
            f"SELECT fold_effective, position, event_id, {_CURRENT} FROM timeline_entries "  # noqa: S608 - constants
            "WHERE broadcast = 1 AND fold_effective>=?"
        )
        params = [floor.isoformat()]
        if below is not None:
            statement += " AND fold_effective<?"
            params.append(below.isoformat())
        return [_timeline_event(*row) for row in self.rows(statement, params)]

    def touches(self, org: str, day: dt.date, below: dt.date | None = None) -> list[TimelineEvent]:
        """Stored entries naming `org`, effective on or after `day` (and before `below`), unordered."""
        statement = _TOUCHES
        params = [org, day.isoformat()]
        if below is not None:
            statement += " AND t.effective<?"
            params.append(below.isoformat())
        return [_timeline_event(*row) for row in self.rows(statement, params)]

    def touches_of(self, floors: Mapping[str, dt.date]) -> dict[str, list[TimelineEvent]]:
        """:meth:`touches` of many organisations at once, each from its own floor."""
        found = self.each(_TOUCHES, [(org, day.isoformat()) for org, day in floors.items()])
        return {org: [_timeline_event(*row) for row in rows] for org, rows in zip(floors, found, strict=True)}

    def endings_of(self, orgs: Sequence[str], day: dt.date) -> list[Ending]:
        found: list[Ending] = []
        for some in _chunks(list(orgs)):
            marks = ",".join("?" * len(some))
            rows = self.rows(f"{_ENDINGS} WHERE org IN ({marks}) AND effective>=?", [*some, day.isoformat()])
            found += [_ending(*row) for row in rows]
        return found

    def ended_by(self, position: int) -> list[Ending]:
        """The endings made by the entry at `position` (a scan: endings are few, and only a
        correction of a broadcast asks)."""
        return [_ending(*row) for row in self.rows(f"{_ENDINGS} WHERE position=?", (position,))]

    def dependents_of(self, org: str) -> set[str]:
        return {str(row[0]) for row in self.rows("SELECT org FROM timeline_dependents WHERE cause=?", (org,))}

    # ---- writes ------------------------------------------------------------------

    def set_current(self, position: int, columns: tuple[int, bytes | None, str, int]) -> None:
        statement = "UPDATE timeline_entries SET own=?, current=?, fold_effective=?, broadcast=? WHERE position=?"
        self.execute(statement, (*columns, position))

    def delete_touches(self, position: int) -> list[str]:
        """Drop the entry's touches; the organisations they named."""
        found = self.rows("DELETE FROM timeline_touches WHERE position=? RETURNING org", (position,))
        return [str(row[0]) for row in found]

    def set_policy(self, position: int, version: tuple[str, str, str, bytes] | None, recorded_us: int) -> None:
        """Close the entry's open policy row (drop it if it opened at `recorded_us`), then open
        `version` = (policy id, effective, event id, event) if given."""
        self.execute(
            "DELETE FROM timeline_policies WHERE position=? AND recorded_from_us=? AND recorded_to_us=?",
            (position, recorded_us, OPEN),
        )
        self.execute(
            "UPDATE timeline_policies SET recorded_to_us=? WHERE position=? AND recorded_to_us=?",
            (recorded_us, position, OPEN),
        )
        if version is not None:
            self.execute(
                "INSERT INTO timeline_policies (position, recorded_from_us, recorded_to_us, policy_id, effective, "
                "event_id, event) VALUES (?,?,?,?,?,?,?)",
                (position, recorded_us, OPEN, *version),
            )

    def write(self, pending: Pending) -> None:
        """Send every pending row, one bulk statement per table. On PostgreSQL a small write (an
        append's few rows) goes in one pipeline, one round trip for every table, instead of a
        ``COPY`` per table (two round trips each); a large one (an import, a catch-up) by ``COPY``."""
        if self.sql.pipeline and pending.size() <= PIPELINE_ROWS:
            with self.c.connection.pipeline():
                self._write(pending, copy=False)
        else:
            self._write(pending, copy=self.sql.copy)

    def _write(self, pending: Pending, *, copy: bool) -> None:
        self._insert("timeline_entries", EntryColumns, list(pending.entries.values()), copy=copy)
        self._insert("timeline_subjects", "subject, position", pending.subjects, copy=copy)
        self._insert("timeline_touches", "org, effective, position", list(pending.touches.values()), copy=copy)
        self._insert_ignore("timeline_organisations (org)", "(?)", [(org,) for org in pending.orgs])
        ended = [c for c in pending.closes if not c.unmade]
        unmade = [c.key for c in pending.closes if c.unmade]
        self._executemany(
            "UPDATE timeline_intervals SET recorded_to_us=? WHERE org=? AND valid_from=? AND recorded_from_us=?", ended
        )
        self._executemany("DELETE FROM timeline_intervals WHERE org=? AND valid_from=? AND recorded_from_us=?", unmade)
        key = "org=? AND relation=? AND related=? AND valid_from=? AND recorded_from_us=?"
        self._executemany(
            f"UPDATE timeline_relations SET recorded_to_us=? WHERE {key}",  # noqa: S608 - constants
            [c for c in pending.relation_closes if not c.unmade],
        )
        self._executemany(
            f"DELETE FROM timeline_relations WHERE {key}",  # noqa: S608 - constants
            [c.key for c in pending.relation_closes if c.unmade],
        )
        # Interval rows and lists are packed only now: a refold may replace rows it buffered
        # before the transaction ends (a row made and unmade at one record time is never sent).
        intervals = [
            IntervalRow(r.org, r.valid_from, r.valid_to, r.recorded_from_us, r.recorded_to_us, r.kind, r.stage, r.name,
                        blobs.pack(r.status), r.lists)  # not _replace (1.7x slower): a rebuild sends millions
            for r in pending.inserts.values()
        ]
        self._insert("timeline_intervals", IntervalColumns, intervals, copy=copy)
        self._insert("timeline_relations", RelationColumns, list(pending.relation_inserts.values()), copy=copy)
        self._insert_ignore("timeline_dependents (cause, org)", "(?,?)", sorted(pending.dependents))
        replaced = sorted(pending.endings.items())
        self._executemany(
            "DELETE FROM timeline_endings WHERE org=? AND effective>=?",
            [(org, day.isoformat()) for org, (day, _) in replaced],
        )
        self._executemany(
            "INSERT INTO timeline_endings (org, effective, position, event_id, successor) VALUES (?,?,?,?,?)",
            [(e.org, e.effective.isoformat(), e.position, e.event_id, e.successor)
             for _, (_, endings) in replaced for e in endings],
        )
        lists = [(digest, blobs.pack(data)) for digest, data in pending.lists.items()]
        self._insert_ignore("timeline_lists (hash, data)", "(?,?)", lists)

    def _executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.c.executemany(self.sql(statement), rows)

    def _insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]], *, copy: bool) -> None:
        """Add rows that cannot conflict with existing ones (by ``COPY`` if `copy`)."""
        if not rows:
            return
        if copy:
            with self.c.copy(self.sql(f"COPY {table} ({columns}) FROM STDIN")) as rows_in:
                for row in rows:
                    rows_in.write_row(row)
        else:
            marks = ",".join("?" * (columns.count(",") + 1))
            self._executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608 - fixed names

    def _insert_ignore(self, table_and_columns: str, values: str, rows: Sequence[Sequence[Any]]) -> None:
        self._executemany(
            f"{self._insert_prefix} INTO {table_and_columns} VALUES {values} {self._insert_suffix}", rows
        )


#: Column lists in the order of the named rows of :mod:`evolve.views.pending`.
EntryColumns = (
    "position, event_id, type, effective, recorded_at, recorded_us, record, own, current, fold_effective, broadcast"
)
RelationColumns = "org, relation, related, valid_from, recorded_from_us, valid_to, recorded_to_us"
IntervalColumns = (
    "org, valid_from, valid_to, recorded_from_us, recorded_to_us, kind, stage, name, status, lists"
)


def _chunks(items: list[_T]) -> Iterator[list[_T]]:
    """`items` in lists of at most :data:`CHUNK` (statements' parameters are limited)."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _segment(valid_from: str, valid_to: str, recorded: Any, scalar: Any, lists: Any, data: Any) -> Segment:
    return Segment(day_of(valid_from), day_of(valid_to), int(recorded), unpacked(scalar), lists, _unpacked(data))


def _run(relation: str, related: str, valid_from: str, valid_to: str, recorded: Any) -> Run:
    return Run(str(relation), str(related), day_of(valid_from), day_of(valid_to), int(recorded))


_ENDINGS = "SELECT org, effective, position, event_id, successor FROM timeline_endings"


def _ending(org: Any, effective: str, position: Any, event_id: Any, successor: Any) -> Ending:
    return Ending(str(org), day_of(effective), int(position), str(event_id), successor)


def _unpacked(blob: Any) -> bytes | None:
    return unpacked(blob) if blob is not None else None


def stored_current(own: Any, blob: Any) -> Correctable | None:
    """An entry's current version from the two columns of :data:`_CURRENT`: `blob` is the record if
    `own` (its own event is read from it), else `current` (None once retracted)."""
    if own:
        return _decode_own(unpacked(blob)).event
    return _decode_correctable(unpacked(blob)) if blob is not None else None


def _timeline_event(effective: str, position: Any, event_id: Any, own: Any, current: Any) -> TimelineEvent:
    event = stored_current(own, current)
    assert event is not None  # touches and broadcasts are of entries with a current version
    return TimelineEvent.of(day_of(effective), int(position), str(event_id), event)
