"""What the log says about one organisation at one point: the projected state.

``Status`` is what the projection stores per interval; ``OrganisationState``
adds the two coordinates a query asked for (design §6).
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
    event_id: str


class MilestoneRecord(msgspec.Struct, frozen=True, kw_only=True):
    milestone: Milestone
    date: dt.date
    precision: Precision
    url: str | None
    event_id: str


class Status(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    kind: Kind
    code: str | None = None
    region: str | None = None
    stage: Stage | None = None
    stage_term: str | None = None
    members: list[str] = []
    leader: str | None = None
    leader_role: str | None = None
    population: int | None = None
    flags: list[Flag] = []
    funding: list[FundingRecord] = []
    milestones: list[MilestoneRecord] = []
    since: dt.date
    last_event_id: str


class OrganisationState(Status, frozen=True, kw_only=True):
    """An organisation's state on `as_of`, as the log knew it at `known_at`."""

    as_of: dt.date
    known_at: dt.datetime


#: Stages in order, so that "earliest stage" has a meaning.
STAGE_ORDER: dict[Stage, int] = {stage: i for i, stage in enumerate(Stage)}
