"""Every request parameter type of the API, in one place: coordinates, paging, filters, ids.

Each is an ``Annotated`` type whose Litestar parameter carries its description, constraints and
example, so the OpenAPI contract says exactly what a handler accepts. Controllers import their
parameters from here (never from each other).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from evolve.bootstrap import Evolve
from evolve.catalogue import EVENT_TYPE_NAMES
from evolve.cursors import encode_cursor
from evolve.errors import InvalidQuery
from evolve.query import DEFAULT_LIMIT, MAX_LIMIT
from evolve.series import MAX_POINTS, Step
from evolve.types import SLUG_PATTERN, Kind, Stage

#: The composition root, injected by name into every handler.
System = NamedDependency[Evolve]

#: Free text may hold anything but NUL, which no store can hold (evolve refuses it).
NO_NUL = r"^[^\x00]*$"


def _example(value: object, summary: str | None = None) -> list[Example]:
    return [Example(summary=summary, value=value)]


# ---- the two time coordinates --------------------------------------------------------

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


# ---- paging ------------------------------------------------------------------------------

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

# ---- ids ---------------------------------------------------------------------------------

OrganisationId = Annotated[
    str,
    PathParameter(
        description="Organisation id: a lowercase slug.",
        pattern=SLUG_PATTERN,
        max_length=100,
        examples=_example("frimley-health-and-care", "Frimley Health and Care"),
    ),
]
PolicyId = Annotated[
    str,
    PathParameter(
        description="Policy id: a lowercase slug.",
        pattern=SLUG_PATTERN,
        max_length=100,
        examples=_example("five-year-forward-view", "Five Year Forward View"),
    ),
]
EventId = Annotated[
    UUID,
    PathParameter(
        description="The event's id (a UUID).", examples=_example("2585c6f2-52fb-56f9-8177-a3147c25d15e")
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Makes retries safe: a repeat of the same request returns the original reply.",
        examples=_example("9b2f6c1e-import-2025-01-01"),
    ),
]

# ---- filters -----------------------------------------------------------------------------

KindFilter = Annotated[
    Kind | None,
    QueryParameter(description="Only organisations of this kind.", examples=_example("health_system")),
]
StageFilter = Annotated[
    Stage | None,
    QueryParameter(description="Only health systems at this stage.", examples=_example("acs")),
]
TextFilter = Annotated[
    str | None,
    QueryParameter(
        description="Name or id contains this text (case-insensitive).",
        max_length=200,
        pattern=NO_NUL,
        examples=_example("frimley"),
    ),
]
CodeFilter = Annotated[
    str | None,
    QueryParameter(
        description="Only the organisation(s) holding this code on `as_of`: an ONS code (E54..., E38...) or an ODS "
        "code (QYG, 10C), exact and case-insensitive. A code nobody held on that date gives an empty list.",
        min_length=1,
        max_length=20,
        pattern=r"^[A-Za-z0-9]+$",
        examples=_example("E54000034", "Frimley's ONS code"),
    ),
]
EventType = Literal[EVENT_TYPE_NAMES]  # type: ignore[valid-type]
TypeFilter = Annotated[
    EventType | None,
    QueryParameter(name="type", description="Only events of this type.",
                   examples=_example("AccountableCareSystemsDesignated")),
]
SubjectFilter = Annotated[
    str | None,
    QueryParameter(description="Only events touching this organisation, policy or event id.", max_length=100,
                   pattern=NO_NUL, examples=_example("frimley-health-and-care")),
]
EffectiveFrom = Annotated[
    dt.date | None,
    QueryParameter(
        name="from",
        description="Only events effective on or after this date (a `from` after `to` is a 400).",
        examples=_example("2017-01-01"),
    ),
]
EffectiveTo = Annotated[
    dt.date | None,
    QueryParameter(description="Only events effective on or before this date.", examples=_example("2018-12-31")),
]
DiffFrom = Annotated[
    dt.date,
    QueryParameter(
        name="from",
        description="Start date (`YYYY-MM-DD`), exclusive: changes effective after it count. A `from` after `to` "
        "is a 400.",
        examples=_example("2017-01-01", "1 January 2017"),
    ),
]
SeriesFrom = Annotated[
    dt.date,
    QueryParameter(name="from", description="The first point (`YYYY-MM-DD`).",
                   examples=_example("2014-01-01", "1 January 2014")),
]
SeriesTo = Annotated[
    dt.date,
    QueryParameter(description="No point after this date (`YYYY-MM-DD`); before `from` is a 400.",
                   examples=_example("2022-12-31", "31 December 2022")),
]
SeriesStep = Annotated[
    Step,
    QueryParameter(description=f"The interval between points; more than {MAX_POINTS} points is a 400.",
                   examples=_example("year")),
]
DiffTo = Annotated[
    dt.date,
    QueryParameter(description="End date (`YYYY-MM-DD`), inclusive.", examples=_example("2018-06-01", "1 June 2018")),
]
