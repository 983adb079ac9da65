"""Read-only questions to the projection: state as of a date, as known at a time.

Everything here reads the view through :class:`evolve.views.interface.TimelineReader`, an indexed
lookup per question; nothing replays the log. Defaults (docs/design.md, "Time"): `as_of` today,
`known_at` now, reported as the record time of the newest entry.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from uuid import UUID

import msgspec

from evolve.answers import (
    AppointmentSpan,
    EventPage,
    History,
    Interval,
    Membership,
    Memberships,
    OrganisationPage,
    Policy,
    PolicyPage,
    Series,
    Stats,
)
from evolve.counts import Counts, counts_of
from evolve.cursors import decode_cursor, encode_cursor
from evolve.diff import Diff, merge_sorted, transitions
from evolve.errors import InvalidQuery, NotFound
from evolve.records import EventRecord, micros
from evolve.series import Step, points
from evolve.state import OrganisationState, Status
from evolve.types import END_OF_TIME, Flag, Kind, Stage
from evolve.views.interface import PolicyVersion, Relation, Span, TimelineReader

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


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
        return day, _known(latest), latest

    def state(self, org: str, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> OrganisationState:
        now = self._clock()
        day = as_of or now.date()
        with self._reader() as read:
            # The defaults of _coordinates, the newest record time read in the same statement as the state.
            found = read.point(org, day, recorded_us(known_at) if known_at is not None else None)
            if known_at is not None:
                known = known_at
            else:
                known = _known(found.recorded_us) if found.recorded_us is not None else now
            if found.status is None:
                if read.known_organisation(org):
                    raise NotFound(
                        f"organisation {org!r} did not exist on {day.isoformat()} (as known at {known.isoformat()})"
                    )
                raise NotFound(f"no organisation {org!r}")
        return _answer(found.status, day, known, found.held)

    def organisations(
        self,
        as_of: dt.date | None = None,
        known_at: dt.datetime | None = None,
        *,
        kind: Kind | None = None,
        stage: Stage | None = None,
        q: str | None = None,
        code: str | None = None,
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
                code=_text(code, "code"),
                after=str(after) if after is not None else None,
                limit=_check_limit(limit) + 1,
            )
            held = _by_related(read.relations_on(day, at_us, [s.id for s in found[:limit]]))
        items = [_answer(s, day, known, held.get(s.id, [])) for s in found[:limit]]
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
        code: str | None = None,
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
                code=_text(code, "code"),
            )
            held = _by_related(read.relations_on(day, at_us))
        return (_answer(s, day, known, held.get(s.id, [])) for s in found)

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
            Interval(valid_from=s.valid_from, valid_to=_open(s.valid_to), state=s.state, event_id=s.state.last_event_id)
            for s in rows
        ]
        return History(id=org, known_at=known, items=items, leaders=_appointments(rows))

    def memberships(self, org: str, known_at: dt.datetime | None = None) -> Memberships:
        """The systems `org` belonged to (as a member, or as a sub-area of its parent), with intervals."""
        with self._reader() as read:
            _, known, at_us = self._coordinates(read, None, known_at)
            if not read.known_organisation(org):
                raise NotFound(f"no organisation {org!r}")
            relations = read.relations(org, at_us)
            own = read.history(org, at_us)
        items = _joined(r for r in relations if r.relation == "member")
        items += _joined(_as_parent(own))
        items.sort(key=lambda m: (m.valid_from, m.system))
        return Memberships(id=org, known_at=known, items=items)

    def stats(self, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> Stats:
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            counts = read.counts(day, at_us)
        return _stats(counts, day, known)

    def series(
        self, start: dt.date, end: dt.date, step: Step, known_at: dt.datetime | None = None
    ) -> Series:
        """The counts of :meth:`stats` on every `step` from `start` to `end`, all as known at `known_at`."""
        days = points(start, end, step)
        with self._reader() as read:
            _, known, at_us = self._coordinates(read, start, known_at)
            timelines = read.timelines(at_us, days[0], days[-1]) if days else {}
        # One read of every timeline over the window, then each day's states by bisection: a point
        # costs a pass over the organisations, not a query and a decode of every state.
        starts = {org: [span.valid_from for span in spans] for org, spans in timelines.items()}
        items = [_stats(counts_of(_states_on(timelines, starts, day)), day, known) for day in days]
        return Series(start=start, end=end, step=step, known_at=known, items=items)

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

    def policies(
        self,
        as_of: dt.date | None = None,
        known_at: dt.datetime | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> PolicyPage:
        after = decode_cursor("policies", cursor)
        with self._reader() as read:
            day, _, at_us = self._coordinates(read, as_of, known_at)
            found = read.policies(day, at_us, str(after) if after is not None else None, _check_limit(limit) + 1)
        items = [_policy(version) for version in found[:limit]]
        more = len(found) > limit
        return PolicyPage(items, encode_cursor("policies", items[-1].id) if more else None)

    def policy(self, policy_id: str, as_of: dt.date | None = None, known_at: dt.datetime | None = None) -> Policy:
        with self._reader() as read:
            day, known, at_us = self._coordinates(read, as_of, known_at)
            found = read.policy(policy_id, day, at_us)
        if found is None:
            raise NotFound(f"no policy {policy_id!r} published by {day.isoformat()} (as known at {known.isoformat()})")
        return _policy(found)


def _states_on(
    timelines: dict[str, list[Span]], starts: dict[str, list[dt.date]], day: dt.date
) -> Iterator[Status]:
    """The state of every organisation on `day`, from its intervals (sorted by `valid_from`)."""
    for org, spans in timelines.items():
        index = bisect.bisect_right(starts[org], day) - 1
        if index >= 0 and day < spans[index].valid_to:
            yield spans[index].state


def _stats(counts: Counts, day: dt.date, known: dt.datetime) -> Stats:
    """What :meth:`Queries.stats` says of the organisations counted on `day`: the top-level ones
    (no parent) by kind, health systems with a stage by stage (top level and sub-areas apart)."""
    by_stage: Counter[str] = Counter()
    sub_areas: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for group, n in counts.groups.items():
        if not group.sub_area:
            by_kind[group.kind] += n
        if group.kind == Kind.HEALTH_SYSTEM.value and group.stage is not None:
            (sub_areas if group.sub_area else by_stage)[group.stage] += n
    return Stats(
        as_of=day,
        known_at=known,
        total=by_kind.total(),
        by_stage={stage.value: by_stage.get(stage.value, 0) for stage in Stage},
        sub_areas_by_stage={stage.value: sub_areas.get(stage.value, 0) for stage in Stage},
        by_kind={kind.value: by_kind.get(kind.value, 0) for kind in Kind},
        flags={flag.value: counts.flags.get(flag.value, 0) for flag in Flag},
    )


def _open(day: dt.date) -> dt.date | None:
    return None if day == END_OF_TIME else day


def _by_related(relations: Iterable[Relation]) -> dict[str, list[Relation]]:
    out: dict[str, list[Relation]] = defaultdict(list)
    for relation in relations:
        out[relation.related].append(relation)
    return out


def _known(latest_us: int) -> dt.datetime:
    """The newest entry's record time as the `known_at` an answer reports."""
    return dt.datetime.fromtimestamp(latest_us / 1_000_000, tz=dt.UTC)


def _answer(status: Status, day: dt.date, known: dt.datetime, held: list[Relation]) -> OrganisationState:
    """`status` with the coordinates asked for, and the relations other organisations hold to it."""
    return OrganisationState(
        **msgspec.structs.asdict(status),
        as_of=day,
        known_at=known,
        member_of=sorted({r.holder for r in held if r.relation == "member"}),
        sub_areas=sorted({r.holder for r in held if r.relation == "parent"}),
    )


def _appointments(spans: list[Span]) -> list[AppointmentSpan]:
    """Each appointment over the intervals that show it (the same appointment across intervals is one)."""
    out: list[AppointmentSpan] = []
    for span in spans:
        leader = span.state.leader
        if leader is None:
            continue
        last = out[-1] if out else None
        if last is not None and last.appointment == leader and last.valid_to == span.valid_from:
            out[-1] = msgspec.structs.replace(last, valid_to=_open(span.valid_to))
        else:
            out.append(AppointmentSpan(appointment=leader, valid_from=span.valid_from, valid_to=_open(span.valid_to)))
    return out


def _as_parent(spans: list[Span]) -> Iterator[Relation]:
    for span in spans:
        if span.state.parent is not None:
            yield Relation(span.state.parent, span.state.id, "parent", span.valid_from, span.valid_to)


def _joined(relations: Iterable[Relation]) -> list[Membership]:
    """Adjacent intervals of one (system, relation) joined into one membership."""
    out: list[Membership] = []
    ends: dict[tuple[str, str], int] = {}
    for r in sorted(relations, key=lambda r: (r.holder, r.relation, r.valid_from)):
        key = (r.holder, r.relation)
        index = ends.get(key)
        if index is not None and out[index].valid_to == r.valid_from:
            out[index] = msgspec.structs.replace(out[index], valid_to=_open(r.valid_to))
            continue
        ends[key] = len(out)
        membership = Membership(system=r.holder, relation=r.relation, valid_from=r.valid_from, valid_to=None)
        out.append(msgspec.structs.replace(membership, valid_to=_open(r.valid_to)))
    return out


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
