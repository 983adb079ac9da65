"""Property: the projection always answers what a naive fold of the whole log answers.

Random logs mix every event type: creations of every kind (sub-area systems, regions), leaders who
come and go, flags tied to financial years, restatements, memberships that change, mergers of any
kind into new and existing organisations, dissolutions (named and broadcast), broadcasts,
back-dated appends, same-day events, batches, and corrections (replace and retract). Each batch
is drawn against what the log says on its date, so most are valid; the store must refuse exactly
the batches the naive fold finds a rule broken in. For random (as_of, known_at) pairs every
organisation's projected state (who names it, and its memberships over time) must equal the naive
fold's; on SQL the relation rows must name what the folded states name, one row per unbroken run;
and a rebuild must reproduce the interval and relation tables exactly. The same holds when the
batches are committed in groups (group commit): each batch gets the verdict it would get alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.bootstrap import Evolve
from evolve.catalogue import Event, EventCorrected
from evolve.errors import InvalidEvent
from evolve.records import EventRecord
from evolve.settings import Settings
from evolve.state import Status
from evolve.store import _Append
from evolve.types import Kind
from evolve.views import runs
from evolve.views.memory import MemoryTimelineView
from tests.conftest import Databases
from tests.factories import SOURCE
from tests.oracle import fold_log, record_times, refusals_of

BASE = dt.date(2016, 1, 1)
DAYS = st.integers(min_value=0, max_value=40).map(lambda n: BASE + dt.timedelta(days=30 * (n // 4) + n % 4))
STAGES = ["footprint", "partnership", "acs", "ics", "statutory_ics"]
YEARS = ["2016/17", "2017/18", "2018/19"]
FAR = 2**62


class LogBuilder:
    """Draws events against what the log says on their date (so most are valid)."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.records: list[EventRecord] = []
        self.counter = 0

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def pick(self, items: list[str], most: int = 1) -> list[str]:
        return self.draw(st.lists(st.sampled_from(sorted(items)), min_size=1, max_size=most, unique=True))

    def new_id(self, prefix: str = "org") -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def alive(self, day: dt.date) -> dict[str, Status]:
        return fold_log(self.records, day, FAR)

    def scope(self, alive: dict[str, Status]) -> dict[str, Any]:
        choice = self.draw(st.sampled_from(["orgs", "stage", "kind"]) if alive else st.just("stage"))
        if choice == "orgs":
            return {"organisations": self.pick(list(alive), 3)}
        if choice == "stage":
            return {"stage": self.draw(st.sampled_from(STAGES))}
        return {"kind": self.draw(st.sampled_from(["health_system", "ccg"]))}

    def event(self, allow_correction: bool = True) -> dict[str, Any]:
        day = self.draw(DAYS)
        alive = self.alive(day)
        base = {"effective": day.isoformat(), "precision": "day", "sources": SOURCE}
        of_kind = {k: [o for o, s in alive.items() if s.kind is k] for k in Kind}
        systems = of_kind[Kind.HEALTH_SYSTEM]
        kinds = ["footprint", "register", "register"]
        if alive:
            kinds += ["leader", "restate", "stage", "renamed", "flag", "funding", "milestone", "merge", "dissolve"]
        if systems and len(alive) > 1:
            kinds += ["join", "join", "leave"]
        if allow_correction and any(not isinstance(r.event, EventCorrected) for r in self.records):
            kinds += ["correct"]
        kind = self.draw(st.sampled_from(kinds))
        return {**base, **getattr(self, f"_{kind}")(day, alive, of_kind)}

    def _footprint(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        members = of_kind[Kind.CCG] + of_kind[Kind.TRUST]
        chosen = self.draw(st.lists(st.sampled_from(sorted(members)), max_size=2, unique=True)) if members else []
        region = of_kind[Kind.REGION] and self.draw(st.booleans())
        org = self.new_id()
        return {
            "type": "FootprintDesignated", "organisation": org, "name": f"System {org}", "members": chosen,
            **({"region": self.pick(of_kind[Kind.REGION])[0]} if region else {}),
        }

    def _register(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        kind = self.draw(st.sampled_from(["health_system", "ccg", "ccg", "trust", "region"]))
        top = [o for o in of_kind[Kind.HEALTH_SYSTEM] if alive[o].parent is None]
        parent = kind == "health_system" and top and self.draw(st.booleans())
        org = self.new_id(kind.replace("_", "-"))
        return {
            "type": "OrganisationRegistered", "organisation": org, "name": f"Org {org}", "kind": kind,
            **({"parent": self.pick(top)[0]} if parent else {}),
        }

    def _leader(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        org = self.pick(list(alive))[0]
        if self.draw(st.booleans()) and alive[org].leader is not None:
            return {"type": "LeaderLeft", "organisation": org}
        return {"type": "LeaderAppointed", "organisation": org, "leader": self.draw(st.sampled_from(["A", "B"]))}

    def _restate(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        org = self.pick(list(alive))[0]
        fields: dict[str, Any] = {"name": self.draw(st.sampled_from(["Renamed", "Other"]))}
        if self.draw(st.booleans()):
            fields["code"] = self.draw(st.sampled_from([None, "E54000051", "E38000001"]))
        others = [o for o in of_kind[Kind.HEALTH_SYSTEM] if o != org and alive[o].parent is None]
        if alive[org].kind is Kind.HEALTH_SYSTEM and self.draw(st.booleans()):
            fields["parent"] = self.pick(others)[0] if others and self.draw(st.booleans()) else None
        if of_kind[Kind.REGION] and self.draw(st.booleans()):
            fields["region"] = self.pick(of_kind[Kind.REGION])[0]
        return {"type": "OrganisationRestated", "organisation": org, **fields}

    def _stage(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        names = ["PartnershipsFormed", "AccountableCareSystemsDesignated", "IntegratedCareSystemsDesignated"]
        return {"type": self.draw(st.sampled_from(names)), "scope": self.scope(alive)}

    def _renamed(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        a, b = self.draw(st.lists(st.sampled_from(STAGES), min_size=2, max_size=2, unique=True))
        return {"type": "SystemsRenamed", "from_stage": a, "to_stage": b, "term": f"{b} term"}

    def _flag(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        type_ = self.draw(st.sampled_from(["CappedExpenditureApplied", "CappedExpenditureLifted", "DevolutionAgreed"]))
        if type_ == "DevolutionAgreed":
            return {"type": type_, "scope": self.scope(alive)}
        years = [y for y in YEARS if dt.date(int(y[:4]) + 1, 3, 31) >= day] or ["2019/20"]
        return {"type": type_, "scope": self.scope(alive), "financial_year": self.draw(st.sampled_from(years))}

    def _funding(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        return {
            "type": self.draw(st.sampled_from(["FundingAllocated", "FundingPlanned"])), "scope": self.scope(alive),
            "fund": "STF", "financial_year": "2016/17", "amount_pence": self.draw(st.integers(0, 10**12)),
        }

    def _milestone(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        milestone = self.draw(st.sampled_from(["short_return", "draft_submitted", "published"]))
        return {"type": "PlanMilestone", "scope": self.scope(alive), "milestone": milestone}

    def _merge(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        kind = self.draw(st.sampled_from([k for k in Kind if of_kind[k]]))
        merged = self.pick(of_kind[kind], 3)
        existing = [o for o in alive if o not in merged]
        if existing and self.draw(st.booleans()):
            return {"type": "OrganisationsMerged", "merged": merged, "into": self.pick(existing)[0]}
        into = self.new_id()
        return {"type": "OrganisationsMerged", "merged": merged, "into": into, "name": f"Merged {into}"}

    def _dissolve(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        if self.draw(st.booleans()):
            return {"type": "OrganisationsDissolved", "scope": {"organisations": self.pick(list(alive), 2)}}
        return {"type": "OrganisationsDissolved", "scope": {"kind": self.draw(st.sampled_from(["ccg", "trust"]))}}

    def _join(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        system = self.pick(of_kind[Kind.HEALTH_SYSTEM])[0]
        candidates = [o for o in alive if o != system and o not in alive[system].members]
        if not candidates:
            return self._stage(day, alive, of_kind)
        return {"type": "MembersJoined", "organisation": system, "members": self.pick(candidates, 2)}

    def _leave(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        holding = [o for o in of_kind[Kind.HEALTH_SYSTEM] if alive[o].members]
        if not holding:
            return self._join(day, alive, of_kind)
        system = self.pick(holding)[0]
        return {"type": "MembersLeft", "organisation": system, "members": self.pick(alive[system].members, 2)}

    def _correct(self, day: dt.date, alive: dict[str, Status], of_kind: dict[Kind, list[str]]) -> dict[str, Any]:
        targets = [r for r in self.records if not isinstance(r.event, EventCorrected)]
        target = self.draw(st.sampled_from(targets))
        if self.draw(st.booleans()):
            return {"type": "EventCorrected", "corrects": str(target.id), "retract": True}
        return {"type": "EventCorrected", "corrects": str(target.id), "replacement": self.event(False)}

    def hypothetical(self, batch: list[Event], system: Evolve) -> list[EventRecord]:
        """The records the batch would get: one record time, the next positions, its subjects."""
        now = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        by_id = {r.id: r for r in self.records}
        out = []
        for i, event in enumerate(batch):
            subjects = event.subjects()
            if isinstance(event, EventCorrected) and event.corrects in by_id:
                subjects = [*by_id[event.corrects].subjects, *subjects, str(event.corrects)]
            out.append(EventRecord(id=uuid.uuid4(), position=len(self.records) + i + 1, recorded_at=now,
                                   subjects=list(dict.fromkeys(subjects)), hash="", event=event))
        return out


def build_log(system: Evolve, data: st.DataObject, steps: int) -> LogBuilder:
    builder = LogBuilder(data)
    for _ in range(steps):
        size = builder.draw(st.sampled_from([1, 1, 1, 2, 3]))
        batch = [msgspec.convert(builder.event(), Event) for _ in range(size)]
        expected = refusals_of([*builder.records, *builder.hypothetical(batch, system)])
        try:
            appended = system.append(batch)
        except InvalidEvent as exc:
            assert expected, f"the store refused a batch the naive fold accepts: {exc} ({exc.pointer})" + _told(
                builder.records, batch
            )
            continue
        assert not expected, f"the store took a batch the naive fold refuses: {expected[0]}" + _told(
            builder.records, batch
        )
        builder.records += appended
    return builder


def _told(records: list[EventRecord], batch: list[Event]) -> str:
    """The log and the batch, for a failure message."""
    lines = [f"{r.position} {r.id} {msgspec.json.encode(r.event).decode()}" for r in records]
    return "\nlog:\n" + "\n".join(lines) + "\nbatch:\n" + "\n".join(msgspec.json.encode(e).decode() for e in batch)


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
            for row in read.rows("SELECT * FROM timeline_intervals ORDER BY org, valid_from, recorded_from_us")  # type: ignore[attr-defined]
        ]


def relation_table(system: Evolve) -> list[tuple[Any, ...]]:
    if isinstance(system.view, MemoryTimelineView):
        return []  # it names relations from its states when asked
    with system.view.reader() as read:
        return [tuple(row) for row in read.rows("SELECT * FROM timeline_relations ORDER BY 1, 2, 3, 4, 5")]  # type: ignore[attr-defined]


def relations_on(system: Evolve, day: dt.date, known: int) -> set[tuple[str, str, str]]:
    """What the relation rows say each organisation names on `day`, as known at `known` (µs)."""
    with system.view.reader() as read:
        found = read.rows(  # type: ignore[attr-defined]
            "SELECT org, relation, related FROM timeline_relations "
            "WHERE valid_from<=? AND valid_to>? AND recorded_from_us<=? AND recorded_to_us>?",
            (day.isoformat(), day.isoformat(), known, known),
        )
    rows = [tuple(r) for r in found]
    assert len(rows) == len(set(rows)), "two relation rows hold on one day"
    return set(rows)


def assert_runs_are_maximal(system: Evolve, known: int) -> None:
    """At a record time, one thing named is one row per unbroken stretch of valid time."""
    with system.view.reader() as read:
        found = read.rows(  # type: ignore[attr-defined]
            "SELECT org, relation, related, valid_from, valid_to FROM timeline_relations "
            "WHERE recorded_from_us<=? AND recorded_to_us>? ORDER BY org, relation, related, valid_from",
            (known, known),
        )
    rows = [tuple(r) for r in found]
    for a, b in itertools.pairwise(rows):
        if a[:3] == b[:3]:
            assert a[4] < b[3], f"runs that touch or overlap: {a} {b}"


@pytest.fixture(scope="module")
def scratch(databases: Databases) -> str:
    """One database for all examples, emptied before each."""
    return databases.url()


SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def on_store(databases: Databases, scratch: str, examples: int, build: Any) -> None:
    """`examples` random logs built by `build`, each on the emptied store, checked against the fold."""

    @settings(max_examples=examples, **SETTINGS)  # type: ignore[arg-type]
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        system = Evolve(Settings(database_url=databases.emptied(scratch)))
        try:
            check_against_fold(system, data, build)
        finally:
            system.close()

    check()


def test_projection_equals_naive_fold(databases: Databases, scratch: str) -> None:
    # 150 random logs on SQLite; PostgreSQL, slower per example, checks 80 more.
    on_store(databases, scratch, 150 if databases.backend == "sqlite" else 80, build_log)


def test_projection_equals_naive_fold_on_the_plain_object_view() -> None:
    @settings(max_examples=200, **SETTINGS)  # type: ignore[arg-type]
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        system = Evolve(Settings(database_url="memory://"))
        try:
            check_against_fold(system, data)
        finally:
            system.close()

    check()


def build_log_in_groups(system: Evolve, data: st.DataObject, steps: int) -> LogBuilder:
    """As :func:`build_log`, but each step commits one to four batches as one group (group commit,
    as concurrent requests of one process are): each must get the verdict it would get alone after
    those before it, and the log what the same batches appended one by one would make."""
    builder = LogBuilder(data)
    for _ in range(steps):
        group = [
            [msgspec.convert(builder.event(), Event) for _ in range(builder.draw(st.sampled_from([1, 1, 2])))]
            for _ in range(builder.draw(st.integers(1, 4)))
        ]
        committed, refused = builder.records, []
        for batch in group:  # the verdicts one by one, each after the accepted ones before it
            hypothetical = builder.hypothetical(batch, system)
            refused.append(bool(refusals_of([*builder.records, *hypothetical])))
            if not refused[-1]:
                builder.records = [*builder.records, *hypothetical]
        builder.records = committed
        requests = [_Append(batch, [uuid.uuid4() for _ in batch], {}, None, "", None) for batch in group]
        for batch, expected, outcome in zip(group, refused, system.store._commit_group(requests), strict=True):
            told = _told(builder.records, batch)
            if expected:
                assert isinstance(outcome, InvalidEvent), f"the group took a batch the naive fold refuses{told}"
            else:
                assert isinstance(outcome, list), f"the group refused a batch the naive fold accepts: {outcome}{told}"
                builder.records += outcome
    return builder


def test_group_commits_equal_the_naive_fold(databases: Databases, scratch: str) -> None:
    on_store(databases, scratch, 30 if databases.backend == "sqlite" else 12, build_log_in_groups)


def check_against_fold(system: Evolve, data: st.DataObject, build: Any = build_log) -> None:
    builder = build(system, data, steps=data.draw(st.integers(3, 18)))
    if not builder.records:
        return
    times = sorted(set(record_times(builder.records).values()))
    interesting = sorted({d for r in builder.records for d in _dates(r)})
    for _ in range(4):
        known = data.draw(st.sampled_from(times)) + data.draw(st.sampled_from([0, 0, -1]))
        known_at = dt.datetime.fromtimestamp(known / 1_000_000, tz=dt.UTC)
        known_micros = int(known_at.timestamp() * 1_000_000)
        for day in interesting:
            expected = fold_log(builder.records, day, known_micros)
            actual = {s.id: s for s in system.queries.all_states(day, known_at)}
            assert {org: _status(s) for org, s in actual.items()} == expected, f"as_of={day} known_at={known_at}"
            for org, state in actual.items():
                members_of = sorted(o for o, s in expected.items() if org in s.members)
                subs = sorted(o for o, s in expected.items() if s.parent == org)
                assert (state.member_of, state.sub_areas) == (members_of, subs), f"{org} on {day}"
                held = system.queries.memberships(org, known_at).items
                listed = sorted(m.system for m in held if m.relation == "member" and m.valid_from <= day
                                and (m.valid_to is None or day < m.valid_to))
                assert listed == members_of, f"memberships of {org} on {day}"
            if not isinstance(system.view, MemoryTimelineView):
                named = {(org, *n) for org, s in expected.items() if s is not None for n in runs.named(s)}
                assert relations_on(system, day, known_micros) == named, f"relation rows on {day}"
        if not isinstance(system.view, MemoryTimelineView):
            assert_runs_are_maximal(system, known_micros)

    before = interval_tables(system), relation_table(system)
    system.rebuild()
    assert (interval_tables(system), relation_table(system)) == before


def _dates(record: EventRecord) -> list[dt.date]:
    event = record.event
    days = [event.effective]
    if isinstance(event, EventCorrected) and event.replacement is not None:
        days.append(event.replacement.effective)
    days += [dt.date(2017, 3, 31), dt.date(2017, 4, 1), dt.date(2018, 3, 31), dt.date(2018, 4, 1)]
    return [d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)]


def _status(state: Any) -> Status:
    fields = msgspec.structs.asdict(state)
    for derived in ("as_of", "known_at", "member_of", "sub_areas"):
        fields.pop(derived)
    return Status(**fields)
