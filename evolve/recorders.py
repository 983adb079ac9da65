"""The store's recorder on SQLite: eventsourcing's own, plus a hook that runs inside the insert's
transaction.

On SQLite the projection can run in the append's own transaction (one commit, one fsync, and a
reader never sees the log ahead of the view); :attr:`evolve.store.EventStore.in_transaction` is
that hook, set by the composition root (:class:`evolve.bootstrap.Evolve`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

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
