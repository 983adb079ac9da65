"""Property: the projection always answers what a naive fold of the whole log answers.

Random logs mix every event type, back-dated appends, same-day events,
broadcasts, merges, batches and corrections (replace and retract). For random
(as_of, known_at) pairs, every organisation's projected state must equal the
naive fold filtered the same way; and a rebuild must reproduce the interval
tables exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.bootstrap import Evolve
from evolve.catalogue import Event, EventCorrected, PolicyPublished
from evolve.errors import InvalidEvent
from evolve.records import EventRecord
from evolve.settings import Settings
from evolve.views.memory import MemoryTimelineView
from tests.conftest import Databases
from tests.factories import SOURCE
from tests.oracle import fold_log, known_from

BASE = dt.date(2016, 1, 1)
DAYS = st.integers(min_value=0, max_value=40).map(lambda n: BASE + dt.timedelta(days=30 * (n // 4) + n % 4))
STAGES = ["footprint", "partnership", "acs", "ics", "statutory_ics"]


class LogBuilder:
    """Draws events that refer only to subjects the log already has."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.orgs: list[str] = []
        self.systems: list[str] = []
        self.records: list[EventRecord] = []
        self.counter = 0

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def new_id(self) -> str:
        self.counter += 1
        return f"org-{self.counter}"

    def scope(self) -> dict[str, Any]:
        choice = self.draw(st.sampled_from(["orgs", "stage", "kind"]) if self.orgs else st.just("stage"))
        if choice == "orgs":
            return {
                "organisations": self.draw(st.lists(st.sampled_from(self.orgs), min_size=1, max_size=3, unique=True))
            }
        if choice == "stage":
            return {"stage": self.draw(st.sampled_from(STAGES))}
        return {"kind": self.draw(st.sampled_from(["health_system", "ccg"]))}

    def event(self, allow_correction: bool = True) -> dict[str, Any]:
        day = self.draw(DAYS).isoformat()
        base = {"effective": day, "precision": "day", "sources": SOURCE}
        kinds = ["footprint", "register"]
        if self.orgs:
            kinds += ["leader", "rename", "stage", "renamed", "flag", "funding", "milestone"]
        if len(self.systems) >= 2:
            kinds += ["merge", "absorb"]
        if allow_correction and any(not isinstance(r.event, EventCorrected) for r in self.records):
            kinds += ["correct", "correct"]
        kind = self.draw(st.sampled_from(kinds))
        if kind == "footprint":
            org = (
                self.draw(st.sampled_from(self.systems)) if self.systems and self.draw(st.booleans()) else self.new_id()
            )
            members = self.draw(st.lists(st.sampled_from(self.orgs), max_size=2, unique=True)) if self.orgs else []
            return {
                **base,
                "type": "FootprintDesignated",
                "organisation": org,
                "name": f"System {org}",
                "members": members,
                "population": self.draw(st.none() | st.integers(0, 3_000_000)),
            }
        if kind == "register":
            org = self.new_id()
            return {
                **base,
                "type": "OrganisationRegistered",
                "organisation": org,
                "name": f"Org {org}",
                "kind": self.draw(st.sampled_from(["health_system", "ccg"])),
            }
        if kind == "leader":
            return {
                **base,
                "type": "LeaderAppointed",
                "organisation": self.draw(st.sampled_from(self.orgs)),
                "leader": self.draw(st.sampled_from(["A. Leader", "B. Leader"])),
            }
        if kind == "rename":
            return {
                **base,
                "type": "OrganisationRenamed",
                "organisation": self.draw(st.sampled_from(self.orgs)),
                "name": self.draw(st.sampled_from(["Renamed", "Other name"])),
            }
        if kind == "stage":
            type_ = self.draw(
                st.sampled_from(
                    ["PartnershipsFormed", "AccountableCareSystemsDesignated", "IntegratedCareSystemsDesignated"]
                )
            )
            return {**base, "type": type_, "scope": self.scope()}
        if kind == "renamed":
            a, b = self.draw(st.lists(st.sampled_from(STAGES), min_size=2, max_size=2, unique=True))
            return {**base, "type": "SystemsRenamed", "from_stage": a, "to_stage": b, "term": f"{b} term"}
        if kind == "flag":
            type_ = self.draw(
                st.sampled_from(["CappedExpenditureApplied", "CappedExpenditureLifted", "DevolutionAgreed"])
            )
            extra = {} if type_ == "DevolutionAgreed" else {"financial_year": "2017/18"}
            return {**base, "type": type_, "scope": self.scope(), **extra}
        if kind == "funding":
            return {
                **base,
                "type": "FundingAllocated",
                "scope": self.scope(),
                "fund": "STF",
                "financial_year": "2016/17",
                "amount_pence": self.draw(st.integers(0, 10**12)),
            }
        if kind == "milestone":
            return {
                **base,
                "type": "PlanMilestone",
                "scope": self.scope(),
                "milestone": self.draw(st.sampled_from(["short_return", "draft_submitted", "published"])),
            }
        if kind == "merge":
            merged = self.draw(st.lists(st.sampled_from(self.systems), min_size=2, max_size=3, unique=True))
            return {**base, "type": "FootprintsMerged", "merged": merged, "into": self.new_id(), "name": "Merged"}
        if kind == "absorb":
            gone, into = self.draw(st.lists(st.sampled_from(self.systems), min_size=2, max_size=2, unique=True))
            return {**base, "type": "SystemAbsorbed", "organisation": gone, "into": into}
        targets = [r for r in self.records if not isinstance(r.event, EventCorrected)]
        target = self.draw(st.sampled_from(targets))
        if self.draw(st.booleans()):
            return {**base, "type": "EventCorrected", "corrects": str(target.id), "retract": True}
        replacement = self.event(allow_correction=False)
        return {**base, "type": "EventCorrected", "corrects": str(target.id), "replacement": replacement}

    def note_created(self, event: Any) -> None:
        inner = event.replacement if isinstance(event, EventCorrected) else event
        if inner is None or isinstance(inner, PolicyPublished):
            return
        for org in inner.created():
            if org not in self.orgs:
                self.orgs.append(org)
            if inner.type in ("FootprintDesignated", "FootprintsMerged") and org not in self.systems:
                self.systems.append(org)


def build_log(system: Evolve, data: st.DataObject, steps: int) -> LogBuilder:
    builder = LogBuilder(data)
    for _ in range(steps):
        size = builder.draw(st.sampled_from([1, 1, 1, 2, 3]))
        batch = []
        for _ in range(size):
            raw = builder.event()
            event = msgspec.convert(raw, Event)
            batch.append(event)
            builder.note_created(event)
        try:
            builder.records += system.append(batch)
        except InvalidEvent:
            # e.g. a batch whose merge reuses an id another event in it creates:
            # the store refused it whole, which is what atomicity means.
            builder.orgs = [o for o in builder.orgs if system.store.version(o) > 0]
            builder.systems = [o for o in builder.systems if o in builder.orgs]
    return builder


def interval_tables(system: Evolve) -> list[tuple[Any, ...]]:
    if isinstance(system.view, MemoryTimelineView):
        tables = system.view._tables
        return sorted(
            (org, r.valid_from, r.valid_to, r.recorded_from_us, r.recorded_to_us, r.data.scalar, r.data.lists)
            for org, rows in tables.rows.items()
            for r in rows
        )
    with system.view.reader() as read:
        return [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in read.rows("SELECT * FROM timeline_intervals ORDER BY org, valid_from, recorded_from_us")
        ]


@pytest.fixture(scope="module")
def scratch(databases: Databases) -> str:
    """One database for all examples, emptied before each."""
    return databases.url()


def test_projection_equals_naive_fold(databases: Databases, scratch: str) -> None:
    # 200 random logs on SQLite; PostgreSQL, slower per example, checks 100 more.
    examples = 200 if databases.backend == "sqlite" else 100

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        system = Evolve(Settings(database_url=databases.emptied(scratch)))
        try:
            check_against_fold(system, data)
        finally:
            system.close()

    check()


def test_projection_equals_naive_fold_on_the_plain_object_view() -> None:
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        system = Evolve(Settings(database_url="memory://"))
        try:
            check_against_fold(system, data)
        finally:
            system.close()

    check()


def check_against_fold(system: Evolve, data: st.DataObject) -> None:
    builder = build_log(system, data, steps=data.draw(st.integers(3, 18)))
    if not builder.records:
        return
    times = known_from(builder.records)
    record_times = sorted(times.values())
    interesting = sorted({d for r in builder.records for d in _dates(r)})
    for _ in range(4):
        known = data.draw(st.sampled_from(record_times)) + data.draw(st.sampled_from([0, 0, -1]))
        known_at = dt.datetime.fromtimestamp(known / 1_000_000, tz=dt.UTC)
        known_micros = int(known_at.timestamp() * 1_000_000)
        for day in interesting:
            expected = fold_log(builder.records, day, known_micros)
            actual = {s.id: s for s in system.queries.all_states(day, known_at)}
            projected = {org: _status(s) for org, s in actual.items()}
            assert projected == expected, f"as_of={day} known_at={known_at}"

    before = interval_tables(system)
    system.rebuild()
    assert interval_tables(system) == before


def _dates(record: EventRecord) -> list[dt.date]:
    event = record.event
    days = [event.effective]
    if isinstance(event, EventCorrected) and event.replacement is not None:
        days.append(event.replacement.effective)
    return [d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)]


def _status(state: Any) -> Any:
    from evolve.state import Status

    fields = msgspec.structs.asdict(state)
    fields.pop("as_of")
    fields.pop("known_at")
    return Status(**fields)
