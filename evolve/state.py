"""What the log says about one organisation at one point: the projected state.

``Status`` is what the projection stores per interval; ``OrganisationState`` adds the two
coordinates a query asked for and the relations read from other organisations' states
(``member_of``, ``sub_areas``), which are not stored twice.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from evolve.types import Flag, Kind, Milestone, Pence, Precision, Stage


class FundingRecord(msgspec.Struct, frozen=True, kw_only=True):
    fund: str
    financial_year: str
    amount_pence: Pence
    currency: str
    #: A planned envelope (``FundingPlanned``), not money allocated (``FundingAllocated``).
    planned: bool = False
    event_id: str


class MilestoneRecord(msgspec.Struct, frozen=True, kw_only=True):
    milestone: Milestone
    date: dt.date
    precision: Precision
    url: str | None
    event_id: str


class Appointment(msgspec.Struct, frozen=True, kw_only=True):
    """Who leads an organisation, in which role, since when (the appointment's effective date)."""

    name: str
    role: str | None = None
    since: dt.date
    event_id: str


class FlagPeriod(msgspec.Struct, frozen=True, kw_only=True):
    """A flag that holds from `since`; a flag tied to a financial year holds `until` its last day."""

    flag: Flag
    since: dt.date
    until: dt.date | None = None
    financial_year: str | None = None
    event_id: str


class PopulationFigure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A population as a source gives it: the count, and the date of the figure at its precision."""

    count: int
    as_of: dt.date
    precision: Precision


class Status(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    kind: Kind
    code: str | None = None  # ONS geography code (E54..., E38...)
    ods_code: str | None = None  # NHS Organisation Data Service code (QYG, 10C, RDU)
    region: str | None = None  # the id of an organisation of kind `region`
    parent: str | None = None  # set on a sub-area system: the system it is part of
    stage: Stage | None = None
    stage_term: str | None = None
    members: list[str] = []
    leader: Appointment | None = None
    population: PopulationFigure | None = None
    flags: list[FlagPeriod] = []
    funding: list[FundingRecord] = []
    milestones: list[MilestoneRecord] = []
    since: dt.date
    last_event_id: str


class OrganisationState(Status, frozen=True, kw_only=True):
    """An organisation's state on `as_of`, as the log knew it at `known_at`."""

    as_of: dt.date
    known_at: dt.datetime
    #: The systems that list this organisation as a member on `as_of`.
    member_of: list[str] = []
    #: The sub-area systems whose `parent` is this organisation on `as_of`.
    sub_areas: list[str] = []


#: Stages in order, so that "earliest stage" has a meaning.
STAGE_ORDER: dict[Stage, int] = {stage: i for i, stage in enumerate(Stage)}
