"""Organisations: the projected state of each organisation on a date, and its history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader

from api import csv_responses, problems
from api.parameters import (
    AsOf,
    CodeFilter,
    KindFilter,
    KnownAt,
    Limit,
    OrganisationCursor,
    OrganisationId,
    StageFilter,
    System,
    TextFilter,
    moment,
)
from evolve.answers import History, Memberships, OrganisationPage
from evolve.bootstrap import Evolve
from evolve.export import STATE_COLUMNS
from evolve.query import DEFAULT_LIMIT
from evolve.state import OrganisationState
from evolve.types import Kind, Stage

LIST_DESCRIPTION = """Every organisation that existed on `as_of`, as the log knew it at `known_at`, ordered by id.

Paginated: pass `next_cursor` back as `cursor` for the next page (`null` on the last page)."""


def _organisations_csv(
    system: Evolve,
    as_of: dt.date | None,
    known_at: str | None,
    kind: Kind | None,
    stage: Stage | None,
    q: str | None,
    code: str | None,
    cursor: str | None,
) -> Response[Any]:
    def fetch(known: dt.datetime | None, after: str | None) -> OrganisationPage:
        page_rows = csv_responses.PAGE_ROWS
        return system.queries.organisations(
            as_of, known, kind=kind, stage=stage, q=q, code=code, limit=page_rows, cursor=after
        )

    return csv_responses.organisations_csv(csv_responses.organisation_rows(fetch, moment(known_at), cursor))


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["Organisations"]

    @get(
        operation_id="ListOrganisations",
        summary="List organisations on a date",
        description=LIST_DESCRIPTION + csv_responses.CSV_NOTE + ", ".join(f"`{c}`" for c in STATE_COLUMNS) + ".",
        sync_to_thread=True,
        responses=problems.responses(400),
        operation_class=csv_responses.with_csv(STATE_COLUMNS),
    )
    def list_organisations(
        self,
        request: Request[Any, Any, Any],
        system: System,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        kind: KindFilter = None,
        stage: StageFilter = None,
        q: TextFilter = None,
        code: CodeFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: OrganisationCursor = None,
    ) -> Response[OrganisationPage]:
        if csv_responses.wants_csv(request):
            return _organisations_csv(system, as_of, known_at, kind, stage, q, code, cursor)
        page = system.queries.organisations(
            as_of, moment(known_at), kind=kind, stage=stage, q=q, code=code, limit=limit, cursor=cursor
        )
        return Response(page, headers={"Vary": "Accept"})

    @get(
        "/{org_id:str}",
        operation_id="GetOrganisation",
        summary="One organisation's state on a date",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
        response_headers=[
            ResponseHeader(
                name="X-Subject-Version",
                documentation_only=True,
                required=True,
                description="How many log entries have touched this organisation: send it back as "
                '`If-Match: "<id>:<version>"` on `POST /events` for optimistic concurrency.',
            )
        ],
    )
    def get_organisation(
        self, system: System, org_id: OrganisationId, as_of: AsOf = None, known_at: KnownAt = None
    ) -> Response[OrganisationState]:
        """The organisation's state on `as_of` as known at `known_at`: name, kind, stage, members, leader, flags,
        funding, milestones, and the event that last changed it.

        404 if the id is unknown, or the organisation did not exist on that date.
        """
        state = system.queries.state(org_id, as_of, moment(known_at))
        return Response(state, headers={"X-Subject-Version": str(system.version(org_id))})

    @get(
        "/{org_id:str}/history",
        operation_id="GetOrganisationHistory",
        summary="One organisation's history as intervals",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def get_history(self, system: System, org_id: OrganisationId, known_at: KnownAt = None) -> History:
        """The organisation's states over valid time, as intervals `[valid_from, valid_to)` (`valid_to` is `null`
        for the current one), each with the event that began it, as the log knew it at `known_at`; and its
        leaders' appointments (`leaders`), each from its start to the next appointment, the leader leaving or
        the organisation's end."""
        return system.queries.history(org_id, moment(known_at))

    @get(
        "/{org_id:str}/memberships",
        operation_id="GetOrganisationMemberships",
        summary="The systems one organisation belonged to, with intervals",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def get_memberships(self, system: System, org_id: OrganisationId, known_at: KnownAt = None) -> Memberships:
        """Every health system that listed the organisation as a member (`relation: member`), or was its
        parent while it was a sub-area system (`relation: parent`), each over `[valid_from, valid_to)`
        (`valid_to` is `null` while it lasts), as the log knew it at `known_at`. A member's merger moves
        its memberships to its successor; its end ends them."""
        return system.queries.memberships(org_id, moment(known_at))


class OrganisationCsvController(Controller):
    """`/organisations.csv`: the listing as CSV, for links and spreadsheets that cannot send `Accept`."""

    path = "/organisations.csv"
    tags = ["Organisations"]

    @get(
        operation_id="ListOrganisationsCsv",
        summary="List organisations on a date, as CSV",
        sync_to_thread=True,
        responses=problems.responses(400),
        operation_class=csv_responses.csv_only(STATE_COLUMNS, "Every matching organisation, one CSV row each."),
    )
    def list_organisations_csv(
        self,
        system: System,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        kind: KindFilter = None,
        stage: StageFilter = None,
        q: TextFilter = None,
        code: CodeFilter = None,
    ) -> Response[Any]:
        """`GET /organisations` with `Accept: text/csv`: every matching organisation on `as_of` (as known at
        `known_at`), ordered by id, streamed with a header row; no pagination."""
        return _organisations_csv(system, as_of, known_at, kind, stage, q, code, None)
