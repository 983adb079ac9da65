"""The composition root: one object that wires store, projection and queries.

Entry points (CLI, API, tests) build an :class:`Evolve` and call its few
methods; nothing else constructs infrastructure.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NamedTuple
from uuid import UUID

import msgspec
from eventsourcing.persistence import PersistenceError

from evolve import files, rules
from evolve.catalogue import Event
from evolve.catchup import catch_up
from evolve.errors import InvalidEvent, StoreUnavailable, first_line
from evolve.outage import classify as outage_of
from evolve.pauses import without_collector_pauses
from evolve.projection import TimelineProjection, project_appended, project_batch, refusal
from evolve.query import Queries
from evolve.records import EventRecord
from evolve.settings import Settings
from evolve.store import EventStore, Verification
from evolve.views.interface import TimelineView
from evolve.views.memory import MemoryTimelineView
from evolve.views.postgres import PostgresTimelineView
from evolve.views.sqlite import SQLiteTimelineView

logger = logging.getLogger("evolve.projection")


class Imported(NamedTuple):
    """What an import did: entries appended, files already in the log, the log's head after."""

    appended: int
    present: int
    position: int


#: An append judged while the view lags by more entries than this brings the view up to date first.
PREVIEW_GAP = 200

#: Entries per transaction when the whole log is projected again (a rebuild, a new layout): the
#: writer's caches live for a transaction, so longer ones read less (realistic 100k on SQLite:
#: 28.5 s at 10,000, 26.3 s at 50,000).
REBUILD_BATCH = 50_000

#: Advisory lock key serialising schema creation across processes.
SCHEMA_LOCK = 0x65766F6D  # a class apart from the projection's; the key is the schema


#: The views that project an append inside the append's own transaction (the store's hook).
INLINE_VIEWS = (SQLiteTimelineView, PostgresTimelineView)


def _view_class(settings: Settings) -> type[TimelineView]:
    if settings.backend == "postgresql":
        return PostgresTimelineView
    if settings.backend == "memory":
        return MemoryTimelineView
    return SQLiteTimelineView


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness: the database answers, and the log's head position."""

    status: Literal["ok"]
    position: int


class Evolve:
    """The log, its projection and the queries over it, for one database."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        project_on_append: bool | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        with self._schema_lock():
            try:
                self.store = EventStore(self.settings.eventsourcing_env())
                view = self.store.factory.tracking_recorder(_view_class(self.settings))
                assert isinstance(view, TimelineView)
                self.view = view
            except (PersistenceError, OSError) as exc:
                raise StoreUnavailable(f"cannot open the database {self._safe_url()}: {first_line(exc)}") from None
            upgraded = self.view.upgrade()
        self.projection = TimelineProjection(self.view)
        self.queries = Queries(self.view.reader, clock or (lambda: dt.datetime.now(dt.UTC)))
        self.project_on_append = self.settings.project_on_append if project_on_append is None else project_on_append
        self._projecting = threading.Lock()
        #: The last position this process projected inside an append's transaction: the appends
        #: at or below it need no catch-up (a group commit's leader projects for its followers).
        self._inlined_upto = 0
        if isinstance(self.view, INLINE_VIEWS):
            self.store.in_transaction = self._project_in_transaction
        if upgraded:
            logger.warning("the view had another layout: dropped, and projected again from the log")
            if self.project_on_append:
                self.catch_up(batch=REBUILD_BATCH)
                self.view.release_journal()  # a whole log projected again, as a rebuild does

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        """On PostgreSQL: fail fast with the server's own reason (the pool only
        says it timed out), and let one process at a time create the schema."""
        if self.settings.backend != "postgresql":
            yield
            return
        import psycopg

        env = self.settings.eventsourcing_env()
        try:
            conn = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"],
                password=env["POSTGRES_PASSWORD"],
                connect_timeout=5,
                autocommit=True,
            )
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to {self._safe_url()}: {first_line(exc)}") from None
        with conn:
            key = (SCHEMA_LOCK, env.get("POSTGRES_SCHEMA", "public"))
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)

    def _safe_url(self) -> str:
        url = self.settings.database_url
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
        return url

    def append(
        self,
        events: Sequence[Event],
        *,
        expected: Mapping[str, int] | None = None,
        ids: Sequence[UUID] | None = None,
        idempotency_key: str | None = None,
        digest: str = "",
    ) -> list[EventRecord]:
        """Append atomically if the rules allow, then bring the projection up to date (read-your-writes).

        The reference rules are the store's; the state rules (an organisation must exist on the
        event's date, and so on) are the projection's: the append is projected inside its own
        transaction and refused there (in memory, or with the projection left to another process,
        it is projected first in a transaction that is rolled back). See :meth:`EventStore.append`
        for `expected` and idempotency."""
        inline = self.project_on_append and isinstance(self.view, INLINE_VIEWS)
        with without_collector_pauses():
            records = self.store.append(
                events,
                expected=expected,
                ids=ids,
                idempotency_key=idempotency_key,
                digest=digest,
                check=None if inline else self._preview,
            )
        if self.project_on_append and self._inlined_upto < records[-1].position:
            try:
                self.catch_up()
            except Exception:
                # The append is committed: report it as done. The view lags until
                # the cause is fixed and `evolve project` (or the next append) catches up.
                logger.exception("projection failed after a committed append at position %d", records[-1].position)
        return records

    def import_files(self, path: Path, *, read: Callable[[int, int], None] | None = None) -> Imported:
        """Append every event file at `path` not yet in the log, in one atomic batch.

        Files already imported (by their stable ids) are skipped, so importing a directory twice
        appends nothing. The batch is judged like any append (the rule book, then the projection's
        state rules); nothing is written if any file is bad, and the error names the file.
        `read` is told (files read, files in all) while reading.
        """
        return self.import_loaded(files.load(path, progress=read))

    def import_loaded(self, loaded: Sequence[files.EventFile]) -> Imported:
        """Append the event files already read (see :meth:`import_files`)."""
        # One lookup per file; an empty log (a first import) holds none of them.
        new = list(loaded) if self.position() == 0 else [f for f in loaded if self.store.version(str(f.id)) == 0]
        if new:
            try:
                self.append([f.event for f in new], ids=[f.id for f in new])
            except InvalidEvent as exc:
                raise files.located(exc, new) from None
        return Imported(appended=len(new), present=len(loaded) - len(new), position=self.position())

    def health(self) -> Health:
        """Probe the log store and the view; :class:`StoreUnavailable` names each part that is down."""
        positions: dict[str, int] = {}
        reasons: dict[str, str] = {}
        for part, probe in (("log store", self.position), ("view", self.projected_position)):
            try:
                positions[part] = probe()
            except Exception as exc:
                outage = outage_of(exc)
                if outage is None:
                    raise
                reasons[part] = str(outage)
        if reasons:
            parts = " and ".join(reasons)
            first = next(iter(reasons.values()))
            raise StoreUnavailable(f"{parts} unavailable ({first})", public=f"{parts} unavailable")
        return Health(status="ok", position=positions["log store"])

    def position(self) -> int:
        """The log's head position (0 when empty)."""
        return self.store.position()

    def version(self, subject: str) -> int:
        """How many entries have touched `subject` (for `If-Match`)."""
        return self.store.version(subject)

    def verify(self) -> Verification:
        """Recompute the log's hash chain (see :meth:`EventStore.verify`)."""
        return self.store.verify()

    def _project_in_transaction(
        self, cursor: Any, notification_ids: Sequence[int], batches: list[list[EventRecord]]
    ) -> None:
        """The store's hook: project the appends in their own transaction, refusing them (an exception
        rolls the insert back) if the rules refuse any."""
        if self.project_on_append and isinstance(self.view, INLINE_VIEWS):
            view, store = self.view, self.store
            refused = view.project_in_transaction(cursor, notification_ids, batches, store.name, store.record)
            if refused is not None:
                raise refusal(refused.violations, refused.batch)
            self._inlined_upto = max(self._inlined_upto, batches[-1][-1].position)

    def _preview(self, records: list[EventRecord]) -> None:
        """The store's check elsewhere: project the batch where nothing is kept, and refuse it if the
        rules do. The rules read the view: the entries it has not seen yet are projected in the
        preview first, and if there are more than :data:`PREVIEW_GAP` of them (no projector keeps up)
        the view is brought up to date for good first (exactly once, as any projector would)."""
        if records[0].position - 1 - self.projected_entries() > PREVIEW_GAP:
            self.catch_up()
        with self.view.preview() as writer:
            seen = writer.last_entry().position
            earlier = self.store.read(seen, records[0].position - 1 - seen) if records[0].position - 1 > seen else []
            refused = project_appended(writer, earlier, [records])
        if refused is not None:
            raise refusal(refused.violations, refused.batch)

    def catch_up(self, progress: Callable[[int], None] | None = None, batch: int = 2000) -> int:
        with self._projecting:
            return catch_up(self.store, self.projection, batch=batch, progress=progress)

    def rebuild(self, progress: Callable[[int], None] | None = None, batch: int = REBUILD_BATCH) -> int:
        """Drop the projection and fold the whole log again."""
        with self._projecting:
            self.view.drop()
            done = catch_up(self.store, self.projection, batch=batch, progress=progress)
            self.view.release_journal()
            return done

    def projected_entries(self) -> int:
        """How many log entries the view holds."""
        return self.queries.projected_entries()

    def projected_position(self) -> int:
        """The notification id the projection has processed up to (0 if none)."""
        return self.view.max_tracking_id(self.store.name) or 0

    def close(self) -> None:
        self.view.close()
        self.store.close()


def state_problems(loaded: Sequence[files.EventFile]) -> list[str]:
    """What the state rules refuse in these files, folded as a whole log into the plain-object view
    (no database): ``<file>: <message>`` for every refused event, as ``evolve import`` would say."""
    recorded_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    checked = rules.check_batch([f.event for f in loaded], [f.id for f in loaded], rules.EmptyLog())
    records = [
        EventRecord(id=f.id, position=i, recorded_at=recorded_at, subjects=subjects, hash="", event=f.event)
        for i, (f, subjects) in enumerate(zip(loaded, checked.subjects, strict=True), 1)
    ]
    view = MemoryTimelineView()
    with view.preview() as writer:
        violations = project_batch(writer, records)
    return [f"{loaded[v.position - 1].name}: {v.message}" for v in violations]
