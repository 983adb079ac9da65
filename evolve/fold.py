"""The effect of each event on one organisation: the rules every reader shares.

The projection, the naive reference fold in the tests and any future reader apply events through
:func:`apply`, so "what an event does" is written once. Rules are pure: state in, state out, no I/O.
Besides events, two things change a state as time passes, and they are rules too:

- a flag tied to a financial year ends after its last day (:func:`next_expiry`, :func:`expire`);
- an organisation this one names (a member, its parent, its region) ends: a dissolution drops
  it, a merger puts its successor in its place (:func:`relation_ended`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Sequence
from functools import singledispatch
from typing import NamedTuple

from msgspec import UNSET
from msgspec.structs import replace

from evolve import rules
from evolve.catalogue import (
    AccountableCareSystemsDesignated,
    BaseEvent,
    CappedExpenditureApplied,
    CappedExpenditureLifted,
    DevolutionAgreed,
    FootprintDesignated,
    FundingAllocated,
    FundingPlanned,
    IntegratedCareSystemsDesignated,
    LeaderAppointed,
    LeaderLeft,
    MembersJoined,
    MembersLeft,
    OrganisationEvent,
    OrganisationRegistered,
    OrganisationRestated,
    OrganisationsDissolved,
    OrganisationsMerged,
    PartnershipsFormed,
    PlanMilestone,
    Scope,
    SystemsRenamed,
)
from evolve.state import STAGE_ORDER, Appointment, FlagPeriod, FundingRecord, MilestoneRecord, Status
from evolve.types import Flag, Kind, Stage, financial_year_end

FOOTPRINT_TERM = "sustainability and transformation plan footprint"
PARTNERSHIP_TERM = "sustainability and transformation partnership"
ICS_TERM = "integrated care system"
ONE_DAY = dt.timedelta(days=1)


class Applied(NamedTuple):
    """The state after an event, and what forbade it (field, message) if a rule did: then the
    state is the one before, unchanged."""

    state: Status | None
    problem: tuple[str, str] | None = None


def matches(scope: Scope, state: Status | None, org_id: str) -> bool:
    """Whether `scope` selects this organisation in this state."""
    if scope.organisations is not None:
        return org_id in scope.organisations
    if state is None:
        return False
    if scope.stage is not None:
        return state.stage == scope.stage
    return state.kind == scope.kind


def touches(event: BaseEvent, state: Status | None, org_id: str, subjects: Container[str] | None = None) -> bool:
    """Whether the event applies to the organisation at this point of the fold (`subjects`: the
    event's, if the caller has them already)."""
    scope = event.scope_or_none
    if scope is not None:
        return matches(scope, state, org_id)
    return org_id in (subjects if subjects is not None else event.subjects())


def apply(
    event: BaseEvent,
    state: Status | None,
    org_id: str,
    event_id: str,
    merge_sources: Sequence[Status | None] = (),
    subjects: Container[str] | None = None,
) -> Applied:
    """`org_id` after `event`, which the caller knows touches it (see :func:`touches`).

    `merge_sources` are the merged organisations' states at the end of the day before a merger,
    needed only when `org_id` is its `into`; `subjects` are the event's, if the caller has them. An
    event that names `org_id` is first checked by the rule book (:func:`evolve.rules.state_problem`);
    a refused event changes nothing.
    """
    named = org_id in (subjects if subjects is not None else event.subjects())
    if named:
        problem = rules.state_problem(event, org_id, state)
        if problem is not None:
            return Applied(state, problem)
    new = _effect(event, state, org_id, event_id, merge_sources)
    if isinstance(new, tuple):
        return Applied(state, new)
    if new is None or state is None or new != state:
        return Applied(new if new is None else replace(new, since=event.effective, last_event_id=event_id))
    return Applied(state)


def _effect(
    event: BaseEvent, state: Status | None, org: str, event_id: str, sources: Sequence[Status | None]
) -> Status | tuple[str, str] | None:
    """The bare effect of an event (a problem only from a merger's sources or a lift)."""
    if isinstance(event, OrganisationsMerged):
        if org in event.merged:
            return None
        if org != event.into:
            return state  # its region: unchanged
        problem = rules.merge_problem(event, list(sources))
        if problem is not None:
            return "/merged", problem
        return _merged(event, org, event_id, sources) if event.creates else _absorbed(state, event, sources)
    if isinstance(event, OrganisationsDissolved):
        return None
    if org in event.created():
        return _create(event, org, event_id)
    if state is None:
        return None  # a broadcast meets only organisations that exist
    if isinstance(event, OrganisationEvent) and event.organisation != org:
        return state  # a member, region or parent it names: unchanged
    if isinstance(event, CappedExpenditureLifted) and event.scope.organisations is not None:
        lift = rules.lift_problem(event, org, state)
        if lift is not None:
            return "/scope", lift
    return _change(event, state, event_id)


def has_rule(cls: type[BaseEvent]) -> bool:
    """Whether this module says what events of `cls` do to an organisation (a test keeps every
    type of the catalogue covered; policies and corrections are the projection's own)."""
    return cls in (OrganisationsMerged, OrganisationsDissolved) or cls in _create.registry or cls in _change.registry


# ---- what creates an organisation ----------------------------------------------------------


@singledispatch
def _create(event: BaseEvent, org: str, event_id: str) -> Status:
    raise NotImplementedError(f"{type(event).__name__} creates no organisation")


@_create.register
def _(event: OrganisationRegistered, org: str, event_id: str) -> Status:
    return Status(
        id=org,
        name=event.name,
        kind=event.kind,
        code=event.code,
        ods_code=event.ods_code,
        region=event.region,
        parent=event.parent,
        population=event.population,
        since=event.effective,
        last_event_id=event_id,
    )


@_create.register
def _(event: FootprintDesignated, org: str, event_id: str) -> Status:
    return Status(
        id=org,
        name=event.name,
        kind=Kind.HEALTH_SYSTEM,
        code=event.code,
        ods_code=event.ods_code,
        region=event.region,
        stage=Stage.FOOTPRINT,
        stage_term=FOOTPRINT_TERM,
        members=sorted(event.members),
        population=event.population,
        since=event.effective,
        last_event_id=event_id,
    )


def _merged(event: OrganisationsMerged, org: str, event_id: str, sources: Sequence[Status | None]) -> Status:
    """A new organisation continues the merged ones as they stood the day before: their kind, the
    earliest of their stages, their members, a region or parent they shared. Not their population:
    a sum of figures of different dates is no sourced figure."""
    present = [s for s in sources if s is not None]
    stages = [s.stage for s in present if s.stage is not None]
    stage = min(stages, key=STAGE_ORDER.__getitem__) if stages else None
    regions = {s.region for s in present}
    parents = {s.parent for s in present}
    return Status(
        id=org,
        name=event.name or org,
        kind=present[0].kind if present else Kind.HEALTH_SYSTEM,
        code=event.code,
        ods_code=event.ods_code,
        region=event.region or (regions.pop() if len(regions) == 1 else None),
        parent=parents.pop() if len(parents) == 1 else None,
        stage=stage,
        stage_term=next((s.stage_term for s in present if s.stage == stage), None) if stage else None,
        members=sorted({m for s in present for m in s.members} - {org}),
        flags=_joined_flags([f for s in present for f in s.flags]),
        since=event.effective,
        last_event_id=event_id,
    )


def _absorbed(state: Status | None, event: OrganisationsMerged, sources: Sequence[Status | None]) -> Status | None:
    """An existing organisation absorbs the merged ones' members; it keeps everything else."""
    if state is None:
        return None
    taken = {m for s in sources if s is not None for m in s.members}
    members = sorted((set(state.members) | taken) - {state.id, *event.merged})
    return replace(state, members=members)


def _joined_flags(flags: list[FlagPeriod]) -> list[FlagPeriod]:
    by_flag: dict[Flag, FlagPeriod] = {}
    for f in flags:
        old = by_flag.get(f.flag)
        if old is None:
            by_flag[f.flag] = f
        else:
            until = None if old.until is None or f.until is None else max(old.until, f.until)
            by_flag[f.flag] = replace(old, since=min(old.since, f.since), until=until)
    return sorted(by_flag.values(), key=lambda f: f.flag.value)


# ---- what changes an existing organisation -------------------------------------------------


@singledispatch
def _change(event: BaseEvent, state: Status, event_id: str) -> Status:
    raise NotImplementedError(f"no rule for {type(event).__name__}")


@_change.register
def _(event: OrganisationRestated, state: Status, event_id: str) -> Status:
    fields = {
        name: getattr(event, name)
        for name in ("name", "code", "ods_code", "region", "parent", "population")
        if getattr(event, name) is not UNSET
    }
    return replace(state, **fields)


@_change.register
def _(event: MembersJoined, state: Status, event_id: str) -> Status:
    return replace(state, members=sorted(set(state.members) | set(event.members)))


@_change.register
def _(event: MembersLeft, state: Status, event_id: str) -> Status:
    return replace(state, members=sorted(set(state.members) - set(event.members)))


@_change.register
def _(event: LeaderAppointed, state: Status, event_id: str) -> Status:
    appointment = Appointment(name=event.leader, role=event.role, since=event.effective, event_id=event_id)
    return replace(state, leader=appointment)


@_change.register
def _(event: LeaderLeft, state: Status, event_id: str) -> Status:
    return replace(state, leader=None)


@_change.register
def _(event: PlanMilestone, state: Status, event_id: str) -> Status:
    record = MilestoneRecord(
        milestone=event.milestone, date=event.effective, precision=event.precision, url=event.url, event_id=event_id
    )
    return replace(state, milestones=[*state.milestones, record])


def _to_stage(state: Status, stage: Stage, term: str) -> Status:
    if state.kind is not Kind.HEALTH_SYSTEM:
        return state
    return replace(state, stage=stage, stage_term=term)


@_change.register
def _(event: PartnershipsFormed, state: Status, event_id: str) -> Status:
    return _to_stage(state, Stage.PARTNERSHIP, PARTNERSHIP_TERM)


@_change.register
def _(event: AccountableCareSystemsDesignated, state: Status, event_id: str) -> Status:
    term = "shadow accountable care system" if event.shadow else "accountable care system"
    return _to_stage(state, Stage.ACS, term)


@_change.register
def _(event: IntegratedCareSystemsDesignated, state: Status, event_id: str) -> Status:
    return _to_stage(state, Stage.ICS, ICS_TERM)


@_change.register
def _(event: SystemsRenamed, state: Status, event_id: str) -> Status:
    return _to_stage(state, event.to_stage, event.term)


def _with_flags(state: Status, flags: list[FlagPeriod]) -> Status:
    return replace(state, flags=sorted(flags, key=lambda f: f.flag.value))


@_change.register
def _(event: CappedExpenditureApplied, state: Status, event_id: str) -> Status:
    """The flag holds to the end of the financial year; applied again for a later year, it
    holds to the end of that one (from its first day)."""
    until = financial_year_end(event.financial_year)
    others = [f for f in state.flags if f.flag is not Flag.CAPPED_EXPENDITURE]
    active = next((f for f in state.flags if f.flag is Flag.CAPPED_EXPENDITURE), None)
    since = active.since if active is not None else event.effective
    if active is not None and active.until is not None and active.until > until:
        return state
    period = FlagPeriod(
        flag=Flag.CAPPED_EXPENDITURE, since=since, until=until, financial_year=event.financial_year, event_id=event_id
    )
    return _with_flags(state, [*others, period])


@_change.register
def _(event: CappedExpenditureLifted, state: Status, event_id: str) -> Status:
    return _with_flags(state, [f for f in state.flags if f.flag is not Flag.CAPPED_EXPENDITURE])


@_change.register
def _(event: DevolutionAgreed, state: Status, event_id: str) -> Status:
    if any(f.flag is Flag.DEVOLVED for f in state.flags):
        return state
    return _with_flags(state, [*state.flags, FlagPeriod(flag=Flag.DEVOLVED, since=event.effective, event_id=event_id)])


@_change.register(FundingAllocated)
@_change.register(FundingPlanned)
def _(event: FundingAllocated | FundingPlanned, state: Status, event_id: str) -> Status:
    record = FundingRecord(
        fund=event.fund,
        financial_year=event.financial_year,
        amount_pence=event.amount_pence,
        currency=event.currency,
        planned=isinstance(event, FundingPlanned),
        event_id=event_id,
    )
    return replace(state, funding=[*state.funding, record])


# ---- what changes a state as time passes ---------------------------------------------------


def next_expiry(state: Status | None) -> dt.date | None:
    """The first day on which a flag of `state` no longer holds, if any will end."""
    if state is None:
        return None
    ends = [f.until + ONE_DAY for f in state.flags if f.until is not None]
    return min(ends) if ends else None


def expire(state: Status, day: dt.date) -> Status:
    """`state` on `day`, once the flags that ended before it are gone. The cause is the event that
    set the flag's period, unless an event already changed the state that day: that event stays the
    cause, so a change it made (a new region on 1 April) is not credited to last year's flag."""
    gone = [f for f in state.flags if f.until is not None and f.until < day]
    if not gone:
        return state
    kept = [f for f in state.flags if f not in gone]
    cause = state.last_event_id if state.since == day else max(gone, key=lambda f: f.until or day).event_id
    return replace(state, flags=kept, since=day, last_event_id=cause)


def relations(state: Status | None) -> set[str]:
    """The organisations `state` names: its members, its parent, its region."""
    if state is None:
        return set()
    return {*state.members, *(r for r in (state.parent, state.region) if r is not None)}


def relation_ended(
    state: Status, ended: str, successor: str | None, day: dt.date, event_id: str
) -> Status:
    """`state` once `ended`, which it names, has ended on `day`: a merger's successor takes its
    place, a dissolution leaves a gap. Unchanged (the same object) if it does not name `ended`."""
    if ended not in relations(state):
        return state
    members = set(state.members)
    if ended in members:
        members.discard(ended)
        if successor is not None and successor != state.id:
            members.add(successor)
    return replace(
        state,
        members=sorted(members),
        parent=successor if state.parent == ended else state.parent,
        region=successor if state.region == ended else state.region,
        since=day,
        last_event_id=event_id,
    )
