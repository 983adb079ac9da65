"""The interval tables in SQL, shared by the SQLite and PostgreSQL views: their
layout, and the dialect that adapts statements to each database.

Statements are written once with ``?`` placeholders; a dialect turns them
into the driver's style and supplies the few types that differ. The
projection writes through :mod:`evolve.views.writer` (its statements are in
:mod:`evolve.views.stored`); queries read through :mod:`evolve.views.reader`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from evolve import codec
from evolve.state import Status
from evolve.views import blobs

#: The shape of the tables below. Bump it when they change: a database projected
#: under another layout has its view dropped and projected again from the log,
#: which is the only truth (see the views' ``upgrade``).
LAYOUT_VERSION = 12


def table_statements(blob: str, without_rowid: str, position_key: str) -> list[str]:
    """`position_key` declares the log position column (on SQLite, ``INTEGER PRIMARY
    KEY`` makes it the rowid: one b-tree fewer to write per entry)."""
    return [
        "CREATE TABLE IF NOT EXISTS timeline_layout (version INTEGER NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS timeline_entries (
            position {position_key},
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            effective TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_us BIGINT NOT NULL,
            record {blob} NOT NULL,
            own INTEGER NOT NULL,
            current {blob},
            fold_effective TEXT NOT NULL,
            broadcast INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS timeline_entries_type ON timeline_entries (type, position)",
        "CREATE INDEX IF NOT EXISTS timeline_entries_effective ON timeline_entries (effective, position)",
        "CREATE INDEX IF NOT EXISTS timeline_entries_broadcast ON timeline_entries (fold_effective, position) "
        "WHERE broadcast = 1",
        f"""CREATE TABLE IF NOT EXISTS timeline_subjects (
            subject TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (subject, position)){without_rowid}""",
        f"""CREATE TABLE IF NOT EXISTS timeline_touches (
            org TEXT NOT NULL, effective TEXT NOT NULL, position BIGINT NOT NULL,
            PRIMARY KEY (org, effective, position)){without_rowid}""",
        "CREATE INDEX IF NOT EXISTS timeline_touches_position ON timeline_touches (position)",
        f"""CREATE TABLE IF NOT EXISTS timeline_intervals (
            org TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT NOT NULL,
            recorded_from_us BIGINT NOT NULL,
            recorded_to_us BIGINT NOT NULL,
            kind TEXT NOT NULL,
            stage TEXT,
            name TEXT NOT NULL,
            status {blob} NOT NULL,
            lists TEXT,
            PRIMARY KEY (org, valid_from, recorded_from_us))""",
        f"CREATE TABLE IF NOT EXISTS timeline_lists (hash TEXT PRIMARY KEY, data {blob} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS timeline_intervals_current ON timeline_intervals (org, recorded_to_us, valid_to)",
        # Every row on a day; with kind and stage it alone answers /stats (evolve/counts.py).
        "CREATE INDEX IF NOT EXISTS timeline_intervals_day "
        "ON timeline_intervals (recorded_to_us, valid_to, valid_from, recorded_from_us, kind, stage)",
        # The lists (`GET /organisations?kind=&stage=`, ordered by organisation): with `org` second, a page
        # is read in order and stops at its limit instead of sorting every row of the kind (view layout 12).
        # Only health systems have a stage.
        "CREATE INDEX IF NOT EXISTS timeline_intervals_kind "
        "ON timeline_intervals (kind, org, recorded_to_us, valid_to)",
        "CREATE INDEX IF NOT EXISTS timeline_intervals_stage "
        "ON timeline_intervals (stage, org, recorded_to_us, valid_to) WHERE stage IS NOT NULL",
        f"CREATE TABLE IF NOT EXISTS timeline_organisations (org TEXT PRIMARY KEY){without_rowid}",
        # What each organisation's states name (members, parent, region, codes, flags), for the
        # reverse questions (which systems list a CCG; a system's sub-areas) and the code search:
        # one row per run of adjacent interval rows naming the same thing (evolve.views.runs).
        f"""CREATE TABLE IF NOT EXISTS timeline_relations (
            org TEXT NOT NULL, relation TEXT NOT NULL, related TEXT NOT NULL,
            valid_from TEXT NOT NULL, recorded_from_us BIGINT NOT NULL,
            valid_to TEXT NOT NULL, recorded_to_us BIGINT NOT NULL,
            PRIMARY KEY (org, relation, related, valid_from, recorded_from_us)){without_rowid}""",
        "CREATE INDEX IF NOT EXISTS timeline_relations_related "
        "ON timeline_relations (related, relation, recorded_to_us, valid_to)",
        # Where each organisation's timeline ends (current knowledge), and whose timelines read that.
        f"""CREATE TABLE IF NOT EXISTS timeline_endings (
            org TEXT NOT NULL, effective TEXT NOT NULL, position BIGINT NOT NULL, event_id TEXT NOT NULL,
            successor TEXT, PRIMARY KEY (org, effective, position)){without_rowid}""",
        f"""CREATE TABLE IF NOT EXISTS timeline_dependents (
            cause TEXT NOT NULL, org TEXT NOT NULL, PRIMARY KEY (cause, org)){without_rowid}""",
        # Each entry's policy version over record time (a correction closes one and opens another).
        f"""CREATE TABLE IF NOT EXISTS timeline_policies (
            position BIGINT NOT NULL, recorded_from_us BIGINT NOT NULL, recorded_to_us BIGINT NOT NULL,
            policy_id TEXT NOT NULL, effective TEXT NOT NULL, event_id TEXT NOT NULL, event {blob} NOT NULL,
            PRIMARY KEY (position, recorded_from_us)){without_rowid}""",
        "CREATE INDEX IF NOT EXISTS timeline_policies_id ON timeline_policies (policy_id, effective)",
    ]


TABLES = (
    "timeline_entries",
    "timeline_subjects",
    "timeline_touches",
    "timeline_intervals",
    "timeline_lists",
    "timeline_organisations",
    "timeline_relations",
    "timeline_endings",
    "timeline_dependents",
    "timeline_policies",
)


def day_of(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def as_bytes(value: Any) -> bytes:
    return bytes(value)


def unpacked(value: Any) -> bytes:
    """A stored blob's JSON (the views pack every blob: :mod:`evolve.views.blobs`)."""
    return blobs.unpack(as_bytes(value))


#: Interval rows with their lists (see :mod:`evolve.codec`).
JOINED = "FROM timeline_intervals LEFT JOIN timeline_lists ON hash = lists"


def status_of(scalar: Any, lists: Any) -> Status:
    """A stored row's status from its packed blobs (:mod:`evolve.views.blobs`)."""
    return codec.decode(as_bytes(scalar), as_bytes(lists) if lists is not None else None, unpack=blobs.unpack)


class Dialect:
    """How statements written for SQLite are adapted: placeholders, schema, bulk inserts.

    With `copy`, new rows go in with ``COPY ... FROM STDIN`` (PostgreSQL's
    bulk path, through psycopg) instead of one ``INSERT`` per row. With
    `pipeline`, many statements go to the server in one round trip (psycopg's
    pipeline mode) instead of one each.
    """

    def __init__(
        self, placeholder: str = "?", schema: str | None = None, *, copy: bool = False, pipeline: bool = False
    ) -> None:
        self.placeholder = placeholder
        self.schema = schema
        self.copy = copy
        self.pipeline = pipeline
        self._cache: dict[str, str] = {}

    def __call__(self, statement: str) -> str:
        found = self._cache.get(statement)
        if found is None:
            found = statement.replace("?", self.placeholder) if self.placeholder != "?" else statement
            if self.schema is not None:
                # Only this module's tables are called timeline_*; qualifying them
                # saves a `SET search_path` round trip per transaction.
                found = found.replace("timeline_", f'"{self.schema}".timeline_')
            self._cache[statement] = found
        return found


SQLITE = Dialect()
