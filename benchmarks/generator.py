"""A deterministic generator of realistic synthetic policy logs.

``generate(n, seed)`` returns ``n`` events in log order, with the ids to
append them under (``Evolve.append(events, ids=ids)``), so corrections can
name the events they correct. The shape follows the real history at a larger
scale:

- organisations (health systems, CCGs, trusts, local authorities) come into
  existence over the first 15 of 20 years (2005-2024); every one is registered
  (``OrganisationRegistered`` or, for a health system, ``FootprintDesignated``
  naming members that already exist) before any event refers to it;
- policy documents are published along the way and cited by later events;
- the log advances through valid time: each event takes effect on or just
  before the log's clock, except about 5% that are back-dated (0.1 to 5
  years before the clock), which make the projection refold history;
- about 1% are corrections (``EventCorrected``) of an earlier event: a
  replacement (most) or a retraction;
- about 0.1% are broadcasts (scope = every health system in a stage, or a
  ``SystemsRenamed``), which is rare, as in the real log (about ten in eight
  years).

The organisation count scales with the log (one per ~50 events, at least 40),
so an organisation's own history stays about the same length at every size
and a status never grows without bound. Same ``(n, seed)``, same log, byte
for byte.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from msgspec.structs import replace

from evolve.catalogue import Event

START = dt.date(2005, 1, 1)
END = dt.date(2024, 12, 31)
SPAN_DAYS = (END - START).days

BACKDATED_RATE = 0.05
CORRECTION_RATE = 0.01
BROADCAST_RATE = 0.001
EVENTS_PER_ORGANISATION = 50
MIN_ORGANISATIONS = 40
#: A correction names an event at least this many entries before it.
CORRECTION_DISTANCE = 1000

KIND_WEIGHTS = (("health_system", 0.15), ("ccg", 0.35), ("trust", 0.35), ("local_authority", 0.15))
REGIONS = (
    "London",
    "South East",
    "South West",
    "Midlands",
    "East of England",
    "North East and Yorkshire",
    "North West",
)
STAGES = ("footprint", "partnership", "acs", "ics", "statutory_ics")
STAGE_EVENTS = {
    "partnership": "PartnershipsFormed",
    "acs": "AccountableCareSystemsDesignated",
    "ics": "IntegratedCareSystemsDesignated",
}
MILESTONES = ("footprint_proposed", "short_return", "draft_submitted", "final_submitted", "published")
FUNDS = ("transformation fund", "sustainability fund", "capital", "winter pressures", "digital")
FIRST = ("Alex", "Sam", "Jo", "Chris", "Pat", "Morgan", "Robin", "Kim", "Lee", "Nic", "Viv", "Ash")
LAST = ("Smith", "Jones", "Patel", "Khan", "Taylor", "Brown", "Evans", "Wilson", "Ahmed", "Walker", "Hughes")
WORDS = ("north", "south", "east", "west", "central", "upper", "lower", "greater", "vale", "coast", "moor", "downs")
PLACES = (
    "ashby",
    "brook",
    "calder",
    "dene",
    "elm",
    "fairfield",
    "glen",
    "hollin",
    "ings",
    "kirk",
    "lea",
    "marsh",
    "ness",
    "oak",
    "pen",
    "quay",
    "rother",
    "stoke",
    "thorn",
    "wold",
)
KIND_SUFFIX = {
    "health_system": "health-and-care",
    "ccg": "ccg",
    "trust": "nhs-trust",
    "local_authority": "council",
}

# Ordinary (non-creation) events: (type, weight), by the kind of the organisation.
COMMON_MIX = (
    ("LeaderAppointed", 0.40),
    ("OrganisationRestated", 0.10),
    ("FundingAllocated", 0.08),
    ("CappedExpenditure", 0.18),
    ("DevolutionAgreed", 0.02),
    ("FundingShared", 0.02),
)
SYSTEM_MIX = (*COMMON_MIX, ("PlanMilestone", 0.08), ("StageChange", 0.12))


def _cumulative(mix: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    names, total, out = [], 0.0, []
    for name, weight in mix:
        total += weight
        names.append(name)
        out.append(total)
    return names, out


_COMMON_MIX = _cumulative(COMMON_MIX)
_SYSTEM_MIX = _cumulative(SYSTEM_MIX)


@dataclass(frozen=True)
class Organisation:
    id: str
    kind: str
    start: dt.date
    name: str


@dataclass
class SyntheticLog:
    """A generated log: the events in append order, their ids and what it holds."""

    seed: int
    events: list[Any]
    ids: list[UUID]
    organisations: list[Organisation]
    counts: Counter[str] = field(default_factory=Counter)
    backdated: int = 0
    corrections: int = 0
    broadcasts: int = 0

    def __len__(self) -> int:
        return len(self.events)

    def payloads(self) -> list[bytes]:
        """Each event as the JSON the API and files carry (the baselines' payload)."""
        encode = msgspec.json.Encoder().encode
        return [encode(e) for e in self.events]

    def batches(self, size: int = 5000) -> list[tuple[int, int]]:
        """(start, end) slices of at most `size` events for bulk appends.

        The store checks a correction's target in the log, not in the batch
        being appended, so a batch never holds a correction and its target.
        """
        targets = {event_id: i for i, event_id in enumerate(self.ids)}
        out: list[tuple[int, int]] = []
        start = 0
        for i, event in enumerate(self.events):
            cut = i - start >= size
            if not cut and getattr(event, "type", None) == "EventCorrected":
                cut = targets[event.corrects] >= start
            if cut:
                out.append((start, i))
                start = i
        if start < len(self.events):
            out.append((start, len(self.events)))
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "events": len(self.events),
            "organisations": len(self.organisations),
            "backdated": self.backdated,
            "corrections": self.corrections,
            "broadcasts": self.broadcasts,
            "by_type": dict(sorted(self.counts.items())),
        }


def organisation_count(n: int) -> int:
    return max(MIN_ORGANISATIONS, n // EVENTS_PER_ORGANISATION)


def generate(n: int, seed: int = 0, *, organisations: int | None = None) -> SyntheticLog:
    """`n` events (n >= 2 x organisations is sensible) in log order, deterministic by `seed`."""
    return _Generator(n, seed, organisations or organisation_count(n)).run()


class _Generator:
    def __init__(self, n: int, seed: int, n_orgs: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.seed = seed
        n_orgs = min(n_orgs, max(1, n // 2))
        self.plan = self._plan_organisations(n_orgs)
        self.n_policies = max(3, n // 2000)
        self.policy_dates = sorted(self._day(self.rng.uniform(0, 0.9)) for _ in range(self.n_policies))
        self.events: list[Any] = []
        self.ids: list[UUID] = []
        self.counts: Counter[str] = Counter()
        self.alive: list[Organisation] = []
        self.start_of: dict[str, dt.date] = {}  # each alive organisation's first day, by id
        self.alive_by_kind: dict[str, list[Organisation]] = {k: [] for k, _ in KIND_WEIGHTS}
        self.policies: list[str] = []
        self.correctable: list[int] = []  # indexes of ordinary, org-scoped events
        self.stage: dict[str, int] = {}
        self.backdated = self.corrections = self.broadcasts = 0

    # ---- helpers ------------------------------------------------------------------

    def _day(self, fraction: float) -> dt.date:
        return START + dt.timedelta(days=int(fraction * SPAN_DAYS))

    def _uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def _plan_organisations(self, count: int) -> list[Organisation]:
        kinds = [k for k, _ in KIND_WEIGHTS]
        weights = [w for _, w in KIND_WEIGHTS]
        plan: list[Organisation] = []
        for i in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "health_system":
                # Systems appear after the bodies they group.
                start = self._day(self.rng.uniform(0.05, 0.75))
            else:
                start = START if self.rng.random() < 0.3 else self._day(self.rng.uniform(0.0, 0.7))
            place = f"{self.rng.choice(WORDS)}-{self.rng.choice(PLACES)}"
            slug = f"{place}-{KIND_SUFFIX[kind]}-{i}"
            plan.append(Organisation(slug, kind, start, place.replace("-", " ").title()))
        plan.sort(key=lambda o: (o.start, o.id))
        return plan

    def _sources(self, n: int) -> list[dict[str, str]]:
        return [{"title": f"Synthetic source {n}", "url": f"https://example.org/evolve/{self.seed}/{n}"}]

    def _emit(self, data: dict[str, Any], precision_day: dt.date, earliest: dt.date, *, policy: bool = True) -> int:
        """Add one event; choose its precision without moving it before `earliest`."""
        precision = "day"
        day = precision_day
        r = self.rng.random()
        if r < 0.05 and day.replace(month=1, day=1) >= earliest:
            precision, day = "year", day.replace(month=1, day=1)
        elif r < 0.15 and day.replace(day=1) >= earliest:
            precision, day = "month", day.replace(day=1)
        body: dict[str, Any] = {
            "effective": day.isoformat(),
            "precision": precision,
            "sources": self._sources(len(self.events)),
            **data,
        }
        if policy and self.policies and self.rng.random() < 0.2:
            body["policy"] = self.rng.choice(self.policies)
        event = msgspec.convert(body, Event)
        self.events.append(event)
        self.ids.append(self._uuid())
        self.counts[data["type"]] += 1
        return len(self.events) - 1

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    # ---- the log --------------------------------------------------------------------

    def run(self) -> SyntheticLog:
        plan = self.plan
        next_org = 0
        next_policy = 0
        for region in REGIONS:  # the regions that systems name, there from the start
            self._emit({"type": "OrganisationRegistered", "organisation": _slug(region), "name": region,
                        "kind": "region"}, START, START, policy=False)
        for i in range(self.n - len(REGIONS)):
            clock = self._day(i / self.n)
            if next_policy < self.n_policies and self.policy_dates[next_policy] <= clock:
                self._policy(next_policy, self.policy_dates[next_policy])
                next_policy += 1
            elif next_org < len(plan) and (plan[next_org].start <= clock or not self.alive):
                self._create(plan[next_org])
                next_org += 1
            else:
                self._ordinary(clock)
        # Organisations not reached yet (only in tiny logs) are left out.
        return SyntheticLog(
            seed=self.seed,
            events=self.events,
            ids=self.ids,
            organisations=list(self.alive),
            counts=self.counts,
            backdated=self.backdated,
            corrections=self.corrections,
            broadcasts=self.broadcasts,
        )

    def _policy(self, index: int, day: dt.date) -> None:
        policy_id = f"synthetic-policy-{index}"
        self._emit(
            {
                "type": "PolicyPublished",
                "policy_id": policy_id,
                "title": f"Synthetic policy {index}",
                "publisher": "NHS England",
                "url": f"https://example.org/policy/{index}",
            },
            day,
            day,
            policy=False,
        )
        self.policies.append(policy_id)

    def _create(self, org: Organisation) -> None:
        if org.kind == "health_system":
            pool = [o for k in ("ccg", "trust", "local_authority") for o in self.alive_by_kind[k][-200:]]
            members = sorted({o.id for o in self.rng.sample(pool, min(len(pool), self.rng.randint(2, 6)))})
            data: dict[str, Any] = {
                "type": "FootprintDesignated",
                "organisation": org.id,
                "name": org.name,
                "region": _slug(self.rng.choice(REGIONS)),
                "members": members,
                "population": {"count": self.rng.randint(300_000, 3_000_000), "as_of": org.start.isoformat(),
                               "precision": "day"},
            }
            self.stage[org.id] = 0
        else:
            data = {
                "type": "OrganisationRegistered",
                "organisation": org.id,
                "name": org.name,
                "kind": org.kind,
            }
        # Creations are never imprecise: they anchor the organisation's first day.
        event = msgspec.convert(
            {
                "effective": org.start.isoformat(),
                "precision": "day",
                "sources": self._sources(len(self.events)),
                **data,
            },
            Event,
        )
        self.events.append(event)
        self.ids.append(self._uuid())
        self.counts[data["type"]] += 1
        self.alive.append(org)
        self.start_of[org.id] = org.start
        self.alive_by_kind[org.kind].append(org)

    def _ordinary(self, clock: dt.date, correction: bool = True) -> None:
        r = self.rng.random()
        if r < BROADCAST_RATE and self.alive_by_kind["health_system"]:
            self._broadcast(clock)
            return
        if r < BROADCAST_RATE + CORRECTION_RATE and correction and self.correctable:
            self._correction(clock)
            return
        org = self.rng.choice(self.alive)
        data = self._ordinary_data(org)
        # Every organisation the event names must exist on its date.
        named = set(data.get("scope", {}).get("organisations", [org.id]))
        earliest = max(self.start_of[org_id] for org_id in named)  # a scan of `alive` made 1M quadratic
        if self.rng.random() < BACKDATED_RATE:
            back = self.rng.randint(36, 5 * 365)
            day = max(earliest, clock - dt.timedelta(days=back))
            self.backdated += 1
        else:
            # Reporting lag of a few days at most: in order, or nearly.
            day = max(earliest, clock - dt.timedelta(days=self.rng.randint(0, 3)))
        if data["type"] == "CappedExpenditureApplied":  # for the financial year the day falls in
            year = day.year - (day.month < 4)
            data["financial_year"] = f"{year}/{(year + 1) % 100:02d}"
        index = self._emit(data, day, earliest)
        self.correctable.append(index)

    def _ordinary_data(self, org: Organisation) -> dict[str, Any]:
        names, cumulative = _SYSTEM_MIX if org.kind == "health_system" else _COMMON_MIX
        kind = self.rng.choices(names, cum_weights=cumulative)[0]
        one = {"organisations": [org.id]}
        if kind == "LeaderAppointed":
            return {"type": kind, "organisation": org.id, "leader": self._person(), "role": "Chief Executive"}
        if kind == "OrganisationRestated":
            return {"type": kind, "organisation": org.id, "name": f"{org.name} {self.rng.choice(WORDS).title()}"}
        if kind in ("FundingAllocated", "FundingShared"):
            if kind == "FundingShared":
                others = self.rng.sample(self.alive, min(len(self.alive), self.rng.randint(2, 4)))
                scope = {"organisations": sorted({org.id, *(o.id for o in others)})}
            else:
                scope = one
            year = self.rng.randint(2005, 2024)
            return {
                "type": "FundingAllocated",
                "scope": scope,
                "amount_pence": self.rng.randint(1, 50_000) * 100_000,
                "fund": self.rng.choice(FUNDS),
                "financial_year": f"{year}/{(year + 1) % 100:02d}",
            }
        if kind == "CappedExpenditure":
            # Applied for a financial year (set once the day is known); it ends with the year.
            return {"type": "CappedExpenditureApplied", "scope": one, "financial_year": "2005/06"}
        if kind == "DevolutionAgreed":
            return {"type": kind, "scope": one}
        if kind == "PlanMilestone":
            return {"type": kind, "scope": one, "milestone": self.rng.choice(MILESTONES)}
        # StageChange: the next stage of this system's path (an ICS stays an ICS).
        step = min(self.stage.get(org.id, 0) + 1, 3)
        self.stage[org.id] = step
        data: dict[str, Any] = {"type": STAGE_EVENTS[STAGES[step]], "scope": one}
        if data["type"] == "AccountableCareSystemsDesignated":
            data["shadow"] = self.rng.random() < 0.5
        return data

    def _broadcast(self, clock: dt.date) -> None:
        self.broadcasts += 1
        r = self.rng.random()
        data: dict[str, Any]
        if r < 0.6:
            step = self.rng.randint(0, 2)
            data = {
                "type": "SystemsRenamed",
                "from_stage": STAGES[step],
                "to_stage": STAGES[step + 1],
                "term": f"synthetic {STAGES[step + 1]} term",
            }
        elif r < 0.8:
            data = {"type": "PartnershipsFormed", "scope": {"stage": "footprint"}}
        else:
            year = clock.year
            data = {
                "type": "CappedExpenditureLifted",
                "scope": {"stage": self.rng.choice(STAGES[:4])},
                "financial_year": f"{year}/{(year + 1) % 100:02d}",
            }
        self._emit(data, clock, clock, policy=True)

    def _correction(self, clock: dt.date) -> None:
        # Mostly recent events are corrected, sometimes old ones; never one of the
        # last CORRECTION_DISTANCE entries (see `batches`).
        pool = self.correctable[: bisect.bisect_left(self.correctable, len(self.events) - CORRECTION_DISTANCE)]
        if not pool:
            self._ordinary(clock, correction=False)
            return
        self.corrections += 1
        if self.rng.random() < 0.8:
            pick = pool[-1 - min(len(pool) - 1, int(self.rng.expovariate(1 / 500)))]
        else:
            pick = self.rng.choice(pool)
        target = self.events[pick]
        body: dict[str, Any] = {
            "type": "EventCorrected",
            "effective": clock.isoformat(),
            "precision": "day",
            "sources": self._sources(len(self.events)),
            "corrects": str(self.ids[pick]),
        }
        if self.rng.random() < 0.25:
            body["retract"] = True
        else:
            body["replacement"] = msgspec.to_builtins(self._replacement(target))
        self.events.append(msgspec.convert(body, Event))
        self.ids.append(self._uuid())
        self.counts["EventCorrected"] += 1

    def _replacement(self, target: Any) -> Any:
        changes: dict[str, Any] = {"note": "corrected after review"}
        if target.type == "LeaderAppointed":
            changes["leader"] = self._person()
        elif target.type == "FundingAllocated":
            changes["amount_pence"] = target.amount_pence + 100_000
        if target.precision == "day" and target.type != "CappedExpenditureApplied" and self.rng.random() < 0.5:
            # The date was wrong: later by up to a month (never before the organisation existed).
            changes["effective"] = target.effective + dt.timedelta(days=self.rng.randint(1, 30))
        return replace(target, **changes)


def sample_queries(log: SyntheticLog, count: int, seed: int = 1) -> list[tuple[str, dt.date]]:
    """`count` (organisation, as_of) pairs, each on or after the organisation's first day."""
    rng = random.Random(seed)
    orgs = [o for o in log.organisations if o.start < END]
    out = []
    for _ in range(count):
        org = rng.choice(orgs)
        days = (END - org.start).days
        out.append((org.id, org.start + dt.timedelta(days=rng.randint(0, days))))
    return out


def _slug(name: str) -> str:
    return "nhs-england-" + name.lower().replace(" ", "-")
