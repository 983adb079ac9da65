"""The change feed: every appended event as Server-Sent Events, resumable by log position.

How it works: each stream polls the projection for entries after the last position it sent
(``Queries.events`` with an events cursor), so it sees appends made by any process sharing the
database. When *this* process appends (``POST /events``), :func:`notify` wakes every stream at
once, so local latency is a few milliseconds rather than a poll interval. Reads are batched
(:data:`BATCH` events per query), a comment heartbeat is sent when the stream has been quiet for
:data:`HEARTBEAT_SECONDS`, and a stream ends when the client disconnects (Litestar cancels it),
when the server starts shutting down (checked at every wake-up), or, for a client that did not ask
for ``text/event-stream``, once it has sent the backlog.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.to_thread
import msgspec
from litestar import Controller, Request, get
from litestar.enums import ParamType
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import QueryParameter
from litestar.response import Stream

from api import problems
from api.changefeed import ChangeNotifier, notifier, server_exiting
from api.parameters import SubjectFilter, System, TypeFilter
from evolve.answers import EventPage
from evolve.bootstrap import Evolve
from evolve.cursors import encode_cursor
from evolve.errors import InvalidQuery
from evolve.records import EventRecord

MEDIA_TYPE = "text/event-stream"
#: Events read (and sent) per query; a full batch is followed at once by the next.
BATCH = 100
#: How often a stream looks for entries appended by other processes.
POLL_SECONDS = 1.0
#: A comment line is sent after this long without any event, so proxies keep the connection open.
HEARTBEAT_SECONDS = 15.0
#: Sent to the client as `retry:`: how long an EventSource waits before reconnecting.
RETRY_MILLISECONDS = 2000
#: Largest accepted position (Last-Event-ID / after): 15 digits.
MAX_POSITION = 10**15 - 1

LAST_EVENT_ID = re.compile(r"[0-9]{1,15}")

_encode = msgspec.json.Encoder().encode


def _message(record: EventRecord) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (record.position, _encode(record))


async def feed(
    system: Evolve,
    wakeup: ChangeNotifier,
    after: int,
    type_: str | None,
    subject: str | None,
    follow: bool,
    first: EventPage,
) -> AsyncIterator[bytes]:
    """The SSE body: the first page (already read), then every later matching entry, in log order."""
    yield b": evolve change feed\n\n"  # the response starts at once, even before the first event
    retry = b"retry: %d\n" % RETRY_MILLISECONDS  # sent with the first event (alone it would be an empty event)
    page = first
    quiet_since = time.monotonic()
    while True:
        for record in page.items:
            yield retry + _message(record)
            retry = b""
            after = record.position
        if page.items:
            quiet_since = time.monotonic()
        if page.next_cursor is None:
            if not follow:
                return
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                yield b": heartbeat\n\n"
                quiet_since = time.monotonic()
            if server_exiting():
                yield b": server shutting down; reconnect with Last-Event-ID\n\n"
                return
            idle = HEARTBEAT_SECONDS - (time.monotonic() - quiet_since)
            await wakeup.wait(max(0.0, min(POLL_SECONDS, idle)))
            if server_exiting():
                yield b": server shutting down; reconnect with Last-Event-ID\n\n"
                return
        page = await anyio.to_thread.run_sync(partial(_read, system, after, type_, subject))


def _read(system: Evolve, after: int, type_: str | None, subject: str | None) -> EventPage:
    cursor = encode_cursor("events", after) if after else None
    return system.queries.events(type=type_, subject=subject, limit=BATCH, cursor=cursor)


def _position(value: str) -> int:
    """`Last-Event-ID` as a log position (read by hand: it is documented in `_StreamOperation`)."""
    text = value.strip()
    if not LAST_EVENT_ID.fullmatch(text):
        raise InvalidQuery(f"`Last-Event-ID` must be a log position: a whole number 0..{MAX_POSITION}", "Last-Event-ID")
    return int(text)


STREAM_DESCRIPTION = f"""Server-Sent Events (`text/event-stream`): every event appended to the log, in log order, as it
is appended. Each message is `id: <log position>` and `data: <EventRecord as JSON>`; the first one also sets
`retry: {RETRY_MILLISECONDS}` (milliseconds before an `EventSource` reconnects).

* **Resume**: a client that reconnects with `Last-Event-ID: <position>` (an `EventSource` does so by itself)
  gets exactly the events after that position: no gaps, no repeats. `after` does the same for a first
  connection; `Last-Event-ID` wins if both are sent. Without either, the stream starts at the beginning
  of the log.
* **Filters**: `type` and `subject` as on `GET /events`; positions still come from the whole log, so
  resuming a filtered stream is exact too.
* **Live**: with `Accept: text/event-stream` the stream stays open; new events arrive within a moment
  (at once for appends made through this server process, within {POLL_SECONDS:g} s for other processes).
  A comment line (`: heartbeat`) is sent after {HEARTBEAT_SECONDS:g} s without events. Without that
  `Accept`, the backlog is sent and the stream ends (e.g. `curl` without `-H 'Accept: text/event-stream'`).
* The stream ends when the server shuts down (after a `:` comment); reconnect with `Last-Event-ID`.
"""


@dataclass
class _StreamOperation(Operation):
    """The 200 response documents the stream: each event's `data` is an `EventRecord`."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.description = "An endless (or, without `Accept: text/event-stream`, finite) stream of events."
            ok.content = {MEDIA_TYPE: OpenAPIMediaType(schema=EVENT_SCHEMA)}
        self.parameters = [*(self.parameters or []), LAST_EVENT_ID_PARAMETER]


#: Read from the request by hand, so that an absent header is not a null the schema must admit.
LAST_EVENT_ID_PARAMETER = Parameter(
    name="Last-Event-ID",
    param_in=ParamType.HEADER,
    required=False,
    description="The `id` of the last event received: resume after that log position (sent by an `EventSource` "
    "when it reconnects).",
    schema=Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{1,15}$", examples=["100"]),
)

#: One server-sent event (OpenAPI 3.1 describes each event of a `text/event-stream` with `schema`).
EVENT_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="One server-sent event: `id` is the log position, `data` the `EventRecord` as JSON. The stream "
    "also carries comment lines (`: heartbeat`) and a `retry:` line, which are not events.",
    required=["data"],
    properties={
        "id": Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]+$", description="The entry's log position."),
        "event": Schema(type=OpenAPIType.STRING, const="message"),
        "data": Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/json",
            content_schema=Reference(ref="#/components/schemas/EventRecord"),
        ),
        "retry": Schema(type=OpenAPIType.INTEGER, minimum=0),
    },
)


class StreamController(Controller):
    path = "/events/stream"
    tags = ["Events"]

    @get(
        operation_id="StreamEvents",
        summary="Follow the log as Server-Sent Events",
        description=STREAM_DESCRIPTION,
        responses=problems.responses(400),
        operation_class=_StreamOperation,
        cache_control=None,
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        system: System,
        type_: TypeFilter = None,
        subject: SubjectFilter = None,
        after: Annotated[
            int,
            QueryParameter(
                ge=0,
                le=MAX_POSITION,
                description="Start after this log position (for a first connection; `Last-Event-ID` wins).",
                examples=[Example(value=100)],
            ),
        ] = 0,
    ) -> Stream:
        last_event_id = request.headers.get("last-event-id")
        start = _position(last_event_id) if last_event_id is not None else after
        follow = MEDIA_TYPE in (request.headers.get("accept") or "").lower()
        first = await anyio.to_thread.run_sync(partial(_read, system, start, type_, subject))
        body = feed(system, notifier(request.app), start, type_, subject, follow, first)
        return Stream(
            body,
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
