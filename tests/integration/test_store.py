"""The store's promises: atomic batches, assigned positions and times,
per-subject optimistic concurrency, references checked, idempotent retries."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import cast
from uuid import uuid4

import pytest

from evolve.bootstrap import Evolve
from evolve.domain import GENESIS_HASH, LOG_ID, Log, chain_hash
from evolve.errors import ConflictError, IdempotencyKeyReused, InvalidEvent, NotFound, UnknownSubject
from evolve.files import load
from evolve.settings import Settings
from evolve.store import _stream, to_record
from tests.conftest import POSTGRES_URL
from tests.factories import event, footprint


def snapshot(system: Evolve) -> tuple[int, list[object], list[object]]:
    with system.view.reader() as read:
        entries = read.rows("SELECT position, event_id FROM timeline_entries ORDER BY position")
        intervals = read.rows(
            "SELECT org, valid_from, recorded_from_us, recorded_to_us FROM timeline_intervals ORDER BY 1, 2, 3"
        )
    return system.store.position(), [tuple(r) for r in entries], [tuple(r) for r in intervals]


def test_positions_are_assigned_gap_free_and_times_by_the_store(system: Evolve) -> None:
    before = dt.datetime.now(dt.UTC)
    first = system.append([footprint("a"), footprint("b")])
    second = system.append([event("LeaderAppointed", organisation="a", leader="L")])
    records = [*first, *second]
    assert [r.position for r in records] == [1, 2, 3]
    assert all(before <= r.recorded_at <= dt.datetime.now(dt.UTC) for r in records)
    assert records[0].recorded_at == records[1].recorded_at < records[2].recorded_at  # one time per batch
    assert [r.subjects for r in records] == [["a"], ["b"], ["a"]]


def test_a_batch_with_one_bad_event_changes_nothing(system: Evolve) -> None:
    system.append([footprint("a")])
    before = snapshot(system)
    with pytest.raises(UnknownSubject, match="unknown organisation 'nowhere'") as info:
        system.append(
            [
                event("LeaderAppointed", organisation="a", leader="L"),
                footprint("b"),
                event("LeaderAppointed", organisation="nowhere", leader="M"),
            ]
        )
    assert info.value.pointer == "/2"
    assert snapshot(system) == before
    assert system.store.version("a") == 1 and system.store.version("b") == 0


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("LeaderAppointed", organisation="a", leader="L")], expected={"a": 1})
    before = snapshot(system)
    with pytest.raises(ConflictError) as info:
        system.append([event("LeaderAppointed", organisation="a", leader="M")], expected={"a": 1})
    assert (info.value.subject, info.value.expected, info.value.actual) == ("a", 1, 2)
    assert snapshot(system) == before


def test_references_must_exist_and_have_the_right_kind(system: Evolve) -> None:
    system.append(
        [
            event(
                "PolicyPublished",
                policy_id="five-year-forward-view",
                title="5YFV",
                publisher="NHS England",
                url="https://www.england.nhs.uk/five-year-forward-view/",
            ),
            footprint("a", policy="five-year-forward-view"),
        ]
    )
    with pytest.raises(UnknownSubject, match="unknown policy 'next-steps'"):
        system.append([footprint("b", policy="next-steps")])
    with pytest.raises(InvalidEvent, match="names a policy, not an organisation"):
        system.append([event("LeaderAppointed", organisation="five-year-forward-view", leader="L")])
    system.append([footprint("b"), footprint("c")])
    with pytest.raises(InvalidEvent, match="already names a policy"):
        system.append([event("OrganisationsMerged", merged=["a", "b"], into="five-year-forward-view", name="x")])
    with pytest.raises(InvalidEvent, match="'c' already exists; a merge must create a new id"):
        system.append([event("OrganisationsMerged", merged=["a", "b"], into="c", name="x")])


def test_members_must_be_registered(system: Evolve) -> None:
    with pytest.raises(UnknownSubject, match="unknown organisation 'trust-x'"):
        system.append([footprint("a", members=["trust-x"])])
    system.append(
        [
            event("OrganisationRegistered", organisation="trust-x", name="Trust X", kind="trust"),
            footprint("a", members=["trust-x"]),
        ]
    )
    assert system.queries.state("a", dt.date(2017, 1, 1)).members == ["trust-x"]


def test_corrections_refer_to_real_events_and_are_not_corrected_themselves(system: Evolve) -> None:
    (record,) = system.append([footprint("a")])
    with pytest.raises(UnknownSubject, match="is not in the log"):
        system.append([event("EventCorrected", corrects=str(uuid4()), retract=True)])
    (correction,) = system.append([event("EventCorrected", corrects=str(record.id), retract=True)])
    assert correction.subjects == ["a", str(record.id)]
    with pytest.raises(InvalidEvent, match="a correction cannot be corrected"):
        system.append([event("EventCorrected", corrects=str(correction.id), retract=True)])
    with pytest.raises(NotFound):
        system.queries.state("a", dt.date(2017, 1, 1))


def test_duplicate_event_ids_are_refused(system: Evolve) -> None:
    uid = uuid4()
    system.append([footprint("a")], ids=[uid])
    with pytest.raises(InvalidEvent, match="already in the log"):
        system.append([footprint("b")], ids=[uid])
    with pytest.raises(InvalidEvent, match="same event id twice"):
        system.append([footprint("c"), footprint("d")], ids=[uid, uid])


def test_idempotency_key_replays_and_refuses_another_body(system: Evolve) -> None:
    first = system.append([footprint("a")], idempotency_key="k", digest="d1")
    again = system.append([footprint("a")], idempotency_key="k", digest="d1")
    assert again == first and system.store.position() == 1
    with pytest.raises(IdempotencyKeyReused):
        system.append([footprint("b")], idempotency_key="k", digest="d2")
    assert system.store.position() == 1


def test_hashes_chain_every_entry_to_the_one_before(system: Evolve) -> None:
    records = system.append([footprint("a"), footprint("b")])
    records += system.append([event("LeaderAppointed", organisation="a", leader="L")])
    previous = GENESIS_HASH
    for record in records:
        text = record.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert record.hash == chain_hash(previous, record.id, record.position, text, record.event)
        previous = record.hash


def test_the_log_reads_back_what_was_appended(system: Evolve) -> None:
    records = system.append([footprint("a"), event("LeaderAppointed", organisation="a", leader="L")])
    assert system.store.read() == records
    assert system.store.get(records[1].id) == records[1]
    assert system.queries.event(records[1].id) == records[1]
    with pytest.raises(NotFound):
        system.store.get(uuid4())


def test_concurrent_writers_on_one_subject_get_conflicts_not_lost_writes(system: Evolve) -> None:
    system.append([footprint("a")])
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        version = system.store.version("a")
        try:
            system.append([event("LeaderAppointed", organisation="a", leader="L")], expected={"a": version})
            result = "ok"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") >= 1
    assert system.store.version("a") == 1 + outcomes.count("ok")
    assert system.store.position() == 1 + outcomes.count("ok")


def test_a_batch_may_correct_an_event_appended_earlier_in_it(system: Evolve) -> None:
    uid = uuid4()
    system.append(
        [footprint("a"), footprint("b"), event("EventCorrected", corrects=str(uid), retract=True)],
        ids=[uuid4(), uid, uuid4()],
    )
    assert system.queries.state("a", dt.date(2017, 1, 1)).id == "a"
    with pytest.raises(NotFound):
        system.queries.state("b", dt.date(2017, 1, 1))


def test_records_decode_the_same_as_through_the_eventsourcing_mapper(system: Evolve) -> None:
    loaded = load(Path(__file__).resolve().parents[2] / "events")  # in log order, as `evolve import` appends
    system.append([f.event for f in loaded], ids=[f.id for f in loaded])
    stored = system.store.recorder.select_events(LOG_ID, limit=len(loaded) + 1)
    assert len(stored) == len(loaded)
    for row in stored:
        assert system.store.record(row) == to_record(cast(Log.Recorded, system.store.mapper.to_domain_event(row)))


def test_the_heads_read_at_once_are_the_heads_read_one_by_one(system: Evolve) -> None:
    # An append reads the heads of the organisations its batch names in one statement (a read each
    # cost an import one per new organisation); it must find what a read of each stream finds.
    first = system.append([footprint("a"), footprint("b")])
    system.append([event("LeaderAppointed", organisation="a", leader="L")])
    store = system.store
    streams = [_stream(s) for s in ("a", "b", "nowhere")] + [first[0].id]
    heads = store._subject_heads(streams)
    assert heads == {s: store._subject_head(s) for s in streams}
    assert heads[_stream("a")] == (2, "organisation") and heads[_stream("nowhere")] == (0, None)
    assert heads[first[0].id] == (1, "event")


@pytest.mark.skipif(POSTGRES_URL is None, reason="EVOLVE_TEST_POSTGRES_URL is not set")
def test_a_postgresql_transaction_may_compute_between_statements_for_minutes() -> None:
    # The projection runs Python between its statements inside a transaction; eventsourcing's 5 s
    # idle-in-transaction timeout ended a 1M rebuild's connection in the middle of a broadcast.
    assert POSTGRES_URL is not None
    system = Evolve(Settings(database_url=POSTGRES_URL))
    try:
        with system.store.factory.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            found = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
    finally:
        system.close()
    assert found is not None and found["idle_in_transaction_session_timeout"] == "10min"
