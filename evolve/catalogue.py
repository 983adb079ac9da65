"""The event catalogue (docs/design.md, "The catalogue"): every policy event type, defined once.

These msgspec Structs are the single definition used by the store (the payload of each log
entry), the data files in ``events/`` and the REST API schema. On the wire an event is one flat
object tagged by ``type``; unknown fields are rejected and every field is strictly typed, so a
float where pence are expected, an unknown precision or an impossible date fail at decoding with
a message that names the field. Each type also says which organisations it names and in which
field (:meth:`BaseEvent.named`), which the rule book (:mod:`evolve.rules`) and the projection
use; what each type does to an organisation is in :mod:`evolve.fold`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Union
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from evolve.state import PopulationFigure
from evolve.types import (
    EARLIEST,
    LATEST,
    Code,
    Currency,
    FinancialYear,
    Kind,
    Milestone,
    Pence,
    Precision,
    Quote,
    SeedName,
    Slug,
    Stage,
    SubjectKind,
    Text,
    Title,
    Url,
    financial_year_end,
    financial_year_problem,
)

Members = Annotated[list[Slug], Meta(min_length=1, max_length=500)]


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

    Either an explicit list of ids, or every organisation in a stage or of a kind *on the
    event's effective date* (a broadcast).
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


def _check_figure(figure: PopulationFigure | UnsetType | None) -> None:
    if isinstance(figure, PopulationFigure):
        _check_precise(figure.as_of, figure.precision, "`population.as_of`")
        if not 0 <= figure.count <= 100_000_000:
            raise ValueError("`population.count` must be between 0 and 100,000,000")


def _check_precise(day: dt.date, precision: Precision, what: str) -> None:
    """A coarse date sits on its period's first day, so that it sorts and compares honestly."""
    if precision is Precision.MONTH and day.day != 1:
        raise ValueError(
            f"{what} {day.isoformat()} has precision 'month': write the first of the month, "
            f"{day.replace(day=1).isoformat()}"
        )
    if precision is Precision.YEAR and (day.month, day.day) != (1, 1):
        raise ValueError(
            f"{what} {day.isoformat()} has precision 'year': write the first of the year, "
            f"{day.replace(month=1, day=1).isoformat()}"
        )


def _distinct(ids: list[str], what: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"`{what}` lists an organisation twice")


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

    #: A valid instance, shown as the type's example in the API schema and docs.
    example: ClassVar[dict[str, Any]] = {}

    def __post_init__(self) -> None:
        if not EARLIEST <= self.effective <= LATEST:
            raise ValueError(
                f"effective date {self.effective.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}"
            )
        _check_precise(self.effective, self.precision, "effective")

    @property
    def type(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    def named(self) -> list[tuple[str, str]]:
        """(field, id) for each organisation the event names, the field as a JSON pointer
        (``/members/2``). Broadcasts name none: they select by state on their date."""
        return []

    def subjects(self) -> list[str]:
        """Ids whose state or standing this event concerns explicitly (in first-named order)."""
        return list(dict.fromkeys(org for _, org in self.named()))

    def created(self) -> list[str]:
        """Ids this event brings into existence."""
        return []

    def required(self) -> list[tuple[str, SubjectKind]]:
        """Ids that must already exist (or be created in the same batch), with their kind."""
        created = set(self.created())
        refs: list[tuple[str, SubjectKind]] = [(s, "organisation") for s in self.subjects() if s not in created]
        if self.policy is not None and self.policy not in created:
            refs.append((self.policy, "policy"))
        return refs

    def must_be_new(self) -> list[str]:
        """Ids that no event may have registered before."""
        return []

    @property
    def subject_kind(self) -> SubjectKind:
        """What the ids in `created()` name."""
        return "organisation"

    @property
    def scope_or_none(self) -> Scope | None:
        return None


class ScopedEvent(BaseEvent, frozen=True, kw_only=True):
    scope: Scope

    def named(self) -> list[tuple[str, str]]:
        return [(f"/scope/organisations/{i}", org) for i, org in enumerate(self.scope.organisations or [])]

    @property
    def scope_or_none(self) -> Scope | None:
        return self.scope


class OrganisationEvent(BaseEvent, frozen=True, kw_only=True):
    """An event about one organisation, named in `organisation`."""

    organisation: Slug

    def named(self) -> list[tuple[str, str]]:
        return [("/organisation", self.organisation)]


class PolicyPublished(BaseEvent, tag=True, frozen=True, kw_only=True):
    """A policy document or announcement is published (or its details updated)."""

    policy_id: Slug
    title: Title
    publisher: Title
    url: Url
    summary: Text | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "PolicyPublished",
        "effective": "2017-03-31",
        "precision": "day",
        "policy_id": "next-steps-5yfv",
        "title": "Next Steps on the NHS Five Year Forward View",
        "publisher": "NHS England",
        "url": "https://www.england.nhs.uk/publication/next-steps-on-the-nhs-five-year-forward-view/",
        "sources": [{"title": "NHS England: Next Steps", "url": "https://www.england.nhs.uk/five-year-forward-view/"}],
    }

    def subjects(self) -> list[str]:
        return [self.policy_id]

    def created(self) -> list[str]:
        return [self.policy_id]

    def required(self) -> list[tuple[str, SubjectKind]]:
        return [(self.policy, "policy")] if self.policy is not None and self.policy != self.policy_id else []

    @property
    def subject_kind(self) -> SubjectKind:
        return "policy"


class OrganisationRegistered(OrganisationEvent, tag=True, frozen=True, kw_only=True):
    """An organisation exists from `effective` (a sub-area system names its `parent`)."""

    name: Title
    kind: Kind
    code: Code | None = None
    ods_code: Code | None = None
    region: Slug | None = None
    parent: Slug | None = None
    population: PopulationFigure | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "OrganisationRegistered",
        "effective": "2017-06-15",
        "precision": "day",
        "organisation": "blackpool-and-fylde-coast",
        "name": "Blackpool and Fylde Coast",
        "kind": "health_system",
        "parent": "lancashire-and-south-cumbria",
        "sources": [{"title": "NHS England: accountable care systems", "url": "https://www.england.nhs.uk/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.parent == self.organisation:
            raise ValueError("an organisation cannot be its own `parent`")
        if self.parent is not None and self.kind is not Kind.HEALTH_SYSTEM:
            raise ValueError("only a health system can have a `parent` (a sub-area system)")
        _check_figure(self.population)

    def named(self) -> list[tuple[str, str]]:
        refs = [("/region", self.region), ("/parent", self.parent)]
        return [*super().named(), *((f, org) for f, org in refs if org is not None)]

    def created(self) -> list[str]:
        return [self.organisation]


class FootprintDesignated(OrganisationEvent, tag=True, frozen=True, kw_only=True):
    """A health system exists at stage `footprint` (an STP footprint); its `members` join it."""

    name: Title
    region: Slug | None = None
    code: Code | None = None
    ods_code: Code | None = None
    members: Annotated[list[Slug], Meta(max_length=500)] = []
    population: PopulationFigure | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "FootprintDesignated",
        "effective": "2016-03-15",
        "precision": "day",
        "organisation": "frimley-health-and-care",
        "name": "Frimley Health",
        "code": "E54000034",
        "sources": [{"title": "NHS England: footprints", "url": "https://www.england.nhs.uk/2016/03/footprint-areas/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        _distinct(self.members, "members")
        if self.organisation in self.members:
            raise ValueError("a system cannot be its own member")
        _check_figure(self.population)

    def named(self) -> list[tuple[str, str]]:
        region = [("/region", self.region)] if self.region is not None else []
        return [*super().named(), *region, *((f"/members/{i}", m) for i, m in enumerate(self.members))]

    def created(self) -> list[str]:
        return [self.organisation]


class OrganisationRestated(OrganisationEvent, tag=True, frozen=True, kw_only=True):
    """Some of an organisation's details change on `effective`: a field left out keeps its value,
    a field given as null is cleared (JSON merge patch); the organisation keeps its id."""

    name: Title | UnsetType = UNSET
    code: Code | UnsetType | None = UNSET
    ods_code: Code | UnsetType | None = UNSET
    region: Slug | UnsetType | None = UNSET
    parent: Slug | UnsetType | None = UNSET
    population: PopulationFigure | UnsetType | None = UNSET
    example: ClassVar[dict[str, Any]] = {
        "type": "OrganisationRestated",
        "effective": "2020-04-01",
        "precision": "day",
        "organisation": "humber-coast-and-vale",
        "code": "E54000051",
        "sources": [{"title": "ONS: STP (April 2020) names and codes", "url": "https://geoportal.statistics.gov.uk/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        # Spelled out, not a loop over getattr: every restatement read back from the log passes here.
        if (self.name is UNSET and self.code is UNSET and self.ods_code is UNSET and self.region is UNSET
                and self.parent is UNSET and self.population is UNSET):
            raise ValueError("a restatement changes at least one of `name`, `code`, `ods_code`, `region`, "
                             "`parent` or `population`")
        if self.parent == self.organisation:
            raise ValueError("an organisation cannot be its own `parent`")
        _check_figure(self.population)

    def named(self) -> list[tuple[str, str]]:
        refs = [("/region", self.region), ("/parent", self.parent)]
        return [*super().named(), *((f, org) for f, org in refs if isinstance(org, str))]


class OrganisationsMerged(BaseEvent, tag=True, frozen=True, kw_only=True):
    """The `merged` organisations end; `into` continues them: a new organisation (give its `name`)
    or an existing one, which absorbs them."""

    merged: Annotated[list[Slug], Meta(min_length=1, max_length=100)]
    into: Slug
    name: Title | None = None
    code: Code | None = None
    ods_code: Code | None = None
    region: Slug | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "OrganisationsMerged",
        "effective": "2020-04-01",
        "precision": "day",
        "merged": ["guildford-and-waverley-ccg", "north-west-surrey-ccg", "surrey-downs-ccg", "east-surrey-ccg"],
        "into": "surrey-heartlands-ccg",
        "name": "NHS Surrey Heartlands CCG",
        "ods_code": "92A",
        "sources": [{"title": "NHS Digital ODS: successor organisations", "url": "https://digital.nhs.uk/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        _distinct(self.merged, "merged")
        if self.into in self.merged:
            raise ValueError("`into` must not be one of `merged`")
        if self.name is None and any(f is not None for f in (self.code, self.ods_code, self.region)):
            raise ValueError("`code`, `ods_code` and `region` describe a new `into`: give its `name` too, or "
                             "restate the existing organisation")

    @property
    def creates(self) -> bool:
        """Whether `into` is a new organisation (it has a `name`)."""
        return self.name is not None

    def named(self) -> list[tuple[str, str]]:
        region = [("/region", self.region)] if self.region is not None else []
        return [*((f"/merged/{i}", m) for i, m in enumerate(self.merged)), ("/into", self.into), *region]

    def created(self) -> list[str]:
        return [self.into] if self.creates else []

    def must_be_new(self) -> list[str]:
        return self.created()


class OrganisationsDissolved(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """The organisations end, with no successor (e.g. every CCG on 1 July 2022)."""

    example: ClassVar[dict[str, Any]] = {
        "type": "OrganisationsDissolved",
        "effective": "2022-07-01",
        "precision": "day",
        "scope": {"kind": "ccg"},
        "sources": [{"title": "NHS England: integrated care in your area",
                     "url": "https://www.england.nhs.uk/integratedcare/integrated-care-in-your-area/"}],
    }


class _Membership(OrganisationEvent, frozen=True, kw_only=True):
    members: Members

    def __post_init__(self) -> None:
        super().__post_init__()
        _distinct(self.members, "members")
        if self.organisation in self.members:
            raise ValueError("a system cannot be its own member")

    def named(self) -> list[tuple[str, str]]:
        return [*super().named(), *((f"/members/{i}", m) for i, m in enumerate(self.members))]


class MembersJoined(_Membership, tag=True, frozen=True, kw_only=True):
    """The `members` join the health system `organisation`."""

    example: ClassVar[dict[str, Any]] = {
        "type": "MembersJoined",
        "effective": "2022-07-01",
        "precision": "day",
        "organisation": "derby-and-derbyshire",
        "members": ["glossop"],
        "sources": [{"title": "Joined Up Care Derbyshire: Glossop",
                     "url": "https://joinedupcarederbyshire.co.uk/about/what-is-jucd/glossop"}],
    }


class MembersLeft(_Membership, tag=True, frozen=True, kw_only=True):
    """The `members` leave the health system `organisation`."""

    example: ClassVar[dict[str, Any]] = {**MembersJoined.example, "type": "MembersLeft",
                                         "organisation": "greater-manchester"}


class LeaderAppointed(OrganisationEvent, tag=True, frozen=True, kw_only=True):
    """`leader` leads the organisation from `effective`, ending the previous appointment that day."""

    leader: Title
    role: Title | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "LeaderAppointed",
        "effective": "2016-03-15",
        "precision": "day",
        "organisation": "frimley-health-and-care",
        "leader": "Sir Andrew Morris",
        "role": "Chief Executive, Frimley Health NHS Foundation Trust",
        "sources": [{"title": "NHS England: footprints", "url": "https://www.england.nhs.uk/2016/03/footprint-areas/"}],
    }


class LeaderLeft(OrganisationEvent, tag=True, frozen=True, kw_only=True):
    """The current appointment ends with no known successor (`leader`, if given, must be the one leaving)."""

    leader: Title | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "LeaderLeft",
        "effective": "2017-04-01",
        "precision": "month",
        "organisation": "greater-manchester",
        "leader": "Sir Howard Bernstein",
        "sources": [{"title": "BBC: Sir Howard Bernstein to retire",
                     "url": "https://feeds.bbci.co.uk/news/uk-england-manchester-37370980"}],
    }


class PlanMilestone(ScopedEvent, tag=True, frozen=True, kw_only=True):
    milestone: Milestone
    url: Url | None = None
    example: ClassVar[dict[str, Any]] = {
        "type": "PlanMilestone",
        "effective": "2016-10-21",
        "precision": "day",
        "scope": {"stage": "footprint"},
        "milestone": "final_submitted",
        "sources": [{"title": "HSJ: most areas should publish STPs by the end of the year",
                     "url": "https://www.hsj.co.uk/7010542.article"}],
    }


class PartnershipsFormed(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `partnership`."""

    example: ClassVar[dict[str, Any]] = {
        "type": "PartnershipsFormed",
        "effective": "2017-03-31",
        "precision": "day",
        "scope": {"stage": "footprint"},
        "policy": "next-steps-5yfv",
        "sources": [{"title": "NHS England: Next Steps", "url": "https://www.england.nhs.uk/five-year-forward-view/"}],
    }


class AccountableCareSystemsDesignated(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `acs`."""

    shadow: bool = True
    example: ClassVar[dict[str, Any]] = {
        "type": "AccountableCareSystemsDesignated",
        "effective": "2017-06-15",
        "precision": "day",
        "scope": {"organisations": ["frimley-health-and-care"]},
        "shadow": True,
        "sources": [{"title": "NHS England: accountable care systems", "url": "https://www.england.nhs.uk/"}],
    }


class IntegratedCareSystemsDesignated(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Stage -> `ics` for systems designated after the February 2018 renaming."""

    example: ClassVar[dict[str, Any]] = {
        "type": "IntegratedCareSystemsDesignated",
        "effective": "2018-05-24",
        "precision": "day",
        "scope": {"organisations": ["gloucestershire"]},
        "sources": [{"title": "HSJ: four new integrated care systems named",
                     "url": "https://www.hsj.co.uk/7022494.article"}],
    }


class SystemsRenamed(BaseEvent, tag=True, frozen=True, kw_only=True):
    """Every system in `from_stage` on the effective date moves to `to_stage`."""

    from_stage: Stage
    to_stage: Stage
    term: Title
    example: ClassVar[dict[str, Any]] = {
        "type": "SystemsRenamed",
        "effective": "2018-02-02",
        "precision": "day",
        "from_stage": "acs",
        "to_stage": "ics",
        "term": "integrated care system",
        "sources": [{"title": "HSJ: ACSs get rebrand",
                     "url": "https://nhsfunding.info/aco/acss-get-rebrand-nhs-england-seeks-next-cohort/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.from_stage == self.to_stage:
            raise ValueError("`from_stage` and `to_stage` must differ")

    @property
    def scope_or_none(self) -> Scope | None:
        return Scope(stage=self.from_stage)


class _FinancialYearEvent(ScopedEvent, frozen=True, kw_only=True):
    financial_year: FinancialYear

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = financial_year_problem(self.financial_year)
        if problem is not None:
            raise ValueError(problem)


class CappedExpenditureApplied(_FinancialYearEvent, tag=True, frozen=True, kw_only=True):
    """The capped expenditure flag holds from `effective` to the end of `financial_year` (applying it
    for the next year extends it)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.effective > financial_year_end(self.financial_year):
            raise ValueError(f"effective {self.effective.isoformat()} is after the end of {self.financial_year}")

    example: ClassVar[dict[str, Any]] = {
        "type": "CappedExpenditureApplied",
        "effective": "2017-04-01",
        "precision": "month",
        "scope": {"organisations": ["devon", "somerset"]},
        "financial_year": "2017/18",
        "sources": [{"title": "38 Degrees: the capped expenditure process areas",
                     "url": "https://home.38degrees.org.uk/2017/08/11/nhs-secret-cuts-capped-expenditure-process-areas/"}],
    }


class CappedExpenditureLifted(_FinancialYearEvent, tag=True, frozen=True, kw_only=True):
    """The capped expenditure flag ends early, on `effective`."""

    example: ClassVar[dict[str, Any]] = {**CappedExpenditureApplied.example, "type": "CappedExpenditureLifted",
                                         "effective": "2018-01-01"}


class DevolutionAgreed(ScopedEvent, tag=True, frozen=True, kw_only=True):
    """Sets the `devolved` flag (a health devolution deal), with no end."""

    example: ClassVar[dict[str, Any]] = {
        "type": "DevolutionAgreed",
        "effective": "2016-04-01",
        "precision": "day",
        "scope": {"organisations": ["greater-manchester"]},
        "sources": [{"title": "Greater Manchester health devolution", "url": "https://www.gmhsc.org.uk/"}],
    }


class _Funding(_FinancialYearEvent, frozen=True, kw_only=True):
    amount_pence: Pence
    currency: Currency = "GBP"
    fund: Title


class FundingAllocated(_Funding, tag=True, frozen=True, kw_only=True):
    """Money allocated (not only planned) to the organisations."""

    example: ClassVar[dict[str, Any]] = {
        "type": "FundingAllocated",
        "effective": "2016-07-21",
        "precision": "day",
        "scope": {"organisations": ["nhs-england"]},
        "amount_pence": 180_000_000_000,
        "fund": "Sustainability and Transformation Fund (sustainability)",
        "financial_year": "2016/17",
        "sources": [{"title": "King's Fund: the Sustainability and Transformation Fund",
                     "url": "https://www.kingsfund.org.uk/"}],
    }


class FundingPlanned(_Funding, tag=True, frozen=True, kw_only=True):
    """A planned or announced envelope: money promised, not (yet) allocated."""

    example: ClassVar[dict[str, Any]] = {**FundingAllocated.example, "type": "FundingPlanned",
                                         "effective": "2016-03-15", "amount_pence": 340_000_000_000,
                                         "fund": "Sustainability and Transformation Fund", "financial_year": "2020/21"}


class EventCorrected(BaseEvent, tag=True, frozen=True, kw_only=True):
    """Reads the event `corrects` as `replacement` (or as retracted) from this record on."""

    corrects: UUID
    replacement: Correctable | None = None
    retract: bool = False
    example: ClassVar[dict[str, Any]] = {
        "type": "EventCorrected",
        "effective": "2026-11-30",
        "precision": "day",
        "corrects": "2585c6f2-52fb-56f9-8177-a3147c25d15e",
        "retract": True,
        "note": "the appointment was announced but never took effect",
        "sources": [{"title": "A later statement", "url": "https://www.england.nhs.uk/"}],
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.replacement is None) == (not self.retract):
            raise ValueError("a correction needs exactly one of `replacement` or `retract: true`")

    def named(self) -> list[tuple[str, str]]:
        inner = self.replacement.named() if self.replacement is not None else []
        return [(f"/replacement{field}", org) for field, org in inner]

    def subjects(self) -> list[str]:
        return self.replacement.subjects() if self.replacement is not None else []

    def required(self) -> list[tuple[str, SubjectKind]]:
        refs = self.replacement.required() if self.replacement is not None else []
        if self.policy:
            refs.append((self.policy, "policy"))
        return refs

    def created(self) -> list[str]:
        return self.replacement.created() if self.replacement is not None else []

    def must_be_new(self) -> list[str]:
        return self.replacement.must_be_new() if self.replacement is not None else []

    @property
    def subject_kind(self) -> SubjectKind:
        return self.replacement.subject_kind if self.replacement is not None else "organisation"


#: Every event that can stand in the log's timeline (all but corrections).
Correctable = Union[  # noqa: UP007 - msgspec needs a runtime Union here
    PolicyPublished,
    OrganisationRegistered,
    FootprintDesignated,
    OrganisationRestated,
    OrganisationsMerged,
    OrganisationsDissolved,
    MembersJoined,
    MembersLeft,
    LeaderAppointed,
    LeaderLeft,
    PlanMilestone,
    PartnershipsFormed,
    AccountableCareSystemsDesignated,
    IntegratedCareSystemsDesignated,
    SystemsRenamed,
    CappedExpenditureApplied,
    CappedExpenditureLifted,
    DevolutionAgreed,
    FundingAllocated,
    FundingPlanned,
]
Event = Union[Correctable, EventCorrected]  # noqa: UP007

EVENT_TYPES: tuple[type[BaseEvent], ...] = (*Correctable.__args__, EventCorrected)  # type: ignore[attr-defined]
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(t.__struct_config__.tag for t in EVENT_TYPES)  # type: ignore[misc]
