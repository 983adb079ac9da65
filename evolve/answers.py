"""The shapes of the read model's answers (the REST API returns them as they are)."""

from __future__ import annotations

import datetime as dt

import msgspec

from evolve.records import EventRecord
from evolve.series import Step
from evolve.state import Appointment, OrganisationState, Status
from evolve.types import Precision


class OrganisationPage(msgspec.Struct, frozen=True):
    items: list[OrganisationState]
    next_cursor: str | None


class Interval(msgspec.Struct, frozen=True, kw_only=True):
    """A state over valid time, ``[valid_from, valid_to)`` (`valid_to` null: still so)."""

    valid_from: dt.date
    valid_to: dt.date | None
    state: Status
    event_id: str


class AppointmentSpan(msgspec.Struct, frozen=True, kw_only=True):
    """One appointment of a leader over valid time: from its start until the next appointment,
    the leader leaving or the organisation ending (`valid_to` null: still in post)."""

    appointment: Appointment
    valid_from: dt.date
    valid_to: dt.date | None


class History(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    known_at: dt.datetime
    items: list[Interval]
    #: Every appointment in the history, in order.
    leaders: list[AppointmentSpan] = []


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation belonged to `system` over ``[valid_from, valid_to)``, as a `member` of it or as
    its sub-area (`relation` ``parent``: `system` was its parent)."""

    system: str
    relation: str
    valid_from: dt.date
    valid_to: dt.date | None


class Memberships(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    known_at: dt.datetime
    items: list[Membership]


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """Counts on `as_of`. Health systems count by stage twice: the top-level systems (`by_stage`,
    the 44 footprints, later 42 systems) and the sub-area systems inside them
    (`sub_areas_by_stage`); NHS England's "14 ICSs" of 2018-19 are the ICSs of both."""

    as_of: dt.date
    known_at: dt.datetime
    total: int
    by_stage: dict[str, int]
    sub_areas_by_stage: dict[str, int]
    by_kind: dict[str, int]
    flags: dict[str, int]


class Series(msgspec.Struct, frozen=True, kw_only=True):
    """The counts of :class:`Stats` on regular dates (`step` apart, from `start` to `end`), all as known
    at one `known_at`, for charts of how the system evolved."""

    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")
    step: Step
    known_at: dt.datetime
    items: list[Stats]


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
