"""Group commit on a real store: appends from concurrent threads of one process share commits, and
each keeps what it would have had alone (its positions, its record time, its verdict, read-your-writes);
the view stays what a rebuild gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from evolve.bootstrap import Evolve
from evolve.errors import ConflictError, InvalidEvent, StoreUnavailable, UnknownSubject
from evolve.records import EventRecord
from evolve.settings import Settings
from tests.conftest import Databases
from tests.factories import event, footprint
from tests.integration.test_concurrency import _tables

ORGS = [f"org-{i}" for i in range(8)]

Append = Callable[[], list[EventRecord]]


class Race(NamedTuple):
    outcomes: list[list[EventRecord] | Exception]
    sizes: list[int]  # appends carried by each commit, in order


def race(system: Evolve, appends: list[Append]) -> Race:
    """Run the first append and hold its commit, inside its transaction, until all the others
    (each in its own thread) are queued behind it."""
    sizes: list[int] = []
    holding = threading.Event()
    project = system.store.in_transaction
    assert project is not None

    def hook(cursor: Any, ids: Any, batches: list[list[EventRecord]]) -> None:
        sizes.append(len(batches))
        if len(sizes) == 1:
            holding.set()
            deadline = time.monotonic() + 20
            while system.store.queued < len(appends) and time.monotonic() < deadline:
                time.sleep(0.001)
        project(cursor, ids, batches)

    system.store.in_transaction = hook
    outcomes: list[list[EventRecord] | Exception] = [Exception("not run")] * len(appends)

    def run(i: int) -> None:
        try:
            outcomes[i] = appends[i]()
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(appends))]
    threads[0].start()
    assert holding.wait(20)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(60)
    system.store.in_transaction = project
    return Race(outcomes, sizes)


@pytest.fixture
def founded(make_system: Callable[..., Evolve]) -> Evolve:
    system = make_system(file=True)
    system.append([footprint(org) for org in ORGS])
    return system


def appointing(system: Evolve, org: str, name: str, day: str = "2019-01-01", **options: Any) -> Append:
    return lambda: system.append([event("LeaderAppointed", day, organisation=org, leader=name)], **options)


def assert_rebuild_agrees(system: Evolve) -> None:
    tables = _tables(system)
    system.rebuild()
    assert _tables(system) == tables


def test_concurrent_appends_share_a_commit_each_with_its_own_record_time(founded: Evolve) -> None:
    run = race(founded, [appointing(founded, org, f"Leader of {org}") for org in ORGS])
    assert run.sizes == [1, 7]  # the first alone, the seven queued behind it together
    log = list(founded.store.iter_records())
    assert [r.position for r in log] == list(range(1, 1 + 2 * len(ORGS)))
    appended = sorted(r.position for o in run.outcomes if isinstance(o, list) for r in o)
    assert appended == list(range(1 + len(ORGS), 1 + 2 * len(ORGS)))
    times = [r.recorded_at for r in log[len(ORGS) - 1 :]]
    assert times == sorted(times) and len(set(times)) == len(times)  # one record time per append, in log order
    assert founded.verify().broken_at is None
    for org in ORGS:  # read-your-writes: each append was projected in the commit that carried it
        appointment = founded.queries.state(org).leader
        assert appointment is not None and appointment.name == f"Leader of {org}"
    assert_rebuild_agrees(founded)


def test_a_refused_append_in_a_group_refuses_only_itself(founded: Evolve) -> None:
    appends = [appointing(founded, org, f"Leader of {org}") for org in ORGS[:6]]
    appends.insert(3, appointing(founded, "nowhere", "Nobody"))  # the rule book: an unknown organisation
    appends.insert(5, appointing(founded, ORGS[0], "Too early", day="2010-01-01"))  # the state rules
    run = race(founded, appends)
    assert isinstance(run.outcomes[3], UnknownSubject)
    assert isinstance(run.outcomes[5], InvalidEvent) and "does not exist on 2010-01-01" in str(run.outcomes[5])
    landed = [o for i, o in enumerate(run.outcomes) if i not in (3, 5)]
    assert all(isinstance(o, list) for o in landed)
    log = list(founded.store.iter_records())
    assert sorted(str(r.id) for r in log[len(ORGS) :]) == sorted(str(o[0].id) for o in landed if isinstance(o, list))
    assert_rebuild_agrees(founded)


def test_expectations_are_judged_after_the_appends_before_them_in_the_group(founded: Evolve) -> None:
    org = ORGS[0]
    seen = founded.version(org)
    run = race(
        founded,
        [
            appointing(founded, ORGS[1], "First"),
            appointing(founded, org, "A", expected={org: seen}),
            appointing(founded, org, "B", expected={org: seen}),
        ],
    )
    assert isinstance(run.outcomes[0], list)
    assert sorted(type(o).__name__ for o in run.outcomes[1:]) == ["ConflictError", "list"]  # the first holds
    assert founded.version(org) == seen + 1


def test_one_idempotency_key_twice_in_the_queue_appends_once(founded: Evolve) -> None:
    keyed = appointing(founded, ORGS[2], "Once", idempotency_key="same-key", digest="same-digest")
    run = race(founded, [appointing(founded, ORGS[1], "First"), keyed, keyed])
    first, second = run.outcomes[1], run.outcomes[2]
    assert isinstance(first, list) and isinstance(second, list)
    assert [r.id for r in first] == [r.id for r in second]
    assert founded.position() == len(ORGS) + 2


def test_a_lone_append_still_meets_its_conflicts(founded: Evolve) -> None:
    with pytest.raises(ConflictError):
        appointing(founded, ORGS[0], "x", expected={ORGS[0]: 9})()


def test_an_outage_meeting_a_group_is_everyones_and_not_retried_one_by_one(
    founded: Evolve, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = founded.store._try_append
    grouped: list[int] = []

    def try_append(group: list[Any], fresh: bool) -> list[list[EventRecord]]:
        if len(group) > 1:
            grouped.append(len(group))
            raise StoreUnavailable("the database cannot be reached: gone")
        return real(group, fresh)

    monkeypatch.setattr(founded.store, "_try_append", try_append)
    run = race(founded, [appointing(founded, org, f"Leader of {org}") for org in ORGS[:4]])
    assert isinstance(run.outcomes[0], list)  # the first, alone, before the outage
    assert all(isinstance(o, StoreUnavailable) for o in run.outcomes[1:])
    assert grouped == [3]  # one attempt for the three, none alone
    assert founded.position() == len(ORGS) + 1


def test_the_commit_delay_is_the_settings(make_system: Callable[..., Evolve], databases: Databases) -> None:
    assert make_system().store.commit_delay == Settings().commit_delay > 0
    system = Evolve(Settings(database_url=databases.url(), commit_delay=0.0))
    try:
        assert system.store.commit_delay == 0.0
    finally:
        system.close()
