"""Several processes appending to one database: no lost events, no duplicated
positions, every conflict reported to its writer; and a projection stopped
mid-way resumes to exactly what a rebuild gives."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
from typing import Any

import pytest

from evolve import projection
from evolve.bootstrap import Evolve
from evolve.errors import ConflictError
from evolve.settings import Settings
from tests.conftest import Databases
from tests.factories import event, footprint

WRITERS = 8
APPENDS = int(os.environ.get("EVOLVE_TEST_APPENDS", "150"))  # 8 x 150 racing appends; raise for a deeper run
SUBJECTS = ["a", "b", "c", "d"]


def writer(url: str, seed: int, appends: int) -> tuple[list[str], int]:
    """Append `appends` times to random overlapping subjects, stating the version seen. Each append is
    judged by the rules and projected, as a server process does."""
    rng = random.Random(seed)
    system = Evolve(Settings(database_url=url))
    accepted: list[str] = []
    conflicts = 0
    try:
        for i in range(appends):
            org = rng.choice(SUBJECTS)
            seen = system.store.version(org)
            try:
                day = (dt.date(2016, 4, 1) + dt.timedelta(days=i)).isoformat()  # later and later, as history grows
                (record,) = system.append(
                    [event("LeaderAppointed", day, organisation=org, leader=f"leader {seed}-{i}")], expected={org: seen}
                )
                accepted.append(str(record.id))
            except ConflictError:
                conflicts += 1
    finally:
        system.close()
    return accepted, conflicts


def test_concurrent_writer_processes(databases: Databases) -> None:
    url = databases.url(file=True)
    setup = Evolve(Settings(database_url=url))
    setup.append([footprint(org) for org in SUBJECTS])
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(writer, [(url, seed, APPENDS) for seed in range(WRITERS)])
    accepted = [uid for ids, _ in results for uid in ids]
    conflicts = sum(c for _, c in results)
    records = list(setup.store.iter_records())
    logged = [str(r.id) for r in records[len(SUBJECTS) :]]
    assert len(accepted) + conflicts == WRITERS * APPENDS  # every attempt got an answer
    assert sorted(logged) == sorted(accepted)  # exactly the acknowledged events, none lost or doubled
    assert [r.position for r in records] == list(range(1, len(records) + 1))  # gap-free, unique
    versions = {org: setup.store.version(org) for org in SUBJECTS}
    assert sum(versions.values()) == len(SUBJECTS) + len(accepted)
    setup.catch_up()
    with setup.view.reader() as read:
        assert read.rows("SELECT COUNT(*) FROM timeline_entries")[0][0] == len(records)
    setup.close()


class Crash(Exception):
    pass


def test_projection_stopped_midway_resumes_to_a_rebuild(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    url = databases.url(file=True)
    writer_system = Evolve(Settings(database_url=url), project_on_append=False)
    orgs = [f"org-{i}" for i in range(20)]
    # The log is written by the store alone: nothing projects it until the projectors below.
    writer_system.store.append([footprint(o) for o in orgs])
    rng = random.Random(7)
    for _ in range(300):
        day = f"20{rng.randint(17, 22)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        choice = rng.random()
        if choice < 0.1:
            writer_system.store.append([event("PartnershipsFormed", day, scope={"stage": "footprint"})])
        elif choice < 0.2:
            writer_system.store.append([event("SystemsRenamed", day, from_stage="acs", to_stage="ics", term="ICS")])
        else:
            org = rng.choice(orgs)
            kind = rng.choice(["AccountableCareSystemsDesignated", "CappedExpenditureApplied"])
            year = int(day[:4]) - (int(day[5:7]) < 4)  # the financial year the day falls in
            extra: dict[str, Any] = {"financial_year": f"{year}/{(year + 1) % 100:02d}"} if kind.startswith("C") else {}
            writer_system.store.append([event(kind, day, scope={"organisations": [org]}, **extra)])
    batches = 0

    def crash_after_three(_: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise Crash

    first = Evolve(Settings(database_url=url))
    with pytest.raises(Crash):  # stopped between two committed batches
        first.catch_up(progress=crash_after_three, batch=40)
    stopped_at = first.projected_position()
    real_index = projection.index_entry
    seen = 0

    def crash_inside_a_batch(writer: Any, record: Any, recorded_us: int) -> Any:
        nonlocal seen
        seen += 1
        if seen == 25:
            raise Crash
        return real_index(writer, record, recorded_us)

    monkeypatch.setattr(projection, "index_entry", crash_inside_a_batch)
    with pytest.raises(Crash):  # stopped half-way through a batch: it rolls back whole
        first.catch_up(batch=40)
    assert first.projected_position() == stopped_at
    monkeypatch.setattr(projection, "index_entry", real_index)
    first.close()
    resumed = Evolve(Settings(database_url=url))
    assert resumed.projected_position() > 0
    resumed.catch_up(batch=40)
    tables = _tables(resumed)
    resumed.rebuild()
    assert _tables(resumed) == tables
    resumed.close()
    writer_system.close()


def _tables(system: Evolve) -> list[tuple[Any, ...]]:
    with system.view.reader() as read:
        rows = read.rows("SELECT * FROM timeline_intervals ORDER BY org, valid_from, recorded_from_us")
        rows += read.rows("SELECT position, event_id, recorded_us, current FROM timeline_entries ORDER BY position")
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]
