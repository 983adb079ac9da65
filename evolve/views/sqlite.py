"""The interval tables on SQLite, sharing the event store's database file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from evolve.projection import TimelineView
from evolve.views.sql import TABLES, SqlReader, SqlWriter, table_statements


class SQLiteTimelineView(SQLiteTrackingRecorder, TimelineView):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *table_statements("BLOB", " WITHOUT ROWID")]

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[SqlWriter]:
        """One IMMEDIATE transaction: the write lock is taken up front, so a
        read-then-write never fails half-way because another writer slipped in."""
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield SqlWriter(cursor.sqlite_cursor, "?", ("INSERT OR IGNORE", ""))
                self._insert_tracking(cursor, tracking)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.sqlite_cursor.close()

    @contextmanager
    def reader(self) -> Iterator[SqlReader]:
        with self.datastore.transaction(commit=False) as cursor:
            yield SqlReader(cursor.sqlite_cursor if isinstance(cursor, SQLiteCursor) else cursor, "?")

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            cursor.execute("DELETE FROM tracking WHERE application_name != ?", (self.table_migration_identifier,))
