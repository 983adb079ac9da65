"""The `es_ratio` baseline: the eventsourcing library used plainly, storing the same entries bare.

One Application on the same store as evolve's run (a fresh SQLite file, or a fresh PostgreSQL
schema), one aggregate per entry whose one event carries the entry's JSON payload, saved in batches
of the same size as evolve's bulk import, with no projection. evolve's import stores each entry as
several eventsourcing events (the log entry, one per subject, the request) and projects it, so
`es_ratio` = evolve import events/s / this events/s says what evolve's own design costs over its
dependency's (the issue asks for >= 1).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.stores import Database


class Entry(Aggregate):
    """One log entry, stored as one aggregate event with its payload."""

    @event("Recorded")
    def __init__(self, payload: str) -> None:
        self.payload = payload


class BareLog(Application[UUID]):
    """No snapshots, no notifications to follow: eventsourcing's defaults otherwise."""


def environment(db: Database) -> dict[str, str]:
    if db.backend == "sqlite":
        assert db.path is not None
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{db.path}.es"}
    from evolve.settings import Settings

    env = Settings(database_url=db.url).eventsourcing_env()
    return {key: value for key, value in env.items() if key.startswith("POSTGRES_") or key == "PERSISTENCE_MODULE"}


#: On PostgreSQL, eventsourcing's pipelined insert hung on batches of 5,000 of the realistic workload's
#: events (psycopg waiting for the pipeline's sync, the server in ClientRead for the rest of the
#: statement; 2026-12-01, psycopg 3.3.9, eventsourcing 9.5.6), so the baseline saves 500 at a time there.
POSTGRES_BATCH = 500


def store_bare(db: Database, payloads: Sequence[bytes], batch: int) -> float:
    """Seconds for eventsourcing to store `payloads` (one aggregate event each) in batches of `batch`
    (at most :data:`POSTGRES_BATCH` on PostgreSQL)."""
    if db.backend == "postgresql":
        batch = min(batch, POSTGRES_BATCH)
    app = BareLog(env=environment(db))
    try:
        texts = [p.decode() for p in payloads]
        started = time.perf_counter()
        for a in range(0, len(texts), batch):
            entries: list[Any] = [Entry(payload=text) for text in texts[a : a + batch]]
            app.save(*entries)
        return time.perf_counter() - started
    finally:
        app.close()
        if db.backend == "sqlite" and db.path is not None:
            for suffix in ("", "-wal", "-shm"):
                db.path.with_name(f"{db.path.name}.es{suffix}").unlink(missing_ok=True)
