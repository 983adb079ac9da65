"""The interval tables on PostgreSQL, in the event store's database and schema.

Every projection transaction takes a transaction-level advisory lock first,
so several processes may run the projection against one database: they
take turns, and the tracking record makes each entry count exactly once.
An append is projected inside its own transaction
(:meth:`PostgresTimelineView.project_in_transaction`, through the store's recorder
hook, :mod:`evolve.recorders`), as on SQLite. Reads run in autocommit, one round
trip per statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from evolve.projection import Refused, TimelineProjection, project_appended
from evolve.recorders import events_table_name, fail_fast, render_statements
from evolve.records import EventRecord
from evolve.views.interface import TimelineView
from evolve.views.reader import SqlReader
from evolve.views.sql import LAYOUT_VERSION, TABLES, Dialect, table_statements
from evolve.views.stored import StoredRows
from evolve.views.writer import SqlWriter

#: Advisory lock class for "one projector at a time"; the key within it is the schema,
#: so evolve instances in different schemas of one database never wait for each other.
PROJECTION_LOCK = 0x65766F6C  # "evol"
LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext(%s))"
STATEMENTS = table_statements("BYTEA", "", "BIGINT PRIMARY KEY")


class PostgresTimelineView(PostgresTrackingRecorder, TimelineView):
    max_tracking_id = fail_fast(PostgresTrackingRecorder.max_tracking_id)
    has_tracking_id = fail_fast(PostgresTrackingRecorder.has_tracking_id)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.dialect = Dialect("%s", self.datastore.schema, copy=True, pipeline=True)
        for statement in STATEMENTS:
            self.sql_create_statements.append(
                SQL("SET LOCAL search_path TO {}; ").format(Identifier(self.datastore.schema)) + SQL(statement)  # type: ignore[arg-type,unused-ignore]
            )
        render_statements(self)

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[SqlWriter]:
        try:
            with (
                self.datastore.get_connection() as conn,
                conn.transaction(),
                conn.cursor(row_factory=tuple_row) as cursor,
            ):
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (PROJECTION_LOCK, self.datastore.schema)
                )
                # The view is derived: a crash may lose its last transactions (never half
                # of one, and never the log's), and the catch-up projects them again
                # from the tracking position. So it need not wait for its WAL flush.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                writer = SqlWriter(StoredRows(cursor, self.dialect, ("INSERT", "ON CONFLICT DO NOTHING")))
                yield writer
                writer.flush()
                self._insert_tracking(cursor, tracking)  # type: ignore[arg-type,unused-ignore]
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def project_in_transaction(
        self,
        cursor: Any,
        notification_ids: Sequence[int],
        batches: Sequence[Sequence[EventRecord]],
        app: str,
        decode: Callable[[StoredEvent], EventRecord],
    ) -> Refused | None:
        """Project freshly inserted entries in the insert's transaction, with the rule book's say
        (see :meth:`evolve.views.sqlite.SQLiteTimelineView.project_in_transaction`). The insert holds
        the log's table lock, so appenders already take turns; the advisory lock makes a projector
        in another process (``evolve project --follow``) wait too. No ``synchronous_commit = off``
        here: this commit is the log's."""
        schema = Identifier(self.datastore.schema)
        with cursor.connection.cursor(row_factory=tuple_row) as rows:
            rows.execute(LOCK, (PROJECTION_LOCK, self.datastore.schema))
            tracked = self._max_tracking_id(app, cursor) or 0
            cursor.execute(  # eventsourcing's cursor: rows by column name
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
                    "WHERE notification_id > %s AND notification_id < %s AND topic = %s ORDER BY notification_id"
                ).format(schema, Identifier(events_table_name(app))),
                (tracked, notification_ids[0], TimelineProjection.topics[0]),
            )
            earlier = [
                decode(
                    Notification(
                        id=row["notification_id"],
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
                for row in cursor.fetchall()
            ]
            writer = SqlWriter(StoredRows(rows, self.dialect, ("INSERT", "ON CONFLICT DO NOTHING")))
            refused = project_appended(writer, earlier, batches)
            if refused is not None:
                return refused
            writer.flush()
            self._insert_tracking(cursor, Tracking(app, notification_ids[-1]))
        return None

    @contextmanager
    def preview(self) -> Iterator[SqlWriter]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=True),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield SqlWriter(StoredRows(cursor, self.dialect, ("INSERT", "ON CONFLICT DO NOTHING")))

    @contextmanager
    def reader(self) -> Iterator[SqlReader]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            yield SqlReader(cursor, self.dialect)

    def upgrade(self) -> bool:
        """Make the view's tables this version's layout; True if a projected view was dropped
        (see :meth:`evolve.views.sqlite.SQLiteTimelineView.upgrade`)."""
        schema = Identifier(self.datastore.schema)
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(LOCK, (PROJECTION_LOCK, self.datastore.schema))
            found = cursor.execute(SQL("SELECT version FROM {}.timeline_layout").format(schema)).fetchone()
            if found is not None and found[0] == LAYOUT_VERSION:
                return False
            tracking = SQL("{}.{}").format(schema, Identifier(self.tracking_table_name))
            others = (self.table_migration_identifier,)
            projected = (
                cursor.execute(
                    SQL("SELECT 1 FROM {} WHERE application_name != %s LIMIT 1").format(tracking), others
                ).fetchone()
                is not None
            )
            cursor.execute(SQL("SET LOCAL search_path TO {}").format(schema))
            for table in TABLES:
                cursor.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table)))
            for statement in STATEMENTS:
                cursor.execute(SQL(statement))  # type: ignore[arg-type,unused-ignore]
            cursor.execute(SQL("DELETE FROM {} WHERE application_name != %s").format(tracking), others)
            cursor.execute("DELETE FROM timeline_layout")
            cursor.execute("INSERT INTO timeline_layout (version) VALUES (%s)", (LAYOUT_VERSION,))
            return projected

    def drop(self) -> None:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(LOCK, (PROJECTION_LOCK, self.datastore.schema))
            for table in TABLES:
                cursor.execute(SQL("DELETE FROM {}.{}").format(Identifier(self.datastore.schema), Identifier(table)))
            cursor.execute(
                SQL("DELETE FROM {}.{} WHERE application_name != %s").format(
                    Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
                ),
                (self.table_migration_identifier,),
            )
