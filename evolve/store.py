"""The event store: an eventsourcing Application that appends policy events.

Appending is all-or-nothing: the log entries of a batch and every subject
event they imply go to the recorder in one ``insert_events`` call, i.e. one
database transaction. The store assigns ``recorded_at`` and the position;
clients only send events.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, OperationalError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from evolve.catalogue import EVENT_TYPES, Event, EventCorrected
from evolve.domain import GENESIS_HASH, LOG_ID, Log, Request, Subject, chain_hash, request_id, subject_id
from evolve.errors import ConflictError, IdempotencyKeyReused, InvalidEvent, NotFound, UnknownSubject
from evolve.records import EventRecord
from evolve.transcoding import MsgspecTranscoder, StructTranscoding, decode_recorded
from evolve.types import SubjectKind

#: How often an append is retried when another writer took the log head first.
MAX_HEAD_RETRIES = 50


#: Subject heads remembered between appends (organisations and policies only).
SUBJECT_CACHE_SIZE = 100_000


class _StaleCache(Exception):
    """A cached head disagrees with the caller: re-read before judging."""


RECORDED_TOPIC = get_topic(Log.Recorded)


def _timestamp_text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore(Application[UUID]):
    """The append-only log of policy events (design §5, ``evolve.store``)."""

    name = "evolve"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(dict(env) if env is not None else None)
        self._append_lock = threading.Lock()
        self._last_recorded = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._cached_head: tuple[int, str] | None = None
        #: Called inside the append's transaction with (cursor, notification ids, records).
        self.in_transaction: Callable[[Any, Sequence[int], list[EventRecord]], None] | None = None
        self._cached_subjects: dict[UUID, tuple[int, SubjectKind | None]] = {}

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
    ) -> list[EventRecord]:
        """Append a batch atomically and return its records, in log order.

        `expected` maps subject ids to the version the caller last saw; if any
        differs, :class:`ConflictError` is raised and nothing is written.
        `ids` lets importers give stable event ids (default: random UUIDs).
        With an `idempotency_key`, a repeat of the same request (same
        `digest`) appends nothing and returns the original records; the same
        key with another digest raises :class:`IdempotencyKeyReused`. The key
        is stored in the same transaction as the events.
        """
        if not events:
            raise InvalidEvent("a batch needs at least one event")
        if ids is not None and len(ids) != len(events):
            raise InvalidEvent("give one id per event")
        event_ids = list(ids) if ids is not None else [uuid4() for _ in events]
        if len(set(event_ids)) != len(event_ids):
            raise InvalidEvent("a batch gives the same event id twice")
        with self._append_lock:
            fresh = False
            for _attempt in range(MAX_HEAD_RETRIES):
                try:
                    if idempotency_key is not None:
                        replay = self._replay(idempotency_key, digest)
                        if replay is not None:
                            return replay
                    return self._try_append(events, event_ids, expected or {}, idempotency_key, digest, fresh)
                except _StaleCache:
                    pass
                except (IntegrityError, OperationalError):
                    # Another writer won the race for the head or a subject's
                    # next version (or our cache was stale). Re-read and
                    # re-validate: an expectation that no longer holds becomes
                    # a ConflictError, a duplicate id an InvalidEvent.
                    time.sleep(random.uniform(0.0005, 0.005) if fresh else 0)  # noqa: S311 - jitter, not crypto
                self._forget()
                fresh = True
        raise ConflictError("the log is too busy: gave up after repeated write conflicts; retry later")

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

    def _try_append(
        self,
        events: Sequence[Event],
        event_ids: list[UUID],
        expected: Mapping[str, int],
        idempotency_key: str | None,
        digest: str,
        fresh: bool,
    ) -> list[EventRecord]:
        """One attempt. Unless `fresh`, heads come from this process's cache of
        what it last wrote: optimistic, since the store's unique keys refuse a
        write built on a stale head, and the retry then reads everything."""
        position, previous_hash = self._head() if fresh or self._cached_head is None else self._cached_head
        heads: dict[UUID, tuple[int, SubjectKind | None]] = {}
        new_ids = set(event_ids)

        def head_of(stream: UUID) -> tuple[int, SubjectKind | None]:
            if stream not in heads:
                if not fresh and stream in self._cached_subjects:
                    heads[stream] = self._cached_subjects[stream]
                elif not fresh and stream in new_ids:
                    heads[stream] = (0, None)  # a duplicate id fails the insert, then shows on the fresh retry
                else:
                    heads[stream] = self._subject_head(stream)
            return heads[stream]

        for subject, version in expected.items():
            actual = head_of(subject_id(subject))[0]
            if actual != version and not fresh:
                raise _StaleCache
            if actual != version:
                raise ConflictError(
                    f"subject {subject!r} is at version {actual}, not the expected {version}",
                    subject=subject,
                    expected=version,
                    actual=actual,
                )

        # Subjects that the batch brings into existence, with their kinds.
        created: dict[str, SubjectKind] = {}
        for event in events:
            for slug in event.created():
                created.setdefault(slug, event.subject_kind)

        pending: list[Any] = []
        records: list[EventRecord] = []
        by_id: dict[UUID, EventRecord] = {}  # this batch's records, for corrections within it
        now = self._next_timestamp()
        for index, (event, event_id) in enumerate(zip(events, event_ids, strict=True)):
            pointer = f"/{index}" if len(events) > 1 else ""
            if head_of(event_id)[0] != 0:
                raise InvalidEvent(f"event id {event_id} is already in the log", pointer)
            subjects = self._validate(event, created, head_of, pointer, by_id)
            position += 1
            recorded_at = now + dt.timedelta(microseconds=index)
            entry_hash = chain_hash(previous_hash, event_id, position, _timestamp_text(recorded_at), event)
            previous_hash = entry_hash
            entry = Log.Recorded(
                originator_id=LOG_ID,
                originator_version=position,
                timestamp=recorded_at,
                event_id=event_id,
                event=event,
                subjects=subjects,
                hash=entry_hash,
            )
            pending.append(entry)
            pending.append(
                Subject.Registered(
                    originator_id=event_id,
                    originator_version=1,
                    timestamp=recorded_at,
                    kind="event",
                    event_id=event_id,
                    position=position,
                )
            )
            heads[event_id] = (1, "event")
            for slug in subjects:
                stream = UUID(slug) if _is_uuid(slug) else subject_id(slug)
                version, kind = head_of(stream)
                new_kind: SubjectKind = kind or created.get(slug, "organisation")
                cls = Subject.Registered if version == 0 else Subject.Touched
                pending.append(
                    cls(
                        originator_id=stream,
                        originator_version=version + 1,
                        timestamp=recorded_at,
                        kind=new_kind,
                        event_id=event_id,
                        position=position,
                    )
                )
                heads[stream] = (version + 1, new_kind)
            record = to_record(entry)
            records.append(record)
            by_id[event_id] = record
        if idempotency_key is not None:
            pending.append(
                Request.Accepted(
                    originator_id=request_id(idempotency_key),
                    originator_version=1,
                    timestamp=now,
                    digest=digest,
                    event_ids=event_ids,
                )
            )
        # Straight to the event store: `Application.save` would check each event
        # against a runtime Protocol (a quarter of a bulk import's time) only to
        # collect what is already a list; this application has no aggregates to
        # cache or snapshot, and nothing subscribes to its notify hooks.
        if self.in_transaction is not None:
            hook = self.in_transaction
            self.events.put(pending, in_transaction=lambda cursor, ids: hook(cursor, ids, records))
        else:
            self.events.put(pending)
        self._last_recorded = records[-1].recorded_at
        self._cached_head = (position, previous_hash)
        if len(self._cached_subjects) > SUBJECT_CACHE_SIZE:
            self._cached_subjects.clear()
        self._cached_subjects.update((k, v) for k, v in heads.items() if v[1] != "event")
        return records

    def _validate(
        self,
        event: Event,
        created: Mapping[str, SubjectKind],
        head_of: Callable[[UUID], tuple[int, SubjectKind | None]],
        pointer: str,
        earlier: Mapping[UUID, EventRecord],
    ) -> list[str]:
        """Check what the event refers to and return the subjects it touches."""
        subjects = list(dict.fromkeys(event.subjects()))
        if isinstance(event, EventCorrected):
            target = earlier.get(event.corrects) or self._recorded(event.corrects)
            if target is None:
                raise UnknownSubject(f"event {event.corrects} (in `corrects`) is not in the log", pointer + "/corrects")
            if isinstance(target.event, EventCorrected):
                raise InvalidEvent(
                    "a correction cannot be corrected; correct the original event again", pointer + "/corrects"
                )
            subjects = list(dict.fromkeys([*target.subjects, *subjects, str(event.corrects)]))
        for slug, want in event.required():
            kind = head_of(subject_id(slug))[1] or created.get(slug)
            if kind is None:
                raise UnknownSubject(f"unknown {want} {slug!r}: no event in the log registers it", pointer)
            if kind != want:
                raise InvalidEvent(f"{slug!r} names {_a(kind)}, not {_a(want)}", pointer)
        for slug in event.created():
            kind = head_of(subject_id(slug))[1]
            if kind is not None and kind != event.subject_kind:
                raise InvalidEvent(f"{slug!r} already names {_a(kind)}", pointer)
        for slug in event.must_be_new():
            if head_of(subject_id(slug))[1] is not None:
                raise InvalidEvent(f"{slug!r} already exists; a merge must create a new id", pointer)
        return subjects

    def _next_timestamp(self) -> dt.datetime:
        """Record time, strictly increasing within this process."""
        now = dt.datetime.now(dt.UTC)
        floor = self._last_recorded + dt.timedelta(microseconds=1)
        return max(now, floor)

    # ---- queries on the log itself -----------------------------------------------

    def _head(self) -> tuple[int, str]:
        stored = self.recorder.select_events(LOG_ID, desc=True, limit=1)
        if not stored:
            return 0, GENESIS_HASH
        head = cast(Log.Recorded, self.mapper.to_domain_event(stored[0]))
        return head.originator_version, head.hash

    def _subject_head(self, stream: UUID) -> tuple[int, SubjectKind | None]:
        stored = self.recorder.select_events(stream, desc=True, limit=1)
        if not stored:
            return 0, None
        head = cast(Subject.Touched, self.mapper.to_domain_event(stored[0]))
        return head.originator_version, head.kind

    def _recorded(self, event_id: UUID) -> EventRecord | None:
        stored = self.recorder.select_events(event_id, lte=1)
        if not stored:
            return None
        identity = cast(Subject.Registered, self.mapper.to_domain_event(stored[0]))
        return self.at(identity.position)

    def position(self) -> int:
        """The log's head position (0 when empty)."""
        return self._head()[0]

    def version(self, subject: str) -> int:
        """How many entries touched `subject` (0 if unknown)."""
        stream = UUID(subject) if _is_uuid(subject) else subject_id(subject)
        stored = self.recorder.select_events(stream, desc=True, limit=1)
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
        if stored.topic != RECORDED_TOPIC or self.mapper.cipher is not None or self.mapper.compressor is not None:
            return to_record(cast(Log.Recorded, self.mapper.to_domain_event(stored)))
        state = decode_recorded(stored.state)
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


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
