"""Events: read the log, and append to it (the only write)."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader

from api import changefeed, csv_responses, problems
from api.auth import SECURITY, require_write_token
from api.bodies import IF_MATCH_FORMAT, MAX_BATCH, check_media_type, decode_events, parse_if_match, request_digest
from api.parameters import (
    EffectiveFrom,
    EffectiveTo,
    EventCursor,
    EventId,
    IdempotencyKey,
    Limit,
    SubjectFilter,
    System,
    TypeFilter,
)
from api.schemas import AppendedEvents
from evolve.answers import EventPage
from evolve.bootstrap import Evolve
from evolve.export import EVENT_COLUMNS
from evolve.query import DEFAULT_LIMIT
from evolve.records import EventRecord

LIST_DESCRIPTION = "The log's records in order of position, optionally filtered; paginated by cursor."

APPEND_DESCRIPTION = f"""Append one event (a JSON object) or a batch (a JSON array of up to {MAX_BATCH} events).

A batch is atomic: if any event is invalid nothing is appended, and the problem's `pointer` names the event's
index and field (e.g. `/2/scope`). The server assigns `id`, `position`, `recorded_at`, `subjects` and `hash`.

* **Auth**: needs `Authorization: Bearer <token>` (401 without it or when malformed, 403 for a wrong token).
* **Reply**: 201 with `Location: /events/<id of the first event>` and `X-Evolve-Position` (the log position of the
  last appended event). The body is the `EventRecord` for a single event, or `{{"items": [EventRecord, ...]}}` for a
  batch.
* **Idempotency**: with an `Idempotency-Key` header, retrying the same request (same events and `If-Match`) returns
  the original 201 reply and appends nothing; the same key with another request is a 409 problem.
* **Optimistic concurrency**: `If-Match: {IF_MATCH_FORMAT}` (one or more, comma-separated, e.g.
  `If-Match: "frimley-health-and-care:4", "five-year-forward-view:1"`) appends only if each subject is still at that
  version (`X-Subject-Version` of `GET /organisations/{{id}}`; 0 for an id never seen); otherwise 412 with
  `subject`, `expected` and `actual`. A write conflict the store cannot resolve by retrying is a 409.
* **Errors**: 400 for malformed JSON or headers, 415 for a non-JSON body, 413 above the size limit, 422 for an
  event that breaks the catalogue's rules, 409 for one that clashes with the log (e.g. an unknown organisation).
  Integers (e.g. `amount_pence`) are written without a decimal point: `100.0` is refused, money is never a float.
  Rules JSON Schema cannot state: `into` of `OrganisationsMerged` is not one of `merged`; an organisation is
  not its own member or `parent`; a financial year's second part is the year after its first (`2017/18`).
* **The log's rules** (a 409 naming the field): every organisation an event names exists on its `effective`
  date (so a member cannot join a dissolved system, nothing is dissolved twice, nothing names an organisation
  before it was created), an event that creates one finds its id free, `LeaderLeft` ends an appointment that
  exists, `MembersLeft` removes a member the system has, `region` names a region and `parent` a health system.
  A back-dated event or a correction that would leave an event already in the log breaking these rules is
  refused too.
"""


def _events_csv(
    system: Evolve,
    type_: str | None,
    subject: str | None,
    from_: dt.date | None,
    to: dt.date | None,
    cursor: str | None,
) -> Response[Any]:
    def fetch(after: str | None) -> EventPage:
        return system.queries.events(
            type=type_, subject=subject, from_day=from_, to_day=to, limit=csv_responses.PAGE_ROWS, cursor=after
        )

    head = system.position()
    return csv_responses.events_csv(csv_responses.event_rows(fetch, cursor, head))


class EventController(Controller):
    path = "/events"
    tags = ["Events"]

    @get(operation_id="ListEvents", summary="List events in log order", sync_to_thread=True,
         description=LIST_DESCRIPTION + csv_responses.CSV_NOTE + ", ".join(f"`{c}`" for c in EVENT_COLUMNS) + ".",
         responses=problems.responses(400), operation_class=csv_responses.with_csv(EVENT_COLUMNS))
    def list_events(
        self,
        request: Request[Any, Any, Any],
        system: System,
        type_: TypeFilter = None,
        subject: SubjectFilter = None,
        from_: EffectiveFrom = None,
        to: EffectiveTo = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: EventCursor = None,
    ) -> Response[EventPage]:
        if csv_responses.wants_csv(request):
            return _events_csv(system, type_, subject, from_, to, cursor)
        page = system.queries.events(type=type_, subject=subject, from_day=from_, to_day=to, limit=limit, cursor=cursor)
        return Response(page, headers={"Vary": "Accept"})

    @get("/{event_id:uuid}", operation_id="GetEvent", summary="One event", sync_to_thread=True,
         responses=problems.responses(400, 404))
    def get_event(
        self,
        system: System,
        event_id: EventId,
    ) -> EventRecord:
        """A stored event: the event as appended, with its `id`, `position`, `recorded_at`, `subjects` and hash."""
        return system.queries.event(event_id)

    @post(
        operation_id="AppendEvents",
        summary="Append one event or an atomic batch",
        description=APPEND_DESCRIPTION,
        guards=[require_write_token],
        security=SECURITY,
        status_code=201,
        responses=problems.responses(400, 401, 403, 409, 412, 413, 415, 422),
        response_headers=[
            ResponseHeader(name="Location", documentation_only=True, required=True,
                           description="`/events/<id>` of the (first) appended event."),
            ResponseHeader(name="X-Evolve-Position", documentation_only=True, required=True,
                           description="Log position of the last appended event."),
        ],
    )
    async def append_events(
        self,
        request: Request[Any, Any, Any],
        system: System,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[EventRecord | AppendedEvents]:
        check_media_type(request.headers.get("content-type"))
        events, batch = decode_events(await request.body())
        expected = parse_if_match(request.headers.get("if-match"))
        digest = request_digest(events, batch, expected)
        append = partial(system.append, events, expected=expected, idempotency_key=idempotency_key, digest=digest)
        records = await anyio.to_thread.run_sync(append)
        changefeed.notify(request.app)
        headers = {"Location": f"/events/{records[0].id}", "X-Evolve-Position": str(records[-1].position)}
        body: EventRecord | AppendedEvents = AppendedEvents(items=records) if batch else records[0]
        return Response(body, status_code=201, headers=headers)


class EventCsvController(Controller):
    """`/events.csv`: the log as CSV, for links and spreadsheets that cannot send `Accept`."""

    path = "/events.csv"
    tags = ["Events"]

    @get(operation_id="ListEventsCsv", summary="List events in log order, as CSV", sync_to_thread=True,
         responses=problems.responses(400),
         operation_class=csv_responses.csv_only(EVENT_COLUMNS, "Every matching event, one CSV row each."))
    def list_events_csv(
        self,
        system: System,
        type_: TypeFilter = None,
        subject: SubjectFilter = None,
        from_: EffectiveFrom = None,
        to: EffectiveTo = None,
    ) -> Response[Any]:
        """`GET /events` with `Accept: text/csv`: every matching event in log order (up to the log head when the
        request began), streamed with a header row; no pagination."""
        return _events_csv(system, type_, subject, from_, to, None)
