"""The interval tables on SQLite, sharing the event store's database file.

On SQLite the projection can also run inside the append's own transaction
(:meth:`SQLiteTimelineView.project_in_transaction`, called through the store's
recorder hook, :mod:`evolve.recorders`): one commit, one fsync, and a reader never
sees the log ahead of the view. If the view is behind, or projecting fails,
the append still commits on its own and the catch-up loop projects later.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent, Tracking
from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT, SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from evolve.projection import Refused, TimelineProjection, project_appended
from evolve.recorders import bound_wal
from evolve.records import EventRecord
from evolve.views.interface import TimelineView
from evolve.views.reader import SqlReader
from evolve.views.sql import LAYOUT_VERSION, SQLITE, TABLES, table_statements
from evolve.views.stored import StoredRows
from evolve.views.writer import SqlWriter

STATEMENTS = table_statements("BLOB", " WITHOUT ROWID", "INTEGER PRIMARY KEY")


class SQLiteTimelineView(SQLiteTrackingRecorder, TimelineView):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._readers = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *STATEMENTS]

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[SqlWriter]:
        """One IMMEDIATE transaction: the write lock is taken up front, so a
        read-then-write never fails half-way because another writer slipped in."""
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                bound_wal(cursor)
                writer = _writer(cursor)
                yield writer
                writer.flush()
                self._insert_tracking(cursor, tracking)
                connection.commit()
            except sqlite3.IntegrityError as exc:
                connection.rollback()
                raise IntegrityError(str(exc)) from exc
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.sqlite_cursor.close()

    @contextmanager
    def preview(self) -> Iterator[SqlWriter]:
        with self.datastore.get_connection(commit=False) as connection:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN")
                yield _writer(cursor)
            finally:
                connection.rollback()
                cursor.sqlite_cursor.close()

    def project_in_transaction(
        self,
        cursor: SQLiteCursor,
        notification_ids: Sequence[int],
        batches: Sequence[Sequence[EventRecord]],
        app: str,
        decode: Callable[[StoredEvent], EventRecord],
    ) -> Refused | None:
        """Project freshly inserted entries in the insert's transaction, with the rule book's say.

        Entries the view has not seen yet (appended by another process) are projected first, as
        the catch-up would; then each batch (one per append of a group commit). If the rule book
        refuses an event of one, the refused batch is returned with why, and nothing is kept: the
        caller refuses the append, rolling it all back.
        """
        tracked = self._max_tracking_id(app, cursor) or 0
        cursor.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid > ? AND rowid < ? AND topic = ? ORDER BY rowid",
            (tracked, notification_ids[0], TimelineProjection.topics[0]),
        )
        earlier = [
            decode(Notification(id=row[0], originator_id=row[1], originator_version=row[2], topic=row[3], state=row[4]))
            for row in cursor.fetchall()
        ]
        writer = _writer(cursor)
        refused = project_appended(writer, earlier, batches)
        if refused is not None:
            return refused
        writer.flush()
        self._insert_tracking(cursor, Tracking(app, notification_ids[-1]))
        return None

    @contextmanager
    def reader(self) -> Iterator[SqlReader]:
        """A read transaction on this thread's own read-only connection to the file.

        The pool's checkout, its transaction wrapper and its `sqlite3.Row` rows were a third of a
        point query (issue 16); in WAL mode readers never wait for the writer, so each thread keeps
        one connection and only begins and ends a transaction on it. An in-memory database is one
        connection shared under the pool's lock, so it reads through the pool.
        """
        connection = self._reader_connection()
        if connection is None:
            with self.datastore.transaction(commit=False) as shared:
                yield SqlReader(shared.sqlite_cursor if isinstance(shared, SQLiteCursor) else shared, SQLITE)
            return
        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN")
            yield SqlReader(cursor, SQLITE)
        finally:
            if connection.in_transaction:
                connection.rollback()
            cursor.close()

    def _reader_connection(self) -> sqlite3.Connection | None:
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:
            return None
        connection: sqlite3.Connection | None = getattr(self._readers, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                pool.db_name,
                uri=True,
                check_same_thread=False,  # closed by close(), from whichever thread closes the system
                isolation_level=None,
                timeout=pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,  # as the pool's own connections
            )
            connection.execute("PRAGMA query_only = ON")
            with self._opened_lock:
                self._opened.append(connection)
            self._readers.connection = connection
        return connection

    def release_journal(self) -> None:
        """Checkpoint the write-ahead log into the database and truncate it. A rebuild's batches
        grow it to a third of the database; left alone it keeps that size until the next write."""
        if not self.datastore.pool.is_sqlite_memory_mode:
            with self.datastore.get_connection(commit=False) as connection:
                connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._opened_lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
        self._readers = threading.local()

    def upgrade(self) -> bool:
        """Make the view's tables this version's layout; True if a projected view was dropped.

        Tables made by another layout (or before layouts were recorded) are
        dropped and made again, and the tracking forgotten, so the catch-up
        projects the whole log again. Nothing in the log changes.
        """
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT version FROM timeline_layout")
            found = cursor.fetchone()
            if found is not None and found[0] == LAYOUT_VERSION:
                return False
            cursor.execute(
                "SELECT 1 FROM tracking WHERE application_name != ? LIMIT 1", (self.table_migration_identifier,)
            )
            projected = cursor.fetchone() is not None
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in STATEMENTS:
                cursor.execute(statement)
            cursor.execute("DELETE FROM tracking WHERE application_name != ?", (self.table_migration_identifier,))
            cursor.execute("DELETE FROM timeline_layout")
            cursor.execute("INSERT INTO timeline_layout (version) VALUES (?)", (LAYOUT_VERSION,))
            return projected

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            cursor.execute("DELETE FROM tracking WHERE application_name != ?", (self.table_migration_identifier,))


def _writer(cursor: SQLiteCursor) -> SqlWriter:
    return SqlWriter(StoredRows(cursor.sqlite_cursor, SQLITE, ("INSERT OR IGNORE", "")))
