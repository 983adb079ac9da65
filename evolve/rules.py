"""The rule book for appends: what a batch may refer to, given what the log already holds.

Both paths that accept events use these rules: the store, before it writes a batch, and
``evolve validate``, before any database is involved (the files are a batch appended to an
empty log). So a batch gets the same verdict and the same words from both. The rules are pure
functions of the batch and of a :class:`LogLookup` (what the log says about a subject id, and
which event an id names); the store supplies one backed by its stream heads, ``validate`` an
empty one.

Forward references inside a batch are allowed (an event may name an id that a later event of
the same batch creates: the projection folds by effective date, not by batch order), but a
clash is judged in batch order (the second creator of an id meets the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

from evolve.catalogue import Event, EventCorrected
from evolve.types import SubjectKind


class Recorded(NamedTuple):
    """What the rules need of an event already recorded: the event and the subjects it touched."""

    event: Event
    subjects: list[str]


class LogLookup(Protocol):
    """The log before the batch, as the rules see it."""

    def kind(self, subject: str) -> SubjectKind | None:
        """What `subject` (a slug, or an event id as text) names in the log, or None if nothing."""

    def recorded(self, event_id: UUID) -> Recorded | None:
        """The recorded event with this id, or None."""


class EmptyLog:
    """The lookup for a batch that will be the whole log (``evolve validate``)."""

    def kind(self, subject: str) -> SubjectKind | None:
        return None

    def recorded(self, event_id: UUID) -> Recorded | None:
        return None


class Problem(NamedTuple):
    """One broken rule: the event's index in the batch (`at`), the field (a JSON pointer inside
    the event, "" for the event as a whole), and a message for people."""

    at: int
    field: str
    message: str
    #: The event names a subject that nothing registers (a 409 "unknown subject" over HTTP).
    unknown: bool = False


class Checked(NamedTuple):
    """The verdict on a batch: its problems (none if it may be appended) and, per event, the
    subjects it touches (a correction touches what its target and its replacement touch)."""

    problems: list[Problem]
    subjects: list[list[str]]
    #: The ids the batch brings into existence, with what each names (its first creator's kind).
    created: dict[str, SubjectKind]


def check_batch(events: Sequence[Event], ids: Sequence[UUID], log: LogLookup) -> Checked:
    """Every rule, for every event of the batch, in batch order (ids are distinct: the caller checks)."""
    problems: list[Problem] = []
    # What the batch creates, for forward references: the first creator's kind.
    created: dict[str, SubjectKind] = {}
    for event in events:
        for slug in event.created():
            created.setdefault(slug, event.subject_kind)
    seen: dict[str, SubjectKind] = {}  # kinds created by the events checked so far
    earlier: dict[UUID, Recorded] = {}  # this batch's events checked so far, for corrections
    subjects: list[list[str]] = []
    for index, (event, event_id) in enumerate(zip(events, ids, strict=True)):
        found, touched = _check_event(index, event, event_id, log, created, seen, earlier)
        problems += found
        subjects.append(touched)
        earlier[event_id] = Recorded(event, touched)
        for slug in event.created():
            seen.setdefault(slug, event.subject_kind)
        seen[str(event_id)] = "event"
    return Checked(problems, subjects, created)


def _check_event(
    index: int,
    event: Event,
    event_id: UUID,
    log: LogLookup,
    created: dict[str, SubjectKind],
    seen: dict[str, SubjectKind],
    earlier: dict[UUID, Recorded],
) -> tuple[list[Problem], list[str]]:
    def kind(slug: str) -> SubjectKind | None:
        return log.kind(slug) or seen.get(slug)

    problems: list[Problem] = []
    if kind(str(event_id)) is not None:
        problems.append(Problem(index, "", f"event id {event_id} is already in the log"))
    subjects = list(dict.fromkeys(event.subjects()))
    if isinstance(event, EventCorrected):
        target = earlier.get(event.corrects) or log.recorded(event.corrects)
        if target is None:
            message = f"event {event.corrects} (in `corrects`) is not in the log"
            return [*problems, Problem(index, "/corrects", message, unknown=True)], subjects
        if isinstance(target.event, EventCorrected):
            message = "a correction cannot be corrected; correct the original event again"
            problems.append(Problem(index, "/corrects", message))
        subjects = list(dict.fromkeys([*target.subjects, *subjects, str(event.corrects)]))
    for slug, want in event.required():
        have = kind(slug) or created.get(slug)
        if have is None:
            message = f"unknown {want} {slug!r}: no event in the log or this batch registers it"
            problems.append(Problem(index, "", message, unknown=True))
        elif have != want:
            problems.append(Problem(index, "", f"{slug!r} names {_a(have)}, not {_a(want)}"))
    for slug in event.created():
        have = kind(slug)
        if have is not None and have != event.subject_kind:
            problems.append(Problem(index, "", f"{slug!r} already names {_a(have)}"))
    for slug in event.must_be_new():
        if kind(slug) is not None:
            problems.append(Problem(index, "", f"{slug!r} already exists; a merge must create a new id"))
    return problems, subjects


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
