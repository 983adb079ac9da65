"""Human labels for the catalogue's enumerations: one table, used by every text for people.

The history doc (``docs/history.md``), the timeline page and the CLI read their words from
here, so a stage is called the same thing everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

from evolve.types import Kind, Milestone, Stage


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
}

MILESTONES: dict[Milestone, str] = {
    Milestone.FOOTPRINT_PROPOSED: "STP footprints proposed",
    Milestone.SHORT_RETURN: "short STP planning returns submitted",
    Milestone.DRAFT_SUBMITTED: "draft STPs submitted",
    Milestone.FINAL_SUBMITTED: "final STPs submitted",
    Milestone.PUBLISHED: "STPs published",
}
