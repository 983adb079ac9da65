"""Organisations: the projected state of each organisation on a date, and its history."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import Example
from litestar.params import PathParameter, QueryParameter

from api import problems
from api.schemas import AsOf, KnownAt, Limit, OrganisationCursor, System, moment
from evolve.query import DEFAULT_LIMIT, History, OrganisationPage
from evolve.state import OrganisationState
from evolve.types import SLUG_PATTERN, Kind, Stage

OrganisationId = Annotated[
    str,
    PathParameter(
        description="Organisation id: a lowercase slug.",
        pattern=SLUG_PATTERN,
        max_length=100,
        examples=[Example(summary="Frimley Health and Care", value="frimley-health-and-care")],
    ),
]


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["Organisations"]

    @get(
        operation_id="ListOrganisations",
        summary="List organisations on a date",
        sync_to_thread=True,
        responses=problems.responses(400),
    )
    def list_organisations(
        self,
        system: System,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        kind: Annotated[
            Kind | None,
            QueryParameter(description="Only organisations of this kind.", examples=[Example(value="health_system")]),
        ] = None,
        stage: Annotated[
            Stage | None,
            QueryParameter(description="Only health systems at this stage.", examples=[Example(value="acs")]),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                description="Name or id contains this text (case-insensitive).",
                max_length=200,
                examples=[Example(value="frimley")],
            ),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: OrganisationCursor = None,
    ) -> OrganisationPage:
        """Every organisation that existed on `as_of`, as the log knew it at `known_at`, ordered by id.

        Paginated: pass `next_cursor` back as `cursor` for the next page (`null` on the last page).
        """
        return system.queries.organisations(
            as_of, moment(known_at), kind=kind, stage=stage, q=q, limit=limit, cursor=cursor
        )

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
        return Response(state, headers={"X-Subject-Version": str(system.store.version(org_id))})

    @get(
        "/{org_id:str}/history",
        operation_id="GetOrganisationHistory",
        summary="One organisation's history as intervals",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def get_history(self, system: System, org_id: OrganisationId, known_at: KnownAt = None) -> History:
        """The organisation's states over valid time, as intervals `[valid_from, valid_to)` (`valid_to` is `null`
        for the current one), each with the event that began it, as the log knew it at `known_at`."""
        return system.queries.history(org_id, moment(known_at))
