"""The writes one projection transaction has made but not yet sent: named rows, kept until the
writer's last call (:meth:`evolve.views.writer.SqlWriter.flush`) sends each table's rows in
one bulk statement. Until then reads combine what storage holds with what is pending here."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, TypeVar

from evolve.views.interface import OPEN, Ending


class EntryRow(NamedTuple):
    """A row of ``timeline_entries``: a log entry and the version timelines fold: its own event
    (`own`), or `current` once corrected (None once retracted, and for a correction itself). The
    own event is not stored twice: it is the record's."""

    position: int
    event_id: str
    type: str
    effective: str
    recorded_at: str
    recorded_us: int
    record: bytes
    own: int  # 1 when timelines fold the record's own event
    current: bytes | None
    fold_effective: str  # the current version's date (the entry's own once retracted)
    broadcast: int  # 1 when the current version is a broadcast


class TouchRow(NamedTuple):
    """A row of ``timeline_touches``: an entry names an organisation, effective on a date."""

    org: str
    effective: str
    position: int


class IntervalRow(NamedTuple):
    """A row of ``timeline_intervals``: a state over valid time, as known over record time."""

    org: str
    valid_from: str
    valid_to: str
    recorded_from_us: int
    recorded_to_us: int
    kind: str
    stage: str | None
    name: str
    status: bytes  # the status's JSON, packed when sent (evolve.views.blobs)
    lists: str | None


class RelationRow(NamedTuple):
    """A row of ``timeline_relations``: over a run of valid time, as known over record time, the
    state of `org` names `related` as `relation` (see :mod:`evolve.views.runs`)."""

    org: str
    relation: str
    related: str
    valid_from: str
    recorded_from_us: int
    valid_to: str
    recorded_to_us: int


class Close(NamedTuple):
    """The end of a stored interval row's record time: an UPDATE of ``recorded_to_us``, or a DELETE
    if the row began at that record time (:attr:`unmade`)."""

    recorded_to_us: int
    org: str
    valid_from: str
    recorded_from_us: int

    @property
    def unmade(self) -> bool:
        """Made and unmade at one record time, so never visible: the row goes, as a buffered one
        would (:meth:`Pending.close`). It is stored when a transaction ends inside an append's
        batch (a catch-up or rebuild cuts its transactions by count, not by record time)."""
        return self.recorded_from_us == self.recorded_to_us

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.org, self.valid_from, self.recorded_from_us)


class RelationClose(NamedTuple):
    """The end of a stored relation row's record time (an UPDATE, or a DELETE if :attr:`unmade`)."""

    recorded_to_us: int
    org: str
    relation: str
    related: str
    valid_from: str
    recorded_from_us: int

    @property
    def unmade(self) -> bool:
        return self.recorded_from_us == self.recorded_to_us

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.org, self.relation, self.related, self.valid_from, self.recorded_from_us)


IntervalKey = tuple[str, dt.date, int]  # (org, valid_from, recorded_from_us)
RelationKey = tuple[str, str, str, dt.date, int]  # (org, relation, related, valid_from, recorded_from_us)


class Pending:
    """A transaction's unsent writes, by table."""

    def __init__(self) -> None:
        self.entries: dict[int, EntryRow] = {}  # by position
        self.positions: dict[str, int] = {}  # buffered entries' positions by event id
        self.subjects: list[tuple[str, int]] = []
        self.touches: dict[tuple[str, int], TouchRow] = {}  # by (org, position)
        self.orgs: list[str] = []  # organisations named for the first time
        self.closes: list[Close] = []
        self.inserts: dict[IntervalKey, IntervalRow] = {}
        self.relation_closes: list[RelationClose] = []
        self.relation_inserts: dict[RelationKey, RelationRow] = {}
        self.lists: dict[str, bytes] = {}  # list contents by hash (see evolve.codec)
        self.dependents: set[tuple[str, str]] = set()  # (cause, org)
        # `endings[org] = (day, endings)`: storage's endings of `org` from `day` on are replaced by these.
        self.endings: dict[str, tuple[dt.date, list[Ending]]] = {}

    def size(self) -> int:
        """How many rows are pending."""
        return (
            len(self.entries) + len(self.subjects) + len(self.touches) + len(self.orgs) + len(self.closes)
            + len(self.inserts) + len(self.relation_closes) + len(self.relation_inserts) + len(self.lists)
            + len(self.dependents) + sum(len(endings) + 1 for _, endings in self.endings.values())
        )

    def add_entry(self, row: EntryRow) -> None:
        self.entries[row.position] = row
        self.positions[row.event_id] = row.position

    def entry(self, event_id: str) -> EntryRow | None:
        position = self.positions.get(event_id)
        return self.entries[position] if position is not None else None

    def drop_touches(self, position: int, orgs: list[str]) -> None:
        for org in orgs:
            self.touches.pop((org, position), None)

    def close(self, key: IntervalKey, recorded_us: int) -> None:
        """End a row's record time: a buffered row is changed (or dropped, if it began at
        `recorded_us`: made and unmade by one record time, so never visible); a stored one
        gets an UPDATE."""
        if not _end_buffered(self.inserts, key, recorded_us):
            org, valid_from, recorded_from_us = key
            self.closes.append(Close(recorded_us, org, valid_from.isoformat(), recorded_from_us))

    def set_endings(self, org: str, day: dt.date, endings: list[Ending]) -> None:
        """Replace `org`'s endings from `day` on. Replacements compose: the pending one covers
        from the earliest day any of them did (a refold sets an organisation's endings many times;
        each was a DELETE and an INSERT, two round trips on PostgreSQL)."""
        self.endings[org] = endings_replaced(self.endings.get(org), day, endings)

    def ended_since(self, org: str) -> dt.date | None:
        """The day from which storage's endings of `org` are stale, if this transaction set them."""
        replaced = self.endings.get(org)
        return replaced[0] if replaced is not None else None

    def open_relation(self, key: RelationKey, valid_to: dt.date) -> None:
        org, relation, related, valid_from, recorded_from_us = key
        self.relation_inserts[key] = RelationRow(
            org, relation, related, valid_from.isoformat(), recorded_from_us, valid_to.isoformat(), OPEN
        )

    def close_relation(self, key: RelationKey, recorded_us: int) -> None:
        """As :meth:`close`, for a relation row."""
        if not _end_buffered(self.relation_inserts, key, recorded_us):
            org, relation, related, valid_from, recorded_from_us = key
            self.relation_closes.append(
                RelationClose(recorded_us, org, relation, related, valid_from.isoformat(), recorded_from_us)
            )

    def closed(self) -> set[tuple[str, str, int]]:
        """Stored rows this transaction closed, as (org, valid_from, recorded_from_us)."""
        return {(c.org, c.valid_from, c.recorded_from_us) for c in self.closes}

    def current_on(self, day: str) -> list[IntervalRow]:
        """Buffered current rows that hold on `day`."""
        return [r for r in self.inserts.values() if r.recorded_to_us == OPEN and r.valid_from <= day < r.valid_to]


def endings_replaced(
    held: tuple[dt.date, list[Ending]] | None, day: dt.date, endings: list[Ending]
) -> tuple[dt.date, list[Ending]]:
    """`held` = (floor, the endings from floor on) after those from `day` on give way to `endings`."""
    if held is not None and held[0] < day:
        return (held[0], [e for e in held[1] if e.effective < day] + endings)
    return (day, list(endings))


_Row = TypeVar("_Row", IntervalRow, RelationRow)


def _end_buffered(rows: dict[Any, _Row], key: tuple[Any, ...], recorded_us: int) -> bool:
    """End the record time of the buffered row at `key` (its last part is its recorded_from_us),
    dropping it if it began at `recorded_us`; False if no such row is buffered."""
    row = rows.get(key)
    if row is None:
        return False
    if key[-1] == recorded_us:
        del rows[key]
    else:
        rows[key] = row._replace(recorded_to_us=recorded_us)
    return True
