"""The event catalogue (design §4): every policy event type, defined once.

These msgspec Structs are the single definition used by the store (the
payload of each log entry), the data files in ``events/`` and the REST API
schema. On the wire an event is one flat object tagged by ``type``; unknown
fields are rejected and every field is strictly typed, so a float where pence
are expected, an unknown precision or an impossible date fail at decoding
with a message that names the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Union
from uuid import UUID

import msgspec
from msgspec import Meta

from evolve.types import (
    EARLIEST,
    LATEST,
    Code,
    Currency,
    FinancialYear,
    Kind,
    Milestone,
    Pence,
    Population,
    Precision,
    Quote,
    SeedName,
    Slug,
    Stage,
    SubjectKind,
    Text,
    Title,
    Url,
)


class Source(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """Where a fact comes from: a public URL or a seed document, never neither."""

    title: Title
    url: Url | None = None
    seed: SeedName | None = None
    quote: Quote | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.seed is None):
            raise ValueError("a source needs exactly one of `url` or `seed`")


class Scope(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """Which organisations an event applies to.

    Either an explicit list of ids, or every organisation in a stage or of a
    kind *on the event's effective date* (a broadcast).
    """

    organisations: Annotated[list[Slug], Meta(min_length=1, max_length=1000)] | None = None
    stage: Stage | None = None
    kind: Kind | None = None

    def __post_init__(self) -> None:
        chosen = [self.organisations is not None, self.stage is not None, self.kind is not None]
        if sum(chosen) != 1:
            raise ValueError("a scope needs exactly one of `organisations`, `stage` or `kind`")
        if self.organisations is not None and len(set(self.organisations)) != len(self.organisations):
            raise ValueError("scope lists an organisation twice")

    @property
    def is_broadcast(self) -> bool:
        return self.organisations is None


class BaseEvent(
    msgspec.Struct,
    tag_field="type",
    forbid_unknown_fields=True,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
):
    """Fields common to every event."""

    effective: dt.date
    precision: Precision
    sources: Annotated[list[Source], Meta(min_length=1, max_length=50)]
    policy: Slug | None = None
    note: Text | None = None

    #: Whether the event brings its subjects into existence.
    creates_subjects: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not EARLIEST <= self.effective <= LATEST:
            raise ValueError(
                f"effective date {self.effective.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}"
            )
        if self.precision is Precision.MONTH and self.effective.day != 1:
            raise ValueError(
                f"effective {self.effective.isoformat()} has precision 'month': "
                f"write the first of the month, {self.effective.replace(day=1).isoformat()}"
            )
        if self.precision is Precision.YEAR and (self.effective.month, self.effective.day) != (1, 1):
            raise ValueError(
                f"effective {self.effective.isoformat()} has precision 'year': "
                f"write the first of the year, {self.effective.replace(month=1, day=1).isoformat()}"
            )

    @property
    def type(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    def subjects(self) -> list[str]:
        """Ids whose state this event changes explicitly (broadcasts name none)."""
        return []

    def required(self) -> list[tuple[str, SubjectKind]]:
        """Ids that must already exist (or be created in the same batch), with their kind."""
        created = set(self.created())
        refs: list[tuple[str, SubjectKind]] = [(s, "organisation") for s in self.subjects() if s not in created]
        if self.policy is not None and self.policy not in created:
            refs.append((self.policy, "policy"))
        return refs

    def created(self) -> list[str]:
        """Ids this event brings into existence (or re-states, if they exist)."""
        return self.subjects() if self.creates_subjects else []

    def must_be_new(self) -> list[str]:
        """Ids that must not exist yet."""
        return []

    @property
    def subject_kind(self) -> SubjectKind:
        """What the ids in `subjects()` name."""
        return "organisation"

    @property
    def scope_or_none(self) -> Scope | None:
        return None


class ScopedEvent(BaseEvent, frozen=True, kw_only=True):
    scope: Scope

    def subjects(self) -> list[str]:
        return list(self.scope.organisations or [])

    @property
    def scope_or_none(self) -> Scope | None:
        return self.scope


class PolicyPublished(BaseEvent, tag=True, frozen=True, kw_only=True):
    """A policy document or announcement is published (or its details updated)."""

    policy_id: Slug
    title: Title
    publisher: Title
    url: Url
    summary: Text | None = None
    creates_subjects: ClassVar[bool] = True

    def subjects(self) -> list[str]:
        return [self.policy_id]

    @property
    def subject_kind(self) -> SubjectKind:
        return "policy"


class OrganisationRegistered(BaseEvent, tag=True, frozen=True, kw_only=True):
    """An organisation exists from `effective`."""

    organisation: Slug
    name: Title
    kind: Kind
    code: Code | None = None
    region: Title | None = None
    creates_subjects: ClassVar[bool] = True

    def subjects(self) -> list[str]:
        return [self.organisation]


class FootprintDesignated(BaseEvent, tag=True, frozen=True, kw_only=True):
    """A health system exists at stage `footprint` (an STP footprint)."""

    organisation: Slug
    name: Title
    region: Title | None = None
    code: Code | None = None
    members: Annotated[list[Slug], Meta(max_length=500)] = []
    population: Population | None = None
    creates_subjects: ClassVar[bool] = True

    def subjects(self) -> list[str]:
        return [self.organisation]

    def required(self) -> list[tuple[str, SubjectKind]]:
        return [*((m, "organisation") for m in self.members), *super().required()]


class LeaderAppointed(BaseEvent, tag=True, frozen=True, kw_only=True):
    organisation: Slug
    leader: Title
    role: Title | None = None

    def subjects(self) -> list[str]:
        return [self.organisation]


class PlanMilestone(ScopedEvent, tag=True, frozen=True, kw_only=True):
    milestone: Milestone
    url: Url | None = None


class PartnershipsFormed(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `partnership`."""


class AccountableCareSystemsDesignated(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `acs`."""

    shadow: bool = True


class IntegratedCareSystemsDesignated(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `ics` for systems designated after the Feb 2018 renaming (not in design §4)."""


class SystemsRenamed(BaseEvent, tag=True, frozen=True, kw_only=True):
    """Every system in `from_stage` on the effective date moves to `to_stage`."""

    from_stage: Stage
    to_stage: Stage
    term: Title

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.from_stage == self.to_stage:
            raise ValueError("`from_stage` and `to_stage` must differ")

    @property
    def scope_or_none(self) -> Scope | None:
        return Scope(stage=self.from_stage)


class CappedExpenditureApplied(ScopedEvent, tag=True, frozen=True, kw_only=True):
    financial_year: FinancialYear


class CappedExpenditureLifted(ScopedEvent, tag=True, frozen=True, kw_only=True):
    financial_year: FinancialYear


class DevolutionAgreed(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Sets the `devolved` flag (health devolution deals; not in design §4)."""


class FundingAllocated(ScopedEvent, tag=True, frozen=True, kw_only=True):
    amount_pence: Pence
    currency: Currency = "GBP"
    fund: Title
    financial_year: FinancialYear


class FootprintsMerged(BaseEvent, tag=True, frozen=True, kw_only=True):
    """Ends the merged systems and starts `into` from them."""

    merged: Annotated[list[Slug], Meta(min_length=2, max_length=50)]
    into: Slug
    name: Title
    code: Code | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(set(self.merged)) != len(self.merged):
            raise ValueError("`merged` lists a system twice")
        if self.into in self.merged:
            raise ValueError("`into` must be a new id, not one of `merged`")

    def subjects(self) -> list[str]:
        return [*self.merged, self.into]

    def created(self) -> list[str]:
        return [self.into]

    def must_be_new(self) -> list[str]:
        return [self.into]


class SystemAbsorbed(BaseEvent, tag=True, frozen=True, kw_only=True):
    """`organisation` ends, taken into the existing system `into` (not in design §4:
    FootprintsMerged always starts a new id, but sub-area systems were folded
    into footprints that kept theirs)."""

    organisation: Slug
    into: Slug

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.organisation == self.into:
            raise ValueError("a system cannot absorb itself")

    def subjects(self) -> list[str]:
        return [self.organisation]

    def required(self) -> list[tuple[str, SubjectKind]]:
        return [*super().required(), (self.into, "organisation")]


class OrganisationRenamed(BaseEvent, tag=True, frozen=True, kw_only=True):
    organisation: Slug
    name: Title

    def subjects(self) -> list[str]:
        return [self.organisation]


class EventCorrected(BaseEvent, tag=True, frozen=True, kw_only=True):
    """Reads the event `corrects` as `replacement` (or as retracted) from this record on."""

    corrects: UUID
    replacement: Correctable | None = None
    retract: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.replacement is None) == (not self.retract):
            raise ValueError("a correction needs exactly one of `replacement` or `retract: true`")

    def subjects(self) -> list[str]:
        return self.replacement.subjects() if self.replacement is not None else []

    def required(self) -> list[tuple[str, SubjectKind]]:
        refs = self.replacement.required() if self.replacement is not None else []
        if self.policy:
            refs.append((self.policy, "policy"))
        return refs

    def created(self) -> list[str]:
        return self.replacement.created() if self.replacement is not None else []

    @property
    def subject_kind(self) -> SubjectKind:
        return self.replacement.subject_kind if self.replacement is not None else "organisation"


#: Every event that can stand in the log's timeline (all but corrections).
Correctable = Union[  # noqa: UP007 - msgspec needs a runtime Union here
    PolicyPublished,
    OrganisationRegistered,
    FootprintDesignated,
    LeaderAppointed,
    PlanMilestone,
    PartnershipsFormed,
    AccountableCareSystemsDesignated,
    IntegratedCareSystemsDesignated,
    SystemsRenamed,
    CappedExpenditureApplied,
    CappedExpenditureLifted,
    DevolutionAgreed,
    FundingAllocated,
    FootprintsMerged,
    SystemAbsorbed,
    OrganisationRenamed,
]
Event = Union[Correctable, EventCorrected]  # noqa: UP007

EVENT_TYPES: tuple[type[BaseEvent], ...] = (*Correctable.__args__, EventCorrected)  # type: ignore[attr-defined]
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(t.__struct_config__.tag for t in EVENT_TYPES)  # type: ignore[misc]
