"""The rule book for appends: what an event may say, given what the log already holds.

Two kinds of rules, both pure functions, both used by every path that accepts events (the
store's append, ``evolve import`` and ``evolve validate``), so a batch gets the same verdict and
the same words from all of them:

- **Reference rules** (:func:`check_batch`): what the ids of a batch name (an organisation, a
  policy, an event) given a :class:`LogLookup`: what the log says about a subject id, and which
  event an id names. The store supplies one backed by its stream heads, ``validate`` an empty one.
- **State rules** (:func:`state_problem`): whether an event may apply to an organisation as it
  stands just before, in fold order (it exists on the event's date; a leader to leave; a member
  to remove). The projection evaluates them for every organisation an event names as it folds,
  so a new event that would leave an older one dangling is refused too.

Forward references inside a batch are allowed (an event may name an id that a later event of
the same batch creates: the projection folds by effective date, not by batch order), but a
clash is judged in batch order (the second creator of an id meets the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

from evolve.catalogue import (
    BaseEvent,
    CappedExpenditureLifted,
    Event,
    EventCorrected,
    LeaderLeft,
    MembersJoined,
    MembersLeft,
    OrganisationRestated,
    OrganisationsMerged,
)
from evolve.state import Status
from evolve.types import Flag, Kind, SubjectKind


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


# ---- state rules -------------------------------------------------------------------------


def state_problem(event: BaseEvent, org: str, state: Status | None) -> tuple[str, str] | None:
    """What forbids `event` to apply to `org`, which it names, in `state` (its state just before
    the event, in fold order): (the field naming `org`, a message), or None if nothing does."""
    field = next(f for f, named in event.named() if named == org)
    day = event.effective.isoformat()
    if org in event.created():
        return (field, f"{org!r} already exists on {day}") if state is not None else None
    if state is None:
        return field, f"{org!r} (in `{_field_name(field)}`) does not exist on {day}"
    message = _type_problem(event, org, state, field, day)
    return (field, message) if message is not None else None


def _type_problem(event: BaseEvent, org: str, state: Status, field: str, day: str) -> str | None:
    """The rules of one event type for an organisation that exists."""
    if field == "/region" and state.kind is not Kind.REGION:
        return f"{org!r} (in `region`) is {_a(state.kind.value)}, not a region"
    if field == "/parent" and state.kind is not Kind.HEALTH_SYSTEM:
        return f"{org!r} (in `parent`) is {_a(state.kind.value)}, not a health system"
    if field != "/organisation":
        return None
    not_a_system = state.kind is not Kind.HEALTH_SYSTEM
    if isinstance(event, OrganisationRestated) and isinstance(event.parent, str) and not_a_system:
        return f"only a health system can have a `parent`; {org!r} is {_a(state.kind.value)}"
    if isinstance(event, MembersJoined | MembersLeft) and not_a_system:
        return f"{org!r} is {_a(state.kind.value)}: only a health system has members"
    if isinstance(event, MembersJoined):
        already = [m for m in event.members if m in state.members]
        if already:
            return f"{already[0]!r} is already a member of {org!r} on {day}"
    if isinstance(event, MembersLeft):
        absent = [m for m in event.members if m not in state.members]
        if absent:
            return f"{absent[0]!r} is not a member of {org!r} on {day}"
    if isinstance(event, LeaderLeft):
        if state.leader is None:
            return f"{org!r} has no leader on {day}: there is no appointment to end"
        if event.leader is not None and event.leader != state.leader.name:
            return f"{org!r} is led by {state.leader.name!r} on {day}, not {event.leader!r}"
    return None


def lift_problem(event: CappedExpenditureLifted, org: str, state: Status) -> str | None:
    """A lift of an explicit scope needs the flag to be there."""
    if not any(f.flag is Flag.CAPPED_EXPENDITURE for f in state.flags):
        return f"{org!r} is not under the capped expenditure process on {event.effective.isoformat()}"
    return None


def merge_problem(event: OrganisationsMerged, sources: list[Status | None]) -> str | None:
    """A new organisation continues merged ones of one kind (it takes their kind)."""
    kinds = sorted({s.kind.value for s in sources if s is not None})
    if event.creates and len(kinds) > 1:
        return (
            f"the merged organisations are of different kinds ({', '.join(kinds)}): a new `into` takes their "
            "one kind; merge them into an existing organisation instead"
        )
    return None


def _field_name(pointer: str) -> str:
    """``/scope/organisations/2`` -> ``scope.organisations``."""
    return ".".join(part for part in pointer.strip("/").split("/") if not part.isdigit())
