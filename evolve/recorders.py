"""The store's recorders: eventsourcing's own, plus a hook that runs inside the insert's transaction,
and on PostgreSQL failing fast when the database is gone.

The projection runs in the append's own transaction (one commit, and a reader never sees the log
ahead of the view); :attr:`evolve.store.EventStore.in_transaction` is that hook, set by the
composition root (:class:`evolve.bootstrap.Evolve`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg.sql import SQL, Composed, Identifier

from evolve.outage import connection_broke

#: Called with the insert's cursor and the new notification ids, before the commit.
InTransaction = Callable[[Any, Sequence[int]], None]


#: Streams per statement of :meth:`HookedSQLiteRecorder.select_heads` (SQLite binds at most 32,766).
HEADS_CHUNK = 500


#: Advisory lock class for "one appender at a time" on PostgreSQL (the key within it is the schema).
APPEND_LOCK = 0x65766F61  # "evoa"


def events_table_name(app_name: str) -> str:
    """The log's table on PostgreSQL, named as eventsourcing's factory names it."""
    return f"{app_name.lower() or 'stored'}_events"


#: What a SQLite write-ahead log keeps on disk once a checkpoint has copied it back: about the
#: auto-checkpoint's 1,000 pages. Without a limit the file stays as large as the largest
#: transaction ever made it (an import's or a rebuild's batch: a third of the database).
WAL_SIZE_LIMIT = 4 * 1024 * 1024


def bound_wal(cursor: Any) -> None:
    """Let this connection truncate the write-ahead log to :data:`WAL_SIZE_LIMIT` after its
    checkpoints (a setting of the connection, so each writing transaction sets it; it costs
    nothing)."""
    cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")


class HookedSQLiteRecorder(SQLiteApplicationRecorder):
    """The application recorder, with a hook (`in_transaction=` of ``insert_events``) that runs in
    the insert's transaction."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        bound_wal(c)
        ids = super()._insert_events(c, stored_events, **kwargs)
        hook: InTransaction | None = kwargs.get("in_transaction")
        if hook is not None and ids:
            hook(c, ids)
        return ids

    def select_heads(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The newest stored event of each stream that has one, in one statement per
        :data:`HEADS_CHUNK` streams (``select_events(..., desc=True, limit=1)`` for many at once).
        SQLite takes a bare column of a ``MAX`` aggregate from the row holding the maximum."""
        found: list[StoredEvent] = []
        for start in range(0, len(originator_ids), HEADS_CHUNK):
            chunk = [i.hex for i in originator_ids[start : start + HEADS_CHUNK]]
            statement = (
                "SELECT originator_id, MAX(originator_version) AS originator_version, topic, state "  # noqa: S608
                f"FROM {self.events_table_name} WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                "GROUP BY originator_id"
            )
            with self.datastore.transaction(commit=False) as c:
                c.execute(statement, chunk)
                found += [
                    StoredEvent(
                        originator_id=self.convert_originator_id(row["originator_id"]),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=row["state"],
                    )
                    for row in c.fetchall()
                ]
        return found


# ---- PostgreSQL: fail fast in an outage -----------------------------------------------------

#: A statement whose connection broke is tried once more, soon (the retry gets a fresh connection).
OUTAGE_WAIT_S = 0.05


def once_more_if_broken(function: Any) -> Any:
    """`function` tried once more only if its connection broke, instead of eventsourcing's ten tries
    0.2 s apart on any operational error: right for a blip, but when the server is down, or a
    statement was cancelled for running too long, they hold every request for seconds before it can
    be told "unavailable"."""

    @functools.wraps(function)
    def tried(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (InterfaceError, OperationalError) as exc:
            if not connection_broke(exc):
                raise
        time.sleep(OUTAGE_WAIT_S)
        return function(*args, **kwargs)

    return tried


def render_statements(recorder: object) -> None:
    """Render a PostgreSQL recorder's statements to text once. eventsourcing keeps them as psycopg
    ``Composed`` objects (identifiers quoted when used), which psycopg renders again on every
    execute: 4 % of a single append's samples on PostgreSQL (docs/performance.md, 2026-12-04).
    The same text as plain ``SQL`` costs only its encoding."""
    for name, value in list(vars(recorder).items()):
        if isinstance(value, Composed):
            setattr(recorder, name, SQL(value.as_string(None)))
        elif isinstance(value, list) and value and all(isinstance(v, Composed) for v in value):
            setattr(recorder, name, [SQL(v.as_string(None)) for v in value])


def fail_fast(method: Any) -> Any:
    """An eventsourcing PostgreSQL recorder's `method` (undecorated: its ``__wrapped__``), tried
    :func:`once_more_if_broken`."""
    return once_more_if_broken(method.__wrapped__)


class FastFailingPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, failing fast when the database is gone, with
    the same hook as :class:`HookedSQLiteRecorder` (`in_transaction=` of ``insert_events``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        render_statements(self)

    select_events = fail_fast(PostgresApplicationRecorder.select_events)
    select_notifications = fail_fast(PostgresApplicationRecorder.select_notifications)
    max_notification_id = fail_fast(PostgresApplicationRecorder.max_notification_id)
    _insert_plain = fail_fast(PostgresApplicationRecorder.insert_events)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return cast("Sequence[int] | None", self._insert_plain(stored_events, **kwargs))
        return cast("Sequence[int]", self._insert_in_transaction(stored_events, kwargs.get("in_transaction")))

    @once_more_if_broken
    def select_heads(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The newest stored event of each stream that has one, in one statement (one round trip
        instead of one each)."""
        statement = SQL(
            "SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version DESC"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        ids: list[Any] = list(originator_ids)
        if self.datastore.originator_id_type == "text":
            ids = [str(i) for i in ids]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [ids])
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @contextmanager
    def appending(self) -> Iterator[None]:
        """One append attempt at a time across processes, from reading the log's head to the commit.
        Without it, writers in several processes read a head, queue on the log's table lock while
        another projects its append inside the transaction, and find the head moved: with eight
        writers one could lose fifty races in a row ("the log is too busy"). Session-level, on a
        connection of its own: released when the attempt ends, or by the server if it is lost."""
        key = (APPEND_LOCK, self.datastore.schema)
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)

    @once_more_if_broken
    def _insert_in_transaction(self, stored_events: Sequence[StoredEvent], hook: InTransaction | None) -> Sequence[int]:
        """eventsourcing's insert (lock the table, insert returning the notification ids) without its
        pipeline: so that the hook can run its own statements (COPY among them) before the commit, and
        because that pipeline hung on a large batch (5,000 events of the realistic benchmark: the
        client waiting for the sync, the server for the rest of the statement)."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_stored_events(curs, stored_events)
            ids = self._fetch_ids_after_insert_events(curs, stored_events) or []
            if hook is not None:
                hook(curs, ids)
        return ids
