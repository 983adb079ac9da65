"""Words for people: the labels of the catalogue's enumerations, and how a state's parts read.

The history doc (``docs/history.md``), the timeline page and the CLI read their words from
here, so a stage is called the same thing, and a date is shown at the same precision, everywhere.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from evolve.state import Appointment, FlagPeriod, PopulationFigure
from evolve.types import Kind, Milestone, Precision, Stage


class StageLabel(NamedTuple):
    title: str  # a heading or legend entry: "Integrated care system"
    plural: str  # running text: "integrated care systems"
    short: str  # where space is short (a tile): "Integrated care system"


class KindLabel(NamedTuple):
    singular: str
    plural: str


STAGES: dict[Stage, StageLabel] = {
    Stage.FOOTPRINT: StageLabel(
        "STP footprint", "sustainability and transformation plan (STP) footprints", "STP footprint"
    ),
    Stage.PARTNERSHIP: StageLabel(
        "Sustainability and transformation partnership",
        "sustainability and transformation partnerships",
        "Partnership (STP)",
    ),
    Stage.ACS: StageLabel("Accountable care system", "accountable care systems", "Accountable care system"),
    Stage.ICS: StageLabel("Integrated care system", "integrated care systems", "Integrated care system"),
    Stage.STATUTORY_ICS: StageLabel(
        "Statutory integrated care system", "statutory integrated care systems", "Statutory ICS"
    ),
}

KINDS: dict[Kind, KindLabel] = {
    Kind.HEALTH_SYSTEM: KindLabel("health system", "health systems"),
    Kind.CCG: KindLabel("clinical commissioning group", "clinical commissioning groups"),
    Kind.TRUST: KindLabel("NHS trust", "NHS trusts"),
    Kind.LOCAL_AUTHORITY: KindLabel("local authority", "local authorities"),
    Kind.NATIONAL_BODY: KindLabel("national body", "national bodies"),
    Kind.COMBINED_AUTHORITY: KindLabel("combined authority", "combined authorities"),
    Kind.REGION: KindLabel("NHS England region", "NHS England regions"),
    Kind.PROGRAMME: KindLabel("programme site", "programme sites"),
}

MILESTONES: dict[Milestone, str] = {
    Milestone.FOOTPRINT_PROPOSED: "STP footprints proposed",
    Milestone.SHORT_RETURN: "short STP planning returns submitted",
    Milestone.DRAFT_SUBMITTED: "draft STPs submitted",
    Milestone.FINAL_SUBMITTED: "final STPs submitted",
    Milestone.PUBLISHED: "STPs published",
}

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def format_date(day: dt.date, precision: Precision) -> str:
    """A date as precise as the source: '15 March 2016', 'March 2016' or '2016' (locale-independent)."""
    if precision is Precision.YEAR:
        return str(day.year)
    month = MONTHS[day.month - 1]
    if precision is Precision.MONTH:
        return f"{month} {day.year}"
    return f"{day.day} {month} {day.year}"


def leader_text(leader: Appointment) -> str:
    role = f" ({leader.role})" if leader.role else ""
    return f"{leader.name}{role}, since {leader.since.isoformat()}"


def flag_text(flag: FlagPeriod) -> str:
    until = f" to {flag.until.isoformat()}" if flag.until else ""
    year = f", {flag.financial_year}" if flag.financial_year else ""
    return f"{flag.flag.value} (from {flag.since.isoformat()}{until}{year})"


def population_text(figure: PopulationFigure) -> str:
    return f"{figure.count:,} ({format_date(figure.as_of, figure.precision)})"
