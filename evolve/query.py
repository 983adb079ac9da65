"""Read-only questions to the projection: state as of a date, as known at a time.

Everything here reads the interval tables through an indexed lookup; nothing
replays the log. Defaults follow design §2: `as_of` today, `known_at` now.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Literal
from uuid import UUID

import msgspec

from evolve.diff import Diff, merge_sorted, transitions
from evolve.errors import InvalidQuery, NotFound
from evolve.records import EventRecord, micros
from evolve.state import OrganisationState, Status
from evolve.types import END_OF_TIME, SLUG_PATTERN, Flag, Kind, Precision, Stage
from evolve.views.interface import PolicyVersion, TimelineReader

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class OrganisationPage(msgspec.Struct, frozen=True):
    items: list[OrganisationState]
    next_cursor: str | None


class Interval(msgspec.Struct, frozen=True, kw_only=True):
    valid_from: dt.date
    valid_to: dt.date | None
    state: Status
    event_id: str


class History(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    known_at: dt.datetime
    items: list[Interval]


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    as_of: dt.date
    known_at: dt.datetime
    total: int
    by_stage: dict[str, int]
    by_kind: dict[str, int]
    flags: dict[str, int]


class EventPage(msgspec.Struct, frozen=True):
    items: list[EventRecord]
    next_cursor: str | None


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    publisher: str
    url: str
    summary: str | None
    published: dt.date
    precision: Precision
    event_id: str


class PolicyPage(msgspec.Struct, frozen=True):
    items: list[Policy]
    next_cursor: str | None


class _Cursor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    k: Literal["organisations", "events", "policies"]
    a: str | int



def encode_cursor(kind: Literal["organisations", "events", "policies"], after: str | int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_Cursor(kind, after))).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> str | int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidQuery("`cursor` is not a cursor this API issued", "cursor") from None
    if decoded.k != kind:
        raise InvalidQuery("`cursor` belongs to another listing", "cursor")
    # A well-formed cursor can still be forged: its value must be one this API could have issued.
    after = decoded.a
    if kind == "events":
        valid = isinstance(after, int) and not isinstance(after, bool) and 0 <= after < 2**62
    else:
        valid = isinstance(after, str) and re.fullmatch(SLUG_PATTERN, after) is not None
    if not valid:
        raise InvalidQuery("`cursor` is not a cursor this API issued", "cursor")
    return after


def _text(value: str | None, name: str) -> str | None:
    """Free text reaches SQL as a bound value; NUL is the one character no store can hold."""
    if value is not None and "\x00" in value:
        raise InvalidQuery(f"`{name}` must not contain a NUL character", name)
    return value


def recorded_us(known_at: dt.datetime) -> int:
    """`known_at` as the view's record time (µs since the epoch)."""
    if known_at.tzinfo is None:
        raise InvalidQuery("`known_at` needs a time zone (e.g. 2025-01-01T00:00:00Z)", "known_at")
    return micros(known_at)


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"`limit` must be between 1 and {MAX_LIMIT}", "limit")
    return limit


class Queries:
    """The read model's public questions; `reader` opens a read transaction on the view."""

    def __init__(
        self, reader: Callable[[], AbstractContextManager[TimelineReader]], clock: Callable[[], dt.datetime]
    ) -> None:
        self._reader = reader
        self._clock = clock

    def _coordinates(
        self, read: TimelineReader, as_of: dt.date | None, known_at: dt.datetime | None
    ) -> tuple[dt.date, dt.datetime, int]:
        """Resolve the defaults: `as_of` today; `known_at` now, reported as the
        record time of the newest entry the view holds (the same knowledge, and
        an answer that stays identical, so cacheable, until the log changes)."""
        now = self._clock()
        day = as_of or now.date()
        if known_at is not None:
            return day, known_at, recorded_us(known_at)
        latest = read.latest_recorded_us()
        if latest is None:
            return day, now, recorded_us(now)
        return day, dt.datetime.fromtimestamp(latest / 1_000_000, tz=dt.UTC), latest

    def state(self, org: str, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> OrganisationState:
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            status = read.state(org, day, at_us)
            if status is None:
                if read.known_organisation(org):
                    raise NotFound(
                        f"organisation {org!r} did not exist on {day.isoformat()} (as known at {known.isoformat()})"
                    )
                raise NotFound(f"no organisation {org!r}")
        return _with_coordinates(status, day, known)

    def organisations(
        self,
        as_of: dt.date | None = None,
        known_at: dt.datetime | None = None,
        *,
        kind: Kind | None = None,
        stage: Stage | None = None,
        q: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> OrganisationPage:
        after = decode_cursor("organisations", cursor)
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            found = read.states(
                day,
                at_us,
                kind=kind.value if kind else None,
                stage=stage.value if stage else None,
                text=_text(q, "q"),
                after=str(after) if after is not None else None,
                limit=_check_limit(limit) + 1,
            )
        items = [_with_coordinates(s, day, known) for s in found[:limit]]
        more = len(found) > limit
        return OrganisationPage(items, encode_cursor("organisations", items[-1].id) if more else None)

    def all_states(
        self,
        as_of: dt.date | None = None,
        known_at: dt.datetime | None = None,
        *,
        kind: Kind | None = None,
        stage: Stage | None = None,
        q: str | None = None,
    ) -> Iterator[OrganisationState]:
        """Every organisation (matching the filters of `organisations`), unpaginated."""
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            found = read.states(
                day,
                at_us,
                kind=kind.value if kind else None,
                stage=stage.value if stage else None,
                text=_text(q, "q"),
            )
        return (_with_coordinates(s, day, known) for s in found)

    def projected_entries(self) -> int:
        """How many log entries the view holds."""
        with self._reader() as read:
            return int(read.entry_count())

    def history(self, org: str, known_at: dt.datetime | None = None) -> History:
        with self._reader() as read:
            _, known, at_us = self._coordinates(read, None, known_at)
            rows = read.history(org, at_us)
            if not rows and not read.known_organisation(org):
                raise NotFound(f"no organisation {org!r}")
        items = [
            Interval(
                valid_from=span.valid_from,
                valid_to=None if span.valid_to == END_OF_TIME else span.valid_to,
                state=span.state,
                event_id=span.state.last_event_id,
            )
            for span in rows
        ]
        return History(id=org, known_at=known, items=items)

    def stats(self, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> Stats:
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            found = read.states(day, at_us)
        by_stage = Counter(s.stage.value for s in found if s.kind is Kind.HEALTH_SYSTEM and s.stage is not None)
        by_kind = Counter(s.kind.value for s in found)
        flags = Counter(f.value for s in found for f in s.flags)
        return Stats(
            as_of=day,
            known_at=known,
            total=len(found),
            by_stage={stage.value: by_stage.get(stage.value, 0) for stage in Stage},
            by_kind={kind.value: by_kind.get(kind.value, 0) for kind in Kind},
            flags={flag.value: flags.get(flag.value, 0) for flag in Flag},
        )

    def events(
        self,
        *,
        type: str | None = None,  # noqa: A002 - the public parameter name
        subject: str | None = None,
        from_day: dt.date | None = None,
        to_day: dt.date | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> EventPage:
        after = decode_cursor("events", cursor)
        if from_day and to_day and from_day > to_day:
            raise InvalidQuery("`from` is after `to`", "from")
        with self._reader() as read:
            found = read.records(
                type_=type,
                subject=_text(subject, "subject"),
                from_day=from_day,
                to_day=to_day,
                after=int(after or 0),
                limit=_check_limit(limit) + 1,
            )
        items = found[:limit]
        more = len(found) > limit
        return EventPage(items, encode_cursor("events", items[-1].position) if more else None)

    def event(self, event_id: UUID) -> EventRecord:
        with self._reader() as read:
            found = read.record(str(event_id))
        if found is None:
            raise NotFound(f"no event {event_id}")
        return found

    def diff(
        self,
        start: dt.date,
        end: dt.date,
        org: str | None = None,
        known_at: dt.datetime | None = None,
    ) -> Diff:
        """What changed after `start` up to and including `end`, for one organisation or all."""
        if start > end:
            raise InvalidQuery("`from` is after `to`", "from")
        with self._reader() as read:
            _, known, at_us = self._coordinates(read, None, known_at)
            if org is not None:
                spans = read.history(org, at_us)
                timelines = {org: [span for span in spans if span.valid_from <= end and span.valid_to >= start]}
                if not timelines[org] and not read.known_organisation(org):
                    raise NotFound(f"no organisation {org!r}")
            else:
                timelines = read.timelines(at_us, start, end)
            items = merge_sorted(transitions(o, rows, start, end) for o, rows in timelines.items())
            items = [
                t
                if t.event_id is not None
                else msgspec.structs.replace(t, event_id=read.cause(t.organisation, t.date, at_us))
                for t in items
            ]
        return Diff(from_date=start, to_date=end, known_at=known, items=items)

    def policies(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> PolicyPage:
        after = decode_cursor("policies", cursor)
        with self._reader() as read:
            found = read.policies(str(after) if after is not None else None, _check_limit(limit) + 1)
        items = [_policy(version) for version in found[:limit]]
        more = len(found) > limit
        return PolicyPage(items, encode_cursor("policies", items[-1].id) if more else None)

    def policy(self, policy_id: str) -> Policy:
        with self._reader() as read:
            found = read.policy(policy_id)
        if found is None:
            raise NotFound(f"no policy {policy_id!r}")
        return _policy(found)


def _with_coordinates(status: Status, day: dt.date, known: dt.datetime) -> OrganisationState:
    return OrganisationState(**msgspec.structs.asdict(status), as_of=day, known_at=known)


def _policy(version: PolicyVersion) -> Policy:
    event = version.event
    return Policy(
        id=event.policy_id,
        title=event.title,
        publisher=event.publisher,
        url=event.url,
        summary=event.summary,
        published=event.effective,
        precision=event.precision,
        event_id=version.event_id,
    )
