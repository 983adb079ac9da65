"""The event store: an eventsourcing Application that appends policy events.

Appending is all-or-nothing: the log entries of a batch and every subject
event they imply go to the recorder in one ``insert_events`` call, i.e. one
database transaction. The store assigns ``recorded_at`` and the position;
clients only send events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, cast
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    OperationalError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import get_topic

from evolve import rules
from evolve.catalogue import EVENT_TYPES, Event
from evolve.compression import LogCompressor
from evolve.domain import GENESIS_HASH, LOG_ID, Log, Request, Subject, chain_hash, request_id, subject_id
from evolve.errors import (
    ConflictError,
    IdempotencyKeyReused,
    InvalidEvent,
    NotFound,
    StoreFull,
    StoreUnavailable,
    UnknownSubject,
)
from evolve.group_commit import GroupCommit
from evolve.outage import classify as outage_of
from evolve.pgpool import make_patient
from evolve.recorders import FastFailingPostgresRecorder, HookedSQLiteRecorder, events_table_name
from evolve.records import EventRecord
from evolve.settings import (
    COMMIT_DELAY,
    DEFAULT_COMMIT_DELAY,
    DEFAULT_DB_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    POOL_WAIT,
    STATEMENT_TIMEOUT,
)
from evolve.transcoding import MsgspecTranscoder, StructTranscoding, decode_recorded
from evolve.types import SubjectKind

#: How often an append is retried when another writer took the log head first.
MAX_HEAD_RETRIES = 50


#: Subject heads remembered between appends (organisations and policies only).
SUBJECT_CACHE_SIZE = 100_000


class _StaleCache(Exception):
    """A cached head disagrees with the caller: re-read before judging."""


class Head(NamedTuple):
    """The log's newest entry: its position, hash and record time (the next batch's floor)."""

    position: int
    hash: str
    recorded_at: dt.datetime


EMPTY_HEAD = Head(0, GENESIS_HASH, dt.datetime.min.replace(tzinfo=dt.UTC))


RECORDED_TOPIC = get_topic(Log.Recorded)


def _timestamp_text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore(Application[UUID]):
    """The append-only log of policy events (design §5, ``evolve.store``)."""

    name = "evolve"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        # Every log row's state is compressed (evolve.compression); an `env` given here may still set
        # COMPRESSOR_TOPIC ("" for none: how a test writes a log as it was before).
        super().__init__({InfrastructureFactory.COMPRESSOR_TOPIC: get_topic(LogCompressor), **(env or {})})
        delay = float(self.env.get(COMMIT_DELAY) or DEFAULT_COMMIT_DELAY)
        self._group: GroupCommit[_Append, list[EventRecord]] = GroupCommit(self._commit_group, _fits, delay=delay)
        self._cached_head: Head | None = None
        #: Run inside the append's transaction (see evolve.recorders) with its cursor, the notification
        #: ids and the records appended, one list per append of the commit (group commit).
        self.in_transaction: Callable[[Any, Sequence[int], list[list[EventRecord]]], None] | None = None
        self._cached_subjects: dict[UUID, tuple[int, SubjectKind | None]] = {}

    def construct_recorder(self) -> ApplicationRecorder:
        """On SQLite and PostgreSQL, a recorder that can run a hook inside the append's transaction
        (:attr:`in_transaction`); in memory eventsourcing's own."""
        if isinstance(self.factory, SQLiteFactory):
            recorder = HookedSQLiteRecorder(datastore=self.factory.datastore)
            if self.factory.env_create_table():
                recorder.create_table()
            return recorder
        if isinstance(self.factory, PostgresFactory):
            # eventsourcing reads whole seconds (POSTGRES_CONNECT_TIMEOUT); the pool's first wait may be
            # shorter, and past it the pool waits on only while the server answers (evolve.pgpool).
            # The view's recorder shares this datastore, so its wait is the same.
            make_patient(
                self.factory.datastore,
                wait=float(self.env.get(POOL_WAIT) or DEFAULT_DB_TIMEOUT),
                statement_timeout=float(self.env.get(STATEMENT_TIMEOUT) or DEFAULT_STATEMENT_TIMEOUT),
            )
            table = events_table_name(self.factory.env.name)
            pg = FastFailingPostgresRecorder(datastore=self.factory.datastore, events_table_name=table)
            if self.factory.env_create_table():
                pg.create_table()
            return pg
        return super().construct_recorder()

    def construct_transcoder(self) -> Transcoder:
        transcoder = MsgspecTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for cls in EVENT_TYPES:
            transcoder.register(StructTranscoding(cls))

    # ---- commands -------------------------------------------------------------

    def append(
        self,
        events: Sequence[Event],
        *,
        expected: Mapping[str, int] | None = None,
        ids: Sequence[UUID] | None = None,
        idempotency_key: str | None = None,
        digest: str = "",
        check: Callable[[list[EventRecord]], None] | None = None,
    ) -> list[EventRecord]:
        """Append a batch atomically and return its records, in log order.

        Every event of the batch gets the same `recorded_at` (one record time per batch, later
        than the head's), so no `known_at` ever sees part of a batch.

        `expected` maps subject ids to the version the caller last saw; if any
        differs, :class:`ConflictError` is raised and nothing is written.
        `ids` lets importers give stable event ids (default: random UUIDs).
        With an `idempotency_key`, a repeat of the same request (same
        `digest`) appends nothing and returns the original records; the same
        key with another digest raises :class:`IdempotencyKeyReused`. The key
        is stored in the same transaction as the events. `check` sees the records
        before they are written and may refuse them by raising.
        """
        if not events:
            raise InvalidEvent("a batch needs at least one event")
        if ids is not None and len(ids) != len(events):
            raise InvalidEvent("give one id per event")
        event_ids = list(ids) if ids is not None else [uuid4() for _ in events]
        if len(set(event_ids)) != len(event_ids):
            raise InvalidEvent("a batch gives the same event id twice")
        return self._group.submit(_Append(events, event_ids, expected or {}, idempotency_key, digest, check))

    @property
    def commit_delay(self) -> float:
        """At most how long a commit waits for this process's writers busy of late (group commit)."""
        return self._group.delay

    @property
    def queued(self) -> int:
        """Appends of this process being committed or waiting for the next commit."""
        return self._group.queued

    def _commit_group(self, group: list[_Append]) -> list[list[EventRecord] | BaseException]:
        """Commit a group of appends in one transaction, each judged as if alone after those before
        it; if anything refuses any of them (the rule book, a conflict), each is tried on its own
        instead, so that one request's refusal is never another's. An outage is everyone's."""
        if len(group) > 1:
            try:
                return list(self._attempts(group))
            except (StoreUnavailable, StoreFull) as outage:  # the database's, not a request's: the same for all
                return [outage] * len(group)
            except Exception:  # every request gets its own verdict below
                self._forget()
        outcomes: list[list[EventRecord] | BaseException] = []
        for request in group:
            try:
                outcomes.append(self._attempts([request])[0])
            except Exception as exc:  # this request's caller raises it
                outcomes.append(exc)
        return outcomes

    def _attempts(self, group: list[_Append]) -> list[list[EventRecord]]:
        """Attempts until one is not beaten to the head by another process (at most
        :data:`MAX_HEAD_RETRIES`)."""
        fresh = False
        for _attempt in range(MAX_HEAD_RETRIES):
            try:
                with self._one_appender():
                    return self._try_append(group, fresh)
            except _StaleCache:
                pass
            except (IntegrityError, OperationalError) as exc:
                outage = outage_of(exc)
                if outage is not None:  # the database is gone, locked or full: not a race to retry
                    raise outage from None
                # Another writer won the race for the head or a subject's
                # next version (or our cache was stale). Re-read and
                # re-validate: an expectation that no longer holds becomes
                # a ConflictError, a duplicate id an InvalidEvent.
                time.sleep(random.uniform(0.0005, 0.005) if fresh else 0)  # noqa: S311 - jitter, not crypto
            self._forget()
            fresh = True
        raise ConflictError("the log is too busy: gave up after repeated write conflicts; retry later")

    def _one_appender(self) -> contextlib.AbstractContextManager[None]:
        """Across processes, one append attempt at a time where the recorder offers it (PostgreSQL;
        SQLite's write lock already serialises, and in memory there is one process)."""
        if isinstance(self.recorder, FastFailingPostgresRecorder):
            return self.recorder.appending()
        return contextlib.nullcontext()

    def _forget(self) -> None:
        self._cached_head = None
        self._cached_subjects.clear()

    def _replay(self, key: str, digest: str) -> list[EventRecord] | None:
        stored = self.recorder.select_events(request_id(key), limit=1)
        if not stored:
            return None
        accepted = cast(Request.Accepted, self.mapper.to_domain_event(stored[0]))
        if accepted.digest != digest:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request; use a new key for a new request"
            )
        return [self.get(event_id) for event_id in accepted.event_ids]

    def _try_append(self, group: list[_Append], fresh: bool) -> list[list[EventRecord]]:
        """One attempt: read the heads, judge each append by the rule book on top of those before
        it, and write them all in one insert, each append with its own record time."""
        heads = _Heads(self, fresh, {event_id for request in group for event_id in request.event_ids})
        head = heads.log_head()
        position, previous_hash, recorded_at = head
        pending: list[Any] = []
        written: list[list[EventRecord]] = []
        outcomes: list[list[EventRecord]] = []
        for request in group:
            if request.idempotency_key is not None:
                replay = self._replay(request.idempotency_key, request.digest)
                if replay is not None:
                    outcomes.append(replay)
                    continue
            heads.read_ahead(request.events)
            heads.check_expected(request.expected)
            checked = rules.check_batch(request.events, request.event_ids, heads)
            if checked.problems:
                raise _refusal(checked.problems[0], len(request.events))
            recorded_at = max(dt.datetime.now(dt.UTC), recorded_at + dt.timedelta(microseconds=1))
            records: list[EventRecord] = []
            for event, event_id, subjects in zip(request.events, request.event_ids, checked.subjects, strict=True):
                position += 1
                entry = self._entry(event, event_id, subjects, position, recorded_at, previous_hash)
                previous_hash = entry.hash
                pending += [entry, *heads.touch(entry, checked.created)]
                records.append(to_record(entry))
            if request.idempotency_key is not None:
                pending.append(
                    Request.Accepted(
                        originator_id=request_id(request.idempotency_key),
                        originator_version=1,
                        timestamp=recorded_at,
                        digest=request.digest,
                        event_ids=request.event_ids,
                    )
                )
            if request.check is not None:
                request.check(records)
            written.append(records)
            outcomes.append(records)
        if not written:
            return outcomes
        self._put(pending, written)
        self._cached_head = Head(position, previous_hash, recorded_at)
        if len(self._cached_subjects) > SUBJECT_CACHE_SIZE:
            self._cached_subjects.clear()
        self._cached_subjects.update(heads.subjects())
        return outcomes

    @staticmethod
    def _entry(
        event: Event, event_id: UUID, subjects: list[str], position: int, recorded_at: dt.datetime, previous: str
    ) -> Log.Recorded:
        return Log.Recorded(
            originator_id=LOG_ID,
            originator_version=position,
            timestamp=recorded_at,
            event_id=event_id,
            event=event,
            subjects=subjects,
            hash=chain_hash(previous, event_id, position, _timestamp_text(recorded_at), event),
        )

    def _put(self, pending: list[Any], batches: list[list[EventRecord]]) -> None:
        """Straight to the event store: `Application.save` would check each event against a
        runtime Protocol (a quarter of a bulk import's time) only to collect what is already a
        list; this application has no aggregates to cache or snapshot, and nothing subscribes
        to its notify hooks."""
        if self.in_transaction is not None:
            hook = self.in_transaction
            self.events.put(pending, in_transaction=lambda cursor, ids: hook(cursor, ids, batches))
        else:
            self.events.put(pending)

    # ---- queries on the log itself -----------------------------------------------

    def _head(self) -> Head:
        stored = self.recorder.select_events(LOG_ID, desc=True, limit=1)
        if not stored:
            return EMPTY_HEAD
        head = cast(Log.Recorded, self.mapper.to_domain_event(stored[0]))
        return Head(head.originator_version, head.hash, head.timestamp)

    def _subject_head(self, stream: UUID) -> tuple[int, SubjectKind | None]:
        stored = self.recorder.select_events(stream, desc=True, limit=1)
        if not stored:
            return 0, None
        head = cast(Subject.Touched, self.mapper.to_domain_event(stored[0]))
        return head.originator_version, head.kind

    def _subject_heads(self, streams: Sequence[UUID]) -> dict[UUID, tuple[int, SubjectKind | None]]:
        """:meth:`_subject_head` of many streams, in one read where the recorder offers it."""
        if not isinstance(self.recorder, HookedSQLiteRecorder | FastFailingPostgresRecorder):
            return {stream: self._subject_head(stream) for stream in streams}
        found: dict[UUID, tuple[int, SubjectKind | None]] = dict.fromkeys(streams, (0, None))
        for stored in self.recorder.select_heads(streams):
            head = cast(Subject.Touched, self.mapper.to_domain_event(stored))
            found[cast(UUID, stored.originator_id)] = (head.originator_version, head.kind)
        return found

    def _recorded(self, event_id: UUID) -> EventRecord | None:
        stored = self.recorder.select_events(event_id, lte=1)
        if not stored:
            return None
        identity = cast(Subject.Registered, self.mapper.to_domain_event(stored[0]))
        return self.at(identity.position)

    def position(self) -> int:
        """The log's head position (0 when empty)."""
        return self._head().position

    def version(self, subject: str) -> int:
        """How many entries touched `subject` (0 if unknown)."""
        stored = self.recorder.select_events(_stream(subject), desc=True, limit=1)
        return stored[0].originator_version if stored else 0  # the stream's version: nothing to decode

    def get(self, event_id: UUID) -> EventRecord:
        record = self._recorded(event_id)
        if record is None:
            raise NotFound(f"no event {event_id} in the log")
        return record

    def at(self, position: int) -> EventRecord | None:
        stored = self.recorder.select_events(LOG_ID, gt=position - 1, lte=position)
        return self.record(stored[0]) if stored else None

    def read(self, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        """Records after position `after`, in log order."""
        return [self.record(s) for s in self.recorder.select_events(LOG_ID, gt=after, limit=limit)]

    def record(self, stored: StoredEvent) -> EventRecord:
        """The record in a stored log entry.

        Decoded in one msgspec pass straight from the JSON that eventsourcing's
        transcoder wrote (its shape is fixed for this one event class; a test
        checks both paths agree), instead of rebuilding a domain event through
        a Python hook per object. Anything else goes through the mapper.
        """
        if stored.topic != RECORDED_TOPIC or self.mapper.cipher is not None:
            return to_record(cast(Log.Recorded, self.mapper.to_domain_event(stored)))
        compressor = self.mapper.compressor
        state = decode_recorded(compressor.decompress(stored.state) if compressor is not None else stored.state)
        return EventRecord(
            id=state.event_id.data,
            position=stored.originator_version,
            recorded_at=state.timestamp.data,
            subjects=state.subjects,
            hash=state.hash,
            event=state.event.data,
        )

    def verify(self, batch: int = 1000) -> Verification:
        """Recompute the hash chain over the stored log, entry by entry.

        Finds an edited payload (its hash no longer matches), an edited hash
        (the next entry's no longer chains), a deleted entry (a gap) and an
        undecodable row; reports the first position that fails.
        """
        previous, checked = GENESIS_HASH, 0
        while stored := self.recorder.select_events(LOG_ID, gt=checked, limit=batch):
            for row in stored:
                position = checked + 1
                if row.originator_version != position:
                    return Verification(checked=checked, broken_at=position, reason="entry missing", head_hash=previous)
                try:
                    entry = cast(Log.Recorded, self.mapper.to_domain_event(row))
                    expected = chain_hash(
                        previous, entry.event_id, position, _timestamp_text(entry.timestamp), entry.event
                    )
                except Exception as exc:
                    return Verification(
                        checked=checked, broken_at=position, reason=f"cannot decode: {exc}", head_hash=previous
                    )
                if entry.hash != expected:
                    return Verification(
                        checked=checked, broken_at=position, reason="hash does not match content", head_hash=previous
                    )
                previous, checked = entry.hash, position
        return Verification(checked=checked, broken_at=None, reason=None, head_hash=previous)

    def iter_records(self, batch: int = 1000) -> Iterator[EventRecord]:
        after = 0
        while records := self.read(after, batch):
            yield from records
            after = records[-1].position


class _Append(NamedTuple):
    """One caller's append, as it waits for a commit."""

    events: Sequence[Event]
    event_ids: list[UUID]
    expected: Mapping[str, int]
    idempotency_key: str | None
    digest: str
    check: Callable[[list[EventRecord]], None] | None


#: Most appends, and most events, that one commit carries.
GROUP_APPENDS = 64
GROUP_EVENTS = 5_000


def _fits(group: list[_Append], request: _Append) -> bool:
    """Whether `request` may share the commit of `group`. Not an append that a check must see
    alone (it previews the log up to itself, and the group is not in the log yet); not a second
    use of an idempotency key (the first decides what the second replays); not past the limits."""
    if request.check is not None or group[0].check is not None or len(group) >= GROUP_APPENDS:
        return False
    if sum(len(r.events) for r in group) + len(request.events) > GROUP_EVENTS:
        return False
    return request.idempotency_key is None or all(r.idempotency_key != request.idempotency_key for r in group)


class _Heads:
    """The stream heads one append attempt builds on.

    Read from the database, or (unless `fresh`) from this process's cache of what it last
    wrote: optimistic, since the store's unique keys refuse a write built on a stale head,
    and the retry then reads everything. Also the rule book's view of the log
    (:class:`evolve.rules.LogLookup`).
    """

    def __init__(self, store: EventStore, fresh: bool, new_ids: set[UUID]) -> None:
        self._store = store
        self._fresh = fresh
        self._new_ids = new_ids
        self._heads: dict[UUID, tuple[int, SubjectKind | None]] = {}
        self._log_head: Head | None = None

    def log_head(self) -> Head:
        """Read once per attempt: a head that moves meanwhile fails the insert, and the retry reads again."""
        if self._log_head is None:
            cached = self._store._cached_head
            self._log_head = self._store._head() if self._fresh or cached is None else cached
        return self._log_head

    def head(self, stream: UUID) -> tuple[int, SubjectKind | None]:
        if stream not in self._heads:
            if not self._fresh and stream in self._store._cached_subjects:
                self._heads[stream] = self._store._cached_subjects[stream]
            elif not self._fresh and stream in self._new_ids:
                self._heads[stream] = (0, None)  # a duplicate id fails the insert, then shows on the fresh retry
            elif self.log_head().position == 0:
                self._heads[stream] = (0, None)  # an empty log has no streams: the first import asks nothing
            else:
                self._heads[stream] = self._store._subject_head(stream)
        return self._heads[stream]

    def read_ahead(self, events: Sequence[Event]) -> None:
        """Read at once the heads the rule book and :meth:`touch` will ask for, of the organisations
        and policies the batch names that are not known yet: one by one, each new organisation of an
        import cost a read (on PostgreSQL a round trip)."""
        slugs = dict.fromkeys(
            slug
            for event in events
            for slug in (*event.subjects(), *event.created(), *event.must_be_new(), *(s for s, _ in event.required()))
        )
        cached = {} if self._fresh else self._store._cached_subjects
        streams = [s for s in map(_stream, slugs) if s not in self._heads and s not in cached]
        if streams and self.log_head().position > 0:
            self._heads.update(self._store._subject_heads(streams))

    def check_expected(self, expected: Mapping[str, int]) -> None:
        for subject, version in expected.items():
            actual = self.head(_stream(subject))[0]
            if actual != version and not self._fresh:
                raise _StaleCache
            if actual != version:
                raise ConflictError(
                    f"subject {subject!r} is at version {actual}, not the expected {version}",
                    subject=subject,
                    expected=version,
                    actual=actual,
                )

    def kind(self, subject: str) -> SubjectKind | None:
        return self.head(_stream(subject))[1]

    def recorded(self, event_id: UUID) -> rules.Recorded | None:
        record = self._store._recorded(event_id)
        return rules.Recorded(record.event, record.subjects) if record is not None else None

    def touch(self, entry: Log.Recorded, created: Mapping[str, SubjectKind]) -> list[DomainEvent]:
        """The subject events of one entry: its event id's stream, and one per subject."""
        moment, position = entry.timestamp, entry.originator_version
        touched: list[DomainEvent] = [
            Subject.Registered(
                originator_id=entry.event_id,
                originator_version=1,
                timestamp=moment,
                kind="event",
                event_id=entry.event_id,
                position=position,
            )
        ]
        self._heads[entry.event_id] = (1, "event")
        for slug in entry.subjects:
            stream = _stream(slug)
            version, kind = self.head(stream)
            new_kind: SubjectKind = kind or created.get(slug, "organisation")
            cls = Subject.Registered if version == 0 else Subject.Touched
            touched.append(
                cls(
                    originator_id=stream,
                    originator_version=version + 1,
                    timestamp=moment,
                    kind=new_kind,
                    event_id=entry.event_id,
                    position=position,
                )
            )
            self._heads[stream] = (version + 1, new_kind)
        return touched

    def subjects(self) -> Iterator[tuple[UUID, tuple[int, SubjectKind | None]]]:
        """The organisation and policy heads this attempt read or moved (worth caching)."""
        return ((k, v) for k, v in self._heads.items() if v[1] != "event")


def _refusal(problem: rules.Problem, batch_size: int) -> InvalidEvent:
    """The rule book's verdict as the store's error, located in the batch (``/2/corrects``)."""
    pointer = (f"/{problem.at}" if batch_size > 1 else "") + problem.field
    cls = UnknownSubject if problem.unknown else InvalidEvent
    return cls(problem.message, pointer)


@functools.lru_cache(maxsize=SUBJECT_CACHE_SIZE)
def _stream(subject: str) -> UUID:
    """The stream of a subject: an event id names its own stream, a slug its uuid5 (remembered: an
    import asks for the same few thousand slugs again and again, and both ways cost microseconds)."""
    return UUID(subject) if _is_uuid(subject) else subject_id(subject)


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    checked: int
    broken_at: int | None
    reason: str | None
    head_hash: str


def to_record(entry: Log.Recorded) -> EventRecord:
    return EventRecord(
        id=entry.event_id,
        position=entry.originator_version,
        recorded_at=entry.timestamp,
        subjects=list(entry.subjects),
        hash=entry.hash,
        event=entry.event,
    )


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
