"""Named, constrained field types shared by events, states and API schemas.

Each alias carries its rule as msgspec ``Meta``, so the same constraint is
enforced when decoding a data file, a request body or a stored record, and
appears in the OpenAPI schema without being written twice.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from msgspec import Meta

#: What a subject id names; one namespace holds all three.
SubjectKind = Literal["organisation", "policy", "event"]

#: Patterns end in `(?!\n)$` because `$` alone also matches before a final newline in Python.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*(?!\n)$"
#: Python's `\s` spelled out, so the JSON Schema (ECMA-262) regex means exactly what msgspec checks.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

Slug = Annotated[
    str,
    Meta(
        pattern=SLUG_PATTERN,
        min_length=1,
        max_length=100,
        description="Stable lowercase identifier, words joined by hyphens.",
        examples=["frimley-health-and-care"],
    ),
]
#: Text fields refuse NUL: PostgreSQL cannot store it in text, and no document needs it.
NO_NUL = r"^[^\x00]*$"
Title = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]
Text = Annotated[str, Meta(max_length=10_000, pattern=NO_NUL)]
Quote = Annotated[str, Meta(max_length=2000, pattern=NO_NUL)]
Url = Annotated[
    str,
    Meta(pattern=rf"^https?://[^\x00{WHITESPACE}]+(?!\n)$", max_length=2000, examples=["https://www.england.nhs.uk/"]),
]
SeedName = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9._-]+(?!\n)$",
        max_length=200,
        description="File name of a source document in shared/seeds.",
    ),
]
FinancialYear = Annotated[
    str,
    Meta(
        pattern=r"^(19|20)[0-9]{2}/[0-9]{2}(?!\n)$",
        description="NHS financial year, `YYYY/YY`: 1 April YYYY to 31 March of the next year (`2017/18`).",
        examples=["2017/18"],
    ),
]
Pence = Annotated[int, Meta(ge=0, le=10**15, description="Money in integer pence (never a float).")]
Population = Annotated[int, Meta(ge=0, le=100_000_000)]
Code = Annotated[str, Meta(pattern=r"^[A-Z0-9]{2,12}(?!\n)$", description="ONS or ODS code.", examples=["E54000034"])]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}(?!\n)$", examples=["GBP"])]

#: Valid-time bounds. Policy history starts long before 1948 in no case, and a
#: date past 2100 is a typo, so both are rejected rather than stored.
EARLIEST = dt.date(1948, 7, 5)
LATEST = dt.date(2100, 12, 31)
#: The open end of an interval, in valid time (a date) and record time.
END_OF_TIME = dt.date(9999, 12, 31)


class Precision(StrEnum):
    """How exactly a source dates an event; coarser dates sit on the period's first day."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class Kind(StrEnum):
    HEALTH_SYSTEM = "health_system"
    CCG = "ccg"
    TRUST = "trust"
    LOCAL_AUTHORITY = "local_authority"
    NATIONAL_BODY = "national_body"
    COMBINED_AUTHORITY = "combined_authority"
    REGION = "region"  # an NHS England region, which health systems name in `region`
    PROGRAMME = "programme"  # a national programme's local site: a vanguard, a success regime


class Stage(StrEnum):
    """The path of a health system, in order (design §3)."""

    FOOTPRINT = "footprint"
    PARTNERSHIP = "partnership"
    ACS = "acs"
    ICS = "ics"
    STATUTORY_ICS = "statutory_ics"


class Flag(StrEnum):
    CAPPED_EXPENDITURE = "capped_expenditure"
    DEVOLVED = "devolved"


class Milestone(StrEnum):
    FOOTPRINT_PROPOSED = "footprint_proposed"
    SHORT_RETURN = "short_return"
    DRAFT_SUBMITTED = "draft_submitted"
    FINAL_SUBMITTED = "final_submitted"
    PUBLISHED = "published"


def financial_year_problem(year: str) -> str | None:
    """Why `year` is not a financial year (the pattern holds, but `2017/19` is not one), or None."""
    start = int(year[:4])
    if int(year[5:]) != (start + 1) % 100:
        example = f"{start}/{(start + 1) % 100:02d}"
        return f"financial year {year!r} is not YYYY/YY with YY the year after YYYY (e.g. {example})"
    return None


def financial_year_end(year: str) -> dt.date:
    """The last day of a financial year: 31 March of its second calendar year."""
    return dt.date(int(year[:4]) + 1, 3, 31)
