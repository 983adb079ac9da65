"""The store's recorders. On SQLite: eventsourcing's own, plus a hook that runs inside the insert's
transaction. On PostgreSQL: eventsourcing's own, failing fast when the database is gone.

On SQLite the projection can run in the append's own transaction (one commit, one fsync, and a
reader never sees the log ahead of the view); :attr:`evolve.store.EventStore.in_transaction` is
that hook, set by the composition root (:class:`evolve.bootstrap.Evolve`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from evolve.outage import connection_broke

#: Called with the insert's cursor and the new notification ids, before the commit.
InTransaction = Callable[[SQLiteCursor, Sequence[int]], None]


class HookedSQLiteRecorder(SQLiteApplicationRecorder):
    """The application recorder, with a hook (`in_transaction=` of ``insert_events``) that runs in
    the insert's transaction."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        hook: InTransaction | None = kwargs.get("in_transaction")
        if hook is not None and ids:
            hook(c, ids)
        return ids


# ---- PostgreSQL: fail fast in an outage -----------------------------------------------------

#: A statement whose connection broke is tried once more, soon (the retry gets a fresh connection).
OUTAGE_WAIT_S = 0.05


def fail_fast(method: Any) -> Any:
    """`method` of an eventsourcing PostgreSQL recorder tried once more only if its connection broke,
    instead of ten times 0.2 s apart on any operational error: right for a blip, but when the server
    is down, or a statement was cancelled for running too long, they hold every request for seconds
    before it can be told "unavailable". The undecorated method is eventsourcing's ``__wrapped__``."""
    inner = method.__wrapped__

    @functools.wraps(inner)
    def once_more_if_broken(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except (InterfaceError, OperationalError) as exc:
            if not connection_broke(exc):
                raise
        time.sleep(OUTAGE_WAIT_S)
        return inner(*args, **kwargs)

    return once_more_if_broken


class FastFailingPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, failing fast when the database is gone."""

    insert_events = fail_fast(PostgresApplicationRecorder.insert_events)
    select_events = fail_fast(PostgresApplicationRecorder.select_events)
    select_notifications = fail_fast(PostgresApplicationRecorder.select_notifications)
    max_notification_id = fail_fast(PostgresApplicationRecorder.max_notification_id)
