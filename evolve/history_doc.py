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

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
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
    FootprintsMerged,
    FundingAllocated,
    IntegratedCareSystemsDesignated,
    LeaderAppointed,
    OrganisationRegistered,
    OrganisationRenamed,
    PartnershipsFormed,
    PlanMilestone,
    PolicyPublished,
    Scope,
    Source,
    SystemAbsorbed,
    SystemsRenamed,
)
from evolve.files import EventFile, load
from evolve.types import Precision

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
        self.files = sorted(files, key=lambda f: (f.event.effective, f.name))
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
        describer = _DESCRIBERS.get(type(event))
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
        year: int | None = None
        for f in self.files:
            event = f.event
            if event.effective.year != year:
                year = event.effective.year
                lines += ["", f"## {year}", ""]
            when = format_date(event.effective, event.precision)
            what = self.describe(event)
            sources = "; ".join(dict.fromkeys(format_source(s) for s in event.sources))
            lines.append(f"- **{when}**: {what} Sources: {sources}.")
        return "\n".join(lines) + "\n"


def _policy(t: _Timeline, e: PolicyPublished) -> str:
    t.names[e.policy_id] = e.title
    summary = f" {text(e.summary)}" if e.summary else ""
    return f"[{text(e.title)}]({link_target(e.url)}) published by {text(e.publisher)}.{summary}"


def _registered(t: _Timeline, e: OrganisationRegistered) -> str:
    t.names[e.organisation] = e.name
    t.created.add(e.organisation)
    code = f" (code {e.code})" if e.code else ""
    return f"{text(e.name)}{code} registered as a {labels.KINDS[e.kind].singular}."


def _footprint(t: _Timeline, e: FootprintDesignated) -> str:
    restated = e.organisation in t.created
    old = t.names.get(e.organisation)
    t.names[e.organisation] = e.name
    t.created.add(e.organisation)
    details = []
    if e.code:
        details.append(f"code {e.code}")
    if e.population is not None:
        details.append(f"population {e.population:,}")
    if e.members:
        details.append(f"members {t.names_of(e.members)}")
    extra = f" ({'; '.join(details)})" if details else ""
    if restated:
        renamed = f", now named {text(e.name)}" if old is not None and old != e.name else ""
        return f"Footprint {text(old or e.name)} re-stated{renamed}{extra}."
    return f"{text(e.name)} designated an STP footprint{extra}."


def _leader(t: _Timeline, e: LeaderAppointed) -> str:
    role = f" ({text(e.role)})" if e.role else ""
    return f"{text(e.leader)}{role} named leader of {t.name(e.organisation)}."


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
    return f"Capped expenditure process applied for {e.financial_year}: {t.scope(e.scope)}."


def _uncapped(t: _Timeline, e: CappedExpenditureLifted) -> str:
    return f"Capped expenditure process lifted for {e.financial_year}: {t.scope(e.scope)}."


def _devolution(t: _Timeline, e: DevolutionAgreed) -> str:
    return f"Health devolution agreed: {t.scope(e.scope)}."


def _funding(t: _Timeline, e: FundingAllocated) -> str:
    return (
        f"{text(e.fund)}, {e.financial_year}: {format_money(e.amount_pence, e.currency)} "
        f"recorded against {t.scope(e.scope)}."
    )


def _merged(t: _Timeline, e: FootprintsMerged) -> str:
    merged = t.names_of(e.merged)
    t.names[e.into] = e.name
    t.created.add(e.into)
    code = f" (code {e.code})" if e.code else ""
    return f"{merged} merged into one health system, {text(e.name)}{code}."


def _absorbed(t: _Timeline, e: SystemAbsorbed) -> str:
    return f"{t.name(e.organisation)} ended as a separate health system, absorbed into {t.name(e.into)}."


def _renamed(t: _Timeline, e: OrganisationRenamed) -> str:
    old = t.name(e.organisation)
    t.names[e.organisation] = e.name
    return f"{old} renamed {text(e.name)}."


def _corrected(t: _Timeline, e: EventCorrected) -> str:
    target = t.file_names.get(e.corrects)
    which = f"`{target}`" if target else f"event {e.corrects}"
    if e.replacement is None:
        return f"Correction: {which} is retracted."
    return f"Correction: {which} now reads: {t.describe(e.replacement)}"


_DESCRIBERS: dict[type[BaseEvent], Callable[[_Timeline, BaseEvent], str]] = {
    PolicyPublished: _policy,  # type: ignore[dict-item]
    OrganisationRegistered: _registered,  # type: ignore[dict-item]
    FootprintDesignated: _footprint,  # type: ignore[dict-item]
    LeaderAppointed: _leader,  # type: ignore[dict-item]
    PlanMilestone: _milestone,  # type: ignore[dict-item]
    PartnershipsFormed: _partnerships,  # type: ignore[dict-item]
    AccountableCareSystemsDesignated: _acs,  # type: ignore[dict-item]
    IntegratedCareSystemsDesignated: _ics,  # type: ignore[dict-item]
    SystemsRenamed: _renamed_systems,  # type: ignore[dict-item]
    CappedExpenditureApplied: _capped,  # type: ignore[dict-item]
    CappedExpenditureLifted: _uncapped,  # type: ignore[dict-item]
    DevolutionAgreed: _devolution,  # type: ignore[dict-item]
    FundingAllocated: _funding,  # type: ignore[dict-item]
    FootprintsMerged: _merged,  # type: ignore[dict-item]
    SystemAbsorbed: _absorbed,  # type: ignore[dict-item]
    OrganisationRenamed: _renamed,  # type: ignore[dict-item]
    EventCorrected: _corrected,  # type: ignore[dict-item]
}


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
