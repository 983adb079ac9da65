"""CSV responses for the listings: content negotiation, streaming, and their OpenAPI entry.

``GET /organisations`` and ``GET /events`` answer in CSV when the client asks for it, with
``Accept: text/csv`` or the ``.csv`` suffix (``/organisations.csv``, ``/events.csv``). The
columns are evolve's own (:mod:`evolve.export`), the same the CLI exports. A CSV response is
not paginated: it streams every matching row after ``cursor`` (from the start without one)
and ignores ``limit``. Rows are read from the projection a page at a time, so memory stays
bounded however long the listing. The snapshot is consistent: organisations are all read at
one record time (``known_at``, default the newest record when the request began), events up
to the log head when the request began.

Parameters are checked before the first byte is sent: a bad cursor or date is still a 400
problem, never a half-written CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.response import Stream

from evolve.answers import EventPage, OrganisationPage
from evolve.export import EVENT_COLUMNS, STATE_COLUMNS, csv_lines, event_row, state_row
from evolve.query import MAX_LIMIT
from evolve.records import EventRecord

JSON = "application/json"
CSV = "text/csv"
#: RFC 4180 with RFC 7111's `header` parameter: the first line names the columns.
CSV_CONTENT_TYPE = "text/csv; header=present"  # Litestar appends `; charset=utf-8`
#: Rows read per query (and written per chunk) while streaming.
PAGE_ROWS = MAX_LIMIT

CSV_NOTE = (
    "\n\n**CSV**: send `Accept: text/csv` (or use the `.csv` path) for `text/csv` with a header row: every matching "
    "row, streamed, after `cursor` if given (`limit` is ignored; no `next_cursor`). Lists inside a cell are joined "
    'with "; "; money is integer pence. Columns: '
)

T = TypeVar("T")


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    """The client asked for CSV: a `.csv` path, or `text/csv` ranks above JSON in `Accept`."""
    if request.url.path.endswith(".csv"):
        return True
    return request.accept.best_match([JSON, CSV], default=JSON) == CSV


def _chunks(lines: Iterable[str]) -> Iterator[bytes]:
    """Group CSV lines into chunks: one write (and one worker-thread hop) per page of rows."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) > PAGE_ROWS:
            yield "".join(batch).encode()
            batch.clear()
    if batch:
        yield "".join(batch).encode()


def csv_stream(columns: tuple[str, ...], rows: Iterable[dict[str, str]], filename: str) -> Stream:
    """A streamed `text/csv` response: the header row, then `rows` as they are produced."""
    return Stream(
        _chunks(csv_lines(columns, rows)),
        media_type=CSV_CONTENT_TYPE,
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Vary": "Accept"},
    )


def _pages(first: T, following: Callable[[T], T | None]) -> Iterator[T]:
    page: T | None = first
    while page is not None:
        yield page
        page = following(page)


OrganisationFetch = Callable[[dt.datetime | None, str | None], OrganisationPage]


def organisation_rows(
    fetch: OrganisationFetch, known_at: dt.datetime | None, cursor: str | None
) -> Iterator[dict[str, str]]:
    """Every organisation `fetch(known_at, cursor)` lists after `cursor`, page after page, at one record time.

    The first page is read now (so parameter errors surface before the response starts), the rest
    lazily, pinned to the first page's `known_at` so a concurrent append cannot mix two snapshots.
    """
    first = fetch(known_at, cursor)
    pinned = known_at or (first.items[0].known_at if first.items else None)

    def following(page: OrganisationPage) -> OrganisationPage | None:
        return fetch(pinned, page.next_cursor) if page.next_cursor else None

    return (state_row(s) for page in _pages(first, following) for s in page.items)


def event_rows(fetch: Callable[[str | None], EventPage], cursor: str | None, head: int) -> Iterator[dict[str, str]]:
    """Every event `fetch(cursor)` lists up to log position `head`, page after page (the first page read now)."""
    first = fetch(cursor)

    def following(page: EventPage) -> EventPage | None:
        if not page.next_cursor or (page.items and page.items[-1].position >= head):
            return None
        return fetch(page.next_cursor)

    return (event_row(r) for page in _pages(first, following) for r in _until(page.items, head))


def _until(records: list[EventRecord], head: int) -> Iterator[EventRecord]:
    return (r for r in records if r.position <= head)


def organisations_csv(rows: Iterator[dict[str, str]]) -> Stream:
    return csv_stream(STATE_COLUMNS, rows, "organisations.csv")


def events_csv(rows: Iterator[dict[str, str]]) -> Stream:
    return csv_stream(EVENT_COLUMNS, rows, "events.csv")


def _csv_media(columns: tuple[str, ...]) -> OpenAPIMediaType:
    return OpenAPIMediaType(
        schema=Schema(
            type=OpenAPIType.STRING,
            description="RFC 4180 CSV with a header row; columns: " + ", ".join(f"`{c}`" for c in columns) + ".",
        )
    )


def with_csv(columns: tuple[str, ...]) -> type[Operation]:
    """An OpenAPI Operation class whose 200 response also offers `text/csv` (the negotiated alternative)."""

    @dataclass
    class CsvAlternative(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            if isinstance(ok, OpenAPIResponse):
                ok.content = {**(ok.content or {}), CSV: _csv_media(columns)}

    return CsvAlternative


def csv_only(columns: tuple[str, ...], description: str) -> type[Operation]:
    """An OpenAPI Operation class whose 200 response is `text/csv` only (the `.csv` paths)."""

    @dataclass
    class CsvOnly(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            if isinstance(ok, OpenAPIResponse):
                ok.description = description
                ok.content = {CSV: _csv_media(columns)}

    return CsvOnly
