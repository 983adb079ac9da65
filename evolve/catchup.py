"""Bringing the view up to date with the log: the projection's runner.

Works on every store (SQLite has no push subscriptions): it reads the notification log from
the view's tracking position and projects each batch of entries in one transaction with its
tracking record, so every entry counts exactly once even with several projectors racing.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import IntegrityError, Tracking

from evolve.pauses import without_collector_pauses
from evolve.projection import TimelineProjection
from evolve.store import EventStore

#: Consecutive lost races a catch-up tolerates before it reports the error.
MAX_RACES = 20


def catch_up(
    store: EventStore,
    projection: TimelineProjection,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Project every log entry the view has not seen yet; returns how many."""
    done = 0
    raced = 0
    topics = list(TimelineProjection.topics)
    while True:
        start = projection.view.max_tracking_id(store.name)
        notifications = store.recorder.select_notifications(
            start=start, limit=batch, topics=topics, inclusive_of_start=False
        )
        if not notifications:
            return done
        records = [store.record(n) for n in notifications]
        try:
            with without_collector_pauses():
                projection.process_batch(records, Tracking(store.name, notifications[-1].id))
        except IntegrityError:
            # Another projector (a process, or an append projecting inline)
            # recorded these first; its transaction won, ours rolled back.
            raced += 1
            if raced > MAX_RACES:
                raise
            continue
        done += len(records)
        if progress is not None:
            progress(len(records))
        if len(notifications) < batch:
            return done
