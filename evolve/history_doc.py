"""A readable Markdown timeline (``docs/history.md``) generated from the event files.

The event files in ``events/`` are the source of truth; this module renders them
as a timeline grouped by year, one bullet per event: its date at its precision
("15 March 2016", "March 2016", "2016"), what happened in plain words, the
organisations named (by the names the files themselves give, as they stood on
the event's date) and its sources as Markdown links (a seed source as its file
name). Rendering is pure and deterministic: the same files give the same text.

``write(events_dir, out)`` regenerates the file and reports whether it changed (``evolve history-doc``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from evolve import labels
from evolve.catalogue import (
    AccountableCareSystemsDesignated,
    BaseEvent,
    CappedExpenditureApplied,
    CappedExpenditureLifted,
    DevolutionAgreed,
    EventCorrected,
    FootprintDesignated,
    FundingAllocated,
    FundingPlanned,
    IntegratedCareSystemsDesignated,
    LeaderAppointed,
    LeaderLeft,
    MembersJoined,
    MembersLeft,
    OrganisationRegistered,
    OrganisationRestated,
    OrganisationsDissolved,
    OrganisationsMerged,
    PartnershipsFormed,
    PlanMilestone,
    PolicyPublished,
    Scope,
    Source,
    SystemsRenamed,
)
from evolve.coverage import CoverageRow, coverage
from evolve.files import EventFile, in_log_order, load
from evolve.state import PopulationFigure
from evolve.types import Precision, financial_year_end

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVENTS = ROOT / "events"
DEFAULT_OUT = ROOT / "docs" / "history.md"

TITLE = "NHS England local health systems: a timeline"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def text(value: str) -> str:
    """Plain text made safe for Markdown (no accidental emphasis, links or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def link_target(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def format_money(pence: int, currency: str) -> str:
    symbol = "£" if currency == "GBP" else f"{currency} "
    amount = Decimal(pence) / 100
    for scale, suffix in ((Decimal(10**9), "bn"), (Decimal(10**6), "m")):
        if amount >= scale:
            return f"{symbol}{format((amount / scale).normalize(), 'f')}{suffix}"
    return f"{symbol}{amount:,.2f}"


def join(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'; with semicolons when a name has its own commas or 'and'
    ('Humber, Coast and Vale; Sussex; and Devon')."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if any("," in item or " and " in item for item in items):
        return f"{'; '.join(items[:-1])}; and {items[-1]}"
    return f"{', '.join(items[:-1])} and {items[-1]}"


def format_source(source: Source) -> str:
    if source.url is not None:
        return f"[{text(source.title)}]({link_target(source.url)})"
    return f"{text(source.title)} (seed `{source.seed}`)"


class _Timeline:
    """Walks the events in log order, keeping each id's latest name."""

    def __init__(self, files: Sequence[EventFile]) -> None:
        self.files = in_log_order(files)
        self.names: dict[str, str] = {}
        self.created: set[str] = set()
        self.file_names: dict[UUID, str] = {f.id: f.name for f in self.files}

    def name(self, slug: str) -> str:
        return text(self.names.get(slug, slug))

    def names_of(self, slugs: Sequence[str]) -> str:
        return join([self.name(s) for s in slugs])

    def scope(self, scope: Scope, what: str = "health systems") -> str:
        if scope.organisations is not None:
            return self.names_of(scope.organisations)
        if scope.stage is not None:
            return f"every health system then at stage `{scope.stage.value}` ({labels.STAGES[scope.stage].plural})"
        assert scope.kind is not None
        return f"every organisation then of kind `{scope.kind.value}` ({labels.KINDS[scope.kind].plural})"

    def describe(self, event: BaseEvent) -> str:
        """What happened, in plain words; updates the names the event sets."""
        describer = DESCRIBERS.get(type(event))
        if describer is None:  # pragma: no cover - every catalogue type has one
            return f"{event.type} event."
        return describer(self, event)

    def render(self) -> str:
        lines = [
            f"# {TITLE}",
            "",
            "<!-- Generated from the event files in events/ by evolve.history_doc; do not edit by hand. -->",
            "",
            "This page is generated from the curated event files in `events/`, one bullet per event, in log "
            "order (by effective date, then file name). Dates are shown only as precisely as the sources give "
            "them: a day, a month or a year. Organisations are named as the files named them at the time. "
            "Seed sources are documents in `shared/seeds/`, shown by file name. See `docs/history-notes.md` "
            "for the modelling decisions and the facts left out.",
            "",
        ]
        if not self.files:
            lines.append("No events.")
            return "\n".join(lines) + "\n"
        first, last = self.files[0].event.effective.year, self.files[-1].event.effective.year
        lines.append(f"{len(self.files)} events, {first}\N{EN DASH}{last}.")
        lines += ["", *coverage_table(coverage(self.files))]
        year: int | None = None
        for group in _groups(self.files):
            event = group[0].event
            if event.effective.year != year:
                year = event.effective.year
                lines += ["", f"## {year}", ""]
            when = labels.format_date(event.effective, event.precision)
            what = " ".join(self.describe(f.event) for f in group)
            if len(group) > 1:
                what = f"{len(group)} rows of `{_table(group[0])}`: {what}"
            sources = "; ".join(dict.fromkeys(format_source(s) for f in group for s in f.event.sources))
            lines.append(f"- **{when}**: {what} Sources: {sources}.")
        return "\n".join(lines) + "\n"


def _table(f: EventFile) -> str | None:
    """The table a row came from (``trusts.csv``), or None for a YAML event file."""
    return f.name.split("#", 1)[0] if "#" in f.name else None


def _groups(files: Sequence[EventFile]) -> list[list[EventFile]]:
    """Consecutive rows of one table with the same type, date and precision, as one bullet (the 22
    trusts ODS opened on 1 April 1991); every YAML event file is a bullet of its own."""
    out: list[list[EventFile]] = []
    for f in files:
        last = out[-1][0] if out else None
        same = last is not None and _table(f) is not None and (
            (_table(f), f.event.type, f.event.effective, f.event.precision)
            == (_table(last), last.event.type, last.event.effective, last.event.precision)
        )
        if same:
            out[-1].append(f)
        else:
            out.append([f])
    return out


def coverage_table(rows: Sequence[CoverageRow]) -> list[str]:
    """The coverage section: what the history holds on a few dates (see :mod:`evolve.coverage`)."""
    lines = [
        "## Coverage",
        "",
        "How many health systems (top-level systems and sub-areas) have each kind of fact on these dates, "
        "and the CCGs the log holds against the count published for that year.",
        "",
        "| date | systems | code | region | population | leader | members | CCGs | CCGs published |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        published = f"{r.published.number} ({format_source(r.published.source)})"
        lines.append(
            f"| {labels.format_date(r.day, Precision.DAY)} | {r.systems} | {r.code} | {r.region} | "
            f"{r.population} | {r.leader} | {r.members} | {r.ccgs} | {published} |"
        )
    return lines


def _policy(t: _Timeline, e: PolicyPublished) -> str:
    t.names[e.policy_id] = e.title
    summary = f" {text(e.summary)}" if e.summary else ""
    return f"[{text(e.title)}]({link_target(e.url)}) published by {text(e.publisher)}.{summary}"


def _details(t: _Timeline, code: object, ods: object, region: object, population: object) -> list[str]:
    details = [f"code {code}" if isinstance(code, str) else "", f"ODS code {ods}" if isinstance(ods, str) else ""]
    if isinstance(region, str):
        details.append(f"region {t.name(region)}")
    if isinstance(population, PopulationFigure):
        details.append(f"population {labels.population_text(population)}")
    return [d for d in details if d]


def _registered(t: _Timeline, e: OrganisationRegistered) -> str:
    t.names[e.organisation] = e.name
    details = _details(t, e.code, e.ods_code, e.region, e.population)
    if e.parent:
        details.append(f"a sub-area of {t.name(e.parent)}")
    extra = f" ({'; '.join(details)})" if details else ""
    return f"{text(e.name)}{extra} registered as {_a(labels.KINDS[e.kind].singular)}."


def _footprint(t: _Timeline, e: FootprintDesignated) -> str:
    t.names[e.organisation] = e.name
    details = _details(t, e.code, e.ods_code, e.region, e.population)
    if e.members:
        details.append(f"members {t.names_of(e.members)}")
    extra = f" ({'; '.join(details)})" if details else ""
    return f"{text(e.name)} designated an STP footprint{extra}."


def _restated(t: _Timeline, e: OrganisationRestated) -> str:
    old = t.name(e.organisation)
    changes = []
    if isinstance(e.name, str):
        t.names[e.organisation] = e.name
        changes.append(f"named {text(e.name)}")
    for field, value in (("code", e.code), ("ODS code", e.ods_code)):
        if value is None:
            changes.append(f"no {field} any more")
        elif isinstance(value, str):
            changes.append(f"{field} {value}")
    for field, ref in (("region", e.region), ("parent", e.parent)):
        if ref is None:
            changes.append(f"no {field} any more")
        elif isinstance(ref, str):
            changes.append(f"{field} {t.name(ref)}")
    if e.population is None:
        changes.append("no population figure any more")
    elif isinstance(e.population, PopulationFigure):
        changes.append(f"population {labels.population_text(e.population)}")
    return f"{old} restated: {'; '.join(changes)}."


def _merged(t: _Timeline, e: OrganisationsMerged) -> str:
    merged = t.names_of(e.merged)
    if e.name is None:
        return f"{merged} merged into {t.name(e.into)}, which continues them."
    t.names[e.into] = e.name
    details = _details(t, e.code, e.ods_code, e.region, None)
    extra = f" ({'; '.join(details)})" if details else ""
    return f"{merged} merged into a new organisation, {text(e.name)}{extra}."


def _dissolved(t: _Timeline, e: OrganisationsDissolved) -> str:
    return f"Dissolved: {t.scope(e.scope)}."


def _joined(t: _Timeline, e: MembersJoined) -> str:
    return f"{t.names_of(e.members)} joined {t.name(e.organisation)}."


def _left(t: _Timeline, e: MembersLeft) -> str:
    return f"{t.names_of(e.members)} left {t.name(e.organisation)}."


def _leader(t: _Timeline, e: LeaderAppointed) -> str:
    role = f" ({text(e.role)})" if e.role else ""
    return f"{text(e.leader)}{role} named leader of {t.name(e.organisation)}."


def _leader_left(t: _Timeline, e: LeaderLeft) -> str:
    who = text(e.leader) if e.leader else "The leader"
    return f"{who} left the leadership of {t.name(e.organisation)}."


def _milestone(t: _Timeline, e: PlanMilestone) -> str:
    return f"Plan milestone, {labels.MILESTONES[e.milestone]}: {t.scope(e.scope)}."


def _partnerships(t: _Timeline, e: PartnershipsFormed) -> str:
    return f"Sustainability and transformation partnerships formed: {t.scope(e.scope)} became partnerships."


def _acs(t: _Timeline, e: AccountableCareSystemsDesignated) -> str:
    kind = "shadow accountable care systems" if e.shadow else "accountable care systems"
    return f"Designated {kind}: {t.scope(e.scope)}."


def _ics(t: _Timeline, e: IntegratedCareSystemsDesignated) -> str:
    return f"Designated integrated care systems: {t.scope(e.scope)}."


def _renamed_systems(t: _Timeline, e: SystemsRenamed) -> str:
    return (
        f"Every health system then at stage `{e.from_stage.value}` ({labels.STAGES[e.from_stage].plural}) "
        f"moved to stage `{e.to_stage.value}`, as {text(e.term)}."
    )


def _capped(t: _Timeline, e: CappedExpenditureApplied) -> str:
    until = labels.format_date(financial_year_end(e.financial_year), Precision.DAY)
    return f"Capped expenditure process applied for {e.financial_year} (until {until}): {t.scope(e.scope)}."


def _uncapped(t: _Timeline, e: CappedExpenditureLifted) -> str:
    return f"Capped expenditure process lifted for {e.financial_year}: {t.scope(e.scope)}."


def _devolution(t: _Timeline, e: DevolutionAgreed) -> str:
    return f"Health devolution agreed: {t.scope(e.scope)}."


def _funding(t: _Timeline, e: FundingAllocated | FundingPlanned) -> str:
    verb = "planned (not allocated) for" if isinstance(e, FundingPlanned) else "allocated to"
    return (
        f"{text(e.fund)}, {e.financial_year}: {format_money(e.amount_pence, e.currency)} {verb} {t.scope(e.scope)}."
    )


def _corrected(t: _Timeline, e: EventCorrected) -> str:
    target = t.file_names.get(e.corrects)
    which = f"`{target}`" if target else f"event {e.corrects}"
    if e.replacement is None:
        return f"Correction: {which} is retracted."
    return f"Correction: {which} now reads: {t.describe(e.replacement)}"


DESCRIBERS: dict[type[BaseEvent], Callable[[_Timeline, Any], str]] = {
    PolicyPublished: _policy,
    OrganisationRegistered: _registered,
    FootprintDesignated: _footprint,
    OrganisationRestated: _restated,
    OrganisationsMerged: _merged,
    OrganisationsDissolved: _dissolved,
    MembersJoined: _joined,
    MembersLeft: _left,
    LeaderAppointed: _leader,
    LeaderLeft: _leader_left,
    PlanMilestone: _milestone,
    PartnershipsFormed: _partnerships,
    AccountableCareSystemsDesignated: _acs,
    IntegratedCareSystemsDesignated: _ics,
    SystemsRenamed: _renamed_systems,
    CappedExpenditureApplied: _capped,
    CappedExpenditureLifted: _uncapped,
    DevolutionAgreed: _devolution,
    FundingAllocated: _funding,
    FundingPlanned: _funding,
    EventCorrected: _corrected,
}
"""What each event type says in the timeline, in plain words (every type has one: a test checks)."""


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" or noun.startswith(("NHS", "ICS", "STP")) else f"a {noun}"


def render(files: Sequence[EventFile]) -> str:
    """The Markdown timeline of these event files (deterministic)."""
    return _Timeline(files).render()


def is_current(events_dir: Path = DEFAULT_EVENTS, out: Path = DEFAULT_OUT) -> bool:
    """Whether `out` already holds the timeline of `events_dir`."""
    try:
        return out.read_text(encoding="utf-8") == render(load(events_dir))
    except FileNotFoundError:
        return False


def write(events_dir: Path = DEFAULT_EVENTS, out: Path = DEFAULT_OUT) -> bool:
    """Regenerate `out` from `events_dir`; True if the file changed."""
    rendered = render(load(events_dir))
    try:
        if out.read_text(encoding="utf-8") == rendered:
            return False
    except FileNotFoundError:
        pass
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered, encoding="utf-8")
    return True
