"""What changed between two dates, for one organisation or for all, each change tied to its cause."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, get

from api import problems
from api.parameters import DiffFrom, DiffTo, KnownAt, OrganisationId, System, moment
from evolve.diff import Diff, FieldChange


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One step in an organisation's state: the fields that changed on `date`, and the event that caused it."""

    organisation: str
    name: str
    date: dt.date
    changes: list[FieldChange]
    event_id: str | None = msgspec.field(default=None)
    event_url: str | None = msgspec.field(default=None)


class Changes(msgspec.Struct, frozen=True, kw_only=True):
    """The changes after `from`, up to and including `to`, in date order, as the log knew them at `known_at`."""

    from_date: dt.date = msgspec.field(name="from")
    to_date: dt.date = msgspec.field(name="to")
    known_at: dt.datetime
    items: list[Change]


DESCRIPTION = """Each item is one organisation's step on one date: the fields that changed (`field`, `before`,
`after`) and the event that caused it (`event_id`, and `event_url`, its `GET /events/{{event_id}}`).

* `field: exists` with `before: false` is an organisation appearing (a join: a new footprint, a merger's new system);
  `after: false` is it ceasing to exist (a leave: merged or absorbed).
* `stage`/`stage_term`: a move along footprint -> partnership -> acs -> ics -> statutory_ics.
* `members` lists who joined in `after` and who left in `before`; `flags` likewise (e.g. `capped_expenditure`).
* `funding` and `milestones` list what was added.

{scope}"""


def _linked(diff: Diff) -> Changes:
    items = [
        Change(
            organisation=t.organisation,
            name=t.name,
            date=t.date,
            changes=t.changes,
            event_id=t.event_id,
            event_url=f"/events/{t.event_id}" if t.event_id else None,
        )
        for t in diff.items
    ]
    return Changes(from_date=diff.from_date, to_date=diff.to_date, known_at=diff.known_at, items=items)


class DiffController(Controller):
    path = "/"
    tags = ["Organisations"]

    @get(
        "/diff",
        operation_id="GetDiff",
        summary="What changed across all organisations between two dates",
        description=DESCRIPTION.format(scope="Every organisation's changes, ordered by date then organisation id."),
        sync_to_thread=True,
        responses=problems.responses(400),
    )
    def diff(self, system: System, from_: DiffFrom, to: DiffTo, known_at: KnownAt = None) -> Changes:
        return _linked(system.queries.diff(from_, to, known_at=moment(known_at)))

    @get(
        "/organisations/{org_id:str}/diff",
        operation_id="GetOrganisationDiff",
        summary="What changed for one organisation between two dates",
        description=DESCRIPTION.format(scope="404 if the organisation id is unknown."),
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def organisation_diff(
        self, system: System, org_id: OrganisationId, from_: DiffFrom, to: DiffTo, known_at: KnownAt = None
    ) -> Changes:
        return _linked(system.queries.diff(from_, to, org=org_id, known_at=moment(known_at)))


__all__ = ["Change", "Changes", "DiffController"]
