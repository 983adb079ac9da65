"""Response and parameter types the API adds around evolve's own Structs.

Bodies are evolve's Structs (``OrganisationState``, ``EventRecord``, the
``Event`` union, the query pages); this module only holds the few shapes that
exist because of HTTP: a batch reply, the health report, and the annotated
parameter types shared by several controllers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from evolve.bootstrap import Evolve
from evolve.errors import InvalidQuery
from evolve.query import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor
from evolve.records import EventRecord

#: The composition root, injected by name into every handler.
System = NamedDependency[Evolve]



class AppendedEvents(msgspec.Struct, frozen=True, kw_only=True):
    """The records of a batch appended by ``POST /events``, in log order."""

    items: list[EventRecord]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness: the database answers, and the log's head position."""

    status: Literal["ok"]
    position: int


def _example(value: object, summary: str) -> list[Example]:
    return [Example(summary=summary, value=value)]


AsOf = Annotated[
    dt.date | None,
    QueryParameter(
        description="Valid time: the date to read the state on (`YYYY-MM-DD`). Default: today.",
        examples=_example("2017-07-01", "1 July 2017"),
    ),
]
KnownAt = Annotated[
    str | None,
    QueryParameter(
        description="Record time: read the log as it was known at this instant (RFC 3339 / ISO 8601 with a time "
        "zone). Default: now.",
        max_length=64,
        schema_extra={"format": "date-time"},
        examples=_example("2025-01-01T00:00:00Z", "what the log said on 1 January 2025"),
    ),
]
Limit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_LIMIT,
        description=f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        examples=_example(20, "twenty items"),
    ),
]


def _cursor(listing: Literal["organisations", "events", "policies"], after: str | int) -> object:
    return QueryParameter(
        name="cursor",
        max_length=1000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque cursor: the `next_cursor` of the previous page (a cursor from another listing, or "
        "one this API did not issue, is a 400). Omit for the first page.",
        examples=_example(encode_cursor(listing, after), "a cursor from a previous page"),
    )


OrganisationCursor = Annotated[str | None, _cursor("organisations", "frimley-health-and-care")]
EventCursor = Annotated[str | None, _cursor("events", 50)]
PolicyCursor = Annotated[str | None, _cursor("policies", "five-year-forward-view")]
_moment = msgspec.json.Decoder(dt.datetime)


def moment(value: str | None) -> dt.datetime | None:
    """Parse `known_at` strictly as RFC 3339 (a bare number or a date is rejected; the zone is checked by evolve)."""
    if value is None:
        return None
    try:
        return _moment.decode(msgspec.json.encode(value))
    except msgspec.ValidationError:
        raise InvalidQuery(
            f"`known_at` {value!r} is not an RFC 3339 timestamp (e.g. 2025-01-01T00:00:00Z)", "known_at"
        ) from None
