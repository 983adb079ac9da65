"""The effect of each event on one organisation: the rules every reader shares.

The projection, the naive reference fold in the tests and any future reader
apply events through :func:`apply`, so "what an event does" is written once.
Rules are pure: state in, state out, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import singledispatch

from msgspec.structs import replace

from evolve.catalogue import (
    AccountableCareSystemsDesignated,
    BaseEvent,
    CappedExpenditureApplied,
    CappedExpenditureLifted,
    DevolutionAgreed,
    FootprintDesignated,
    FootprintsMerged,
    FundingAllocated,
    IntegratedCareSystemsDesignated,
    LeaderAppointed,
    OrganisationRegistered,
    OrganisationRenamed,
    PartnershipsFormed,
    PlanMilestone,
    PolicyPublished,
    Scope,
    SystemAbsorbed,
    SystemsRenamed,
)
from evolve.state import STAGE_ORDER, FundingRecord, MilestoneRecord, Status
from evolve.types import Flag, Kind, Stage

FOOTPRINT_TERM = "sustainability and transformation plan footprint"
PARTNERSHIP_TERM = "sustainability and transformation partnership"
ICS_TERM = "integrated care system"


def matches(scope: Scope, state: Status | None, org_id: str) -> bool:
    """Whether `scope` selects this organisation in this state."""
    if scope.organisations is not None:
        return org_id in scope.organisations
    if state is None:
        return False
    if scope.stage is not None:
        return state.stage == scope.stage
    return state.kind == scope.kind


def touches(event: BaseEvent, state: Status | None, org_id: str) -> bool:
    """Whether the event applies to the organisation at this point of the fold."""
    scope = event.scope_or_none
    if scope is not None:
        return matches(scope, state, org_id)
    return org_id in event.subjects()


def apply(
    event: BaseEvent,
    state: Status | None,
    org_id: str,
    event_id: str,
    merge_sources: Sequence[Status | None] = (),
) -> Status | None:
    """The state of `org_id` after `event`, which the caller knows touches it.

    `merge_sources` are the merged systems' states at the end of the day
    before a merge, needed only when `org_id` is a merge's `into`.
    """
    if isinstance(event, FootprintsMerged):
        if org_id != event.into:
            return None
        return _merged(event, org_id, event_id, merge_sources)
    if isinstance(event, SystemAbsorbed):
        return None
    if event.creates_subjects:
        new = _create(event, state, org_id, event_id)
    elif state is None:
        return None  # events other than creations leave a not-yet-existing organisation alone
    else:
        new = _change(event, state, event_id)
    return replace(new, since=event.effective, last_event_id=event_id)


@singledispatch
def _create(event: BaseEvent, state: Status | None, org_id: str, event_id: str) -> Status:
    raise NotImplementedError(f"no creation rule for {type(event).__name__}")


@singledispatch
def _change(event: BaseEvent, state: Status, event_id: str) -> Status:
    raise NotImplementedError(f"no rule for {type(event).__name__}")


def _blank(org_id: str, name: str, kind: Kind, effective: dt.date) -> Status:
    return Status(id=org_id, name=name, kind=kind, since=effective, last_event_id="")


@_create.register
def _(event: OrganisationRegistered, state: Status | None, org_id: str, event_id: str) -> Status:
    base = state or _blank(org_id, event.name, event.kind, event.effective)
    return replace(
        base,
        name=event.name,
        kind=event.kind,
        code=event.code if event.code is not None else base.code,
        region=event.region if event.region is not None else base.region,
    )


@_create.register
def _(event: FootprintDesignated, state: Status | None, org_id: str, event_id: str) -> Status:
    base = state or _blank(org_id, event.name, Kind.HEALTH_SYSTEM, event.effective)
    keep_stage = base.stage is not None
    return replace(
        base,
        name=event.name,
        kind=Kind.HEALTH_SYSTEM,
        stage=base.stage if keep_stage else Stage.FOOTPRINT,
        stage_term=base.stage_term if keep_stage else FOOTPRINT_TERM,
        region=event.region if event.region is not None else base.region,
        code=event.code if event.code is not None else base.code,
        members=sorted(set(base.members) | set(event.members)),
        population=event.population if event.population is not None else base.population,
    )


@_change.register
def _(event: LeaderAppointed, state: Status, event_id: str) -> Status:
    return replace(state, leader=event.leader, leader_role=event.role)


@_change.register
def _(event: OrganisationRenamed, state: Status, event_id: str) -> Status:
    return replace(state, name=event.name)


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


def _with_flag(state: Status, flag: Flag, on: bool) -> Status:
    flags = set(state.flags) | {flag} if on else set(state.flags) - {flag}
    return replace(state, flags=sorted(flags, key=lambda f: f.value))


@_change.register
def _(event: CappedExpenditureApplied, state: Status, event_id: str) -> Status:
    return _with_flag(state, Flag.CAPPED_EXPENDITURE, True)


@_change.register
def _(event: CappedExpenditureLifted, state: Status, event_id: str) -> Status:
    return _with_flag(state, Flag.CAPPED_EXPENDITURE, False)


@_change.register
def _(event: DevolutionAgreed, state: Status, event_id: str) -> Status:
    return _with_flag(state, Flag.DEVOLVED, True)


@_change.register
def _(event: FundingAllocated, state: Status, event_id: str) -> Status:
    record = FundingRecord(
        fund=event.fund,
        financial_year=event.financial_year,
        amount_pence=event.amount_pence,
        currency=event.currency,
        event_id=event_id,
    )
    return replace(state, funding=[*state.funding, record])


@_create.register
def _(event: PolicyPublished, state: Status | None, org_id: str, event_id: str) -> Status:
    # Policies are subjects but not organisations: the projection keeps them in
    # their own view and never folds them into an organisation's timeline.
    raise TypeError("PolicyPublished does not apply to organisations")


def _merged(event: FootprintsMerged, org_id: str, event_id: str, sources: Sequence[Status | None]) -> Status:
    """A merged system starts from its sources as they stood the day before."""
    present = [s for s in sources if s is not None]
    stages = [s.stage for s in present if s.stage is not None]
    stage = min(stages, key=STAGE_ORDER.__getitem__) if stages else Stage.FOOTPRINT
    term = next((s.stage_term for s in present if s.stage == stage), None) or FOOTPRINT_TERM
    regions = {s.region for s in present}
    populations = [s.population for s in present]
    flags = set().union(*(s.flags for s in present)) if present else set()
    return Status(
        id=org_id,
        name=event.name,
        kind=Kind.HEALTH_SYSTEM,
        code=event.code,
        region=regions.pop() if len(regions) == 1 else None,
        stage=stage,
        stage_term=term,
        members=sorted(set().union(*(s.members for s in present))) if present else [],
        population=sum(p for p in populations if p is not None)
        if present and all(p is not None for p in populations)
        else None,
        flags=sorted(flags, key=lambda f: f.value),
        since=event.effective,
        last_event_id=event_id,
    )
