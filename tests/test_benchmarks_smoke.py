"""Keeps the benchmark code working: a tiny synthetic log through the store and the queries.

No timings are asserted here (the runner reports them as ratios); only facts
that hold on any machine: determinism by seed, counts, and that every
generated event is accepted and projected.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import ab, api_writes
from benchmarks.generator import CORRECTION_DISTANCE, generate, sample_queries
from benchmarks.realistic import CURATED, generate_realistic
from benchmarks.runner import parse_sizes, run_concurrent, run_size
from benchmarks.stores import Stores
from evolve import files
from evolve.bootstrap import Evolve
from evolve.settings import Settings

N = 200


def test_generator_is_deterministic_by_seed() -> None:
    a, b, c = generate(N, seed=7), generate(N, seed=7), generate(N, seed=8)
    assert len(a) == N
    assert a.ids == b.ids
    assert a.payloads() == b.payloads()
    assert a.payloads() != c.payloads()
    assert len(set(a.ids)) == N


def test_generator_shape_at_a_larger_size() -> None:
    log = generate(5_000, seed=0)
    summary = log.summary()
    assert summary["events"] == 5_000
    # Rates are approximate by construction: ~5% back-dated, ~1% corrections, ~0.1% broadcasts.
    assert 0.02 * 5_000 < log.backdated < 0.08 * 5_000
    assert 0 < log.corrections < 0.02 * 5_000
    assert log.broadcasts < 0.005 * 5_000
    position = {event_id: i for i, event_id in enumerate(log.ids)}
    for i, event in enumerate(log.events):
        if event.type == "EventCorrected":
            assert i - position[event.corrects] >= CORRECTION_DISTANCE
    for start, end in log.batches(1_000):
        assert 0 < end - start <= 1_000


def test_tiny_log_through_store_and_queries(make_system: Callable[..., Evolve]) -> None:
    log = generate(N, seed=3)
    system = make_system(project_on_append=False)
    for start, end in log.batches(50):
        system.append(log.events[start:end], ids=log.ids[start:end])
    assert system.catch_up() == N
    assert system.store.position() == N
    pairs = sample_queries(log, 30, seed=4)
    before = [system.queries.state(org, day) for org, day in pairs]
    assert [s.id for s in before] == [org for org, _ in pairs]
    assert system.rebuild() == N
    after = [system.queries.state(org, day) for org, day in pairs]
    assert [s.last_event_id for s in after] == [s.last_event_id for s in before]
    system.project_on_append = True
    # One more single append through the projection: an organisation from another log.
    others = generate(N, seed=99).events
    creation = next(e for e in others if e.type == "OrganisationRegistered" and e.kind != "region")
    system.append([creation])
    assert system.store.position() == N + 1


def test_runner_at_a_tiny_size(tmp_path: Path) -> None:
    figures, db = run_size(300, Stores("sqlite", tmp_path), seed=1, tail=10, queries=20)
    assert db is None
    assert figures["size"] == 300
    assert figures["append_count"] == 10
    assert figures["asof_queries"] == 20
    for key in ("import_ratio", "append_ratio", "asof_p50_us", "rebuild_eps", "rebuild_ratio", "es_ratio"):
        assert figures[key] > 0
    assert figures["bytes_per_event"] > 0
    assert list(tmp_path.iterdir()) == []  # the database, and the bare eventsourcing one, were removed


def test_ab_runs_each_tree_in_its_own_process(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    args = ab.parser().parse_args([str(root), "--size", "300", "--rounds", "2", "--workdir", str(tmp_path)])
    result = ab.compare(args)
    [rounds] = result["rounds"].values()
    assert len(rounds) == 2 and all(r["import_s"] > 0 and r["rebuild_s"] > 0 for r in rounds)
    assert str(root) in ab.table(result)
    assert list(tmp_path.iterdir()) == []  # each round's database was removed


def test_concurrent_appends_at_a_tiny_size(tmp_path: Path) -> None:
    figures = run_concurrent(Stores("sqlite", tmp_path), appends=3, writers=2)
    assert set(figures) == {
        "append_eps_1_writer",
        "append_eps_2_writers",
        "concurrent_append_ratio",
        "append_eps_1_process",
        "append_eps_2_processes",
        "concurrent_append_ratio_processes",
    }
    assert figures["concurrent_append_ratio"] > 0 and figures["concurrent_append_ratio_processes"] > 0
    assert list(tmp_path.iterdir()) == []  # its store was removed


def test_api_writes_posts_through_a_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api_writes.main(["--db", str(tmp_path / "api.db"), "--clients", "2", "--posts", "3", "--rounds", "1"])
    assert "2 clients" in capsys.readouterr().out
    system = Evolve(Settings(database_url=str(tmp_path / "api.db")))
    try:
        assert system.position() == (1 + 6) + 2 * (1 + 3)  # every footprint and appointment landed
    finally:
        system.close()


def test_the_realistic_workload_is_the_curated_history_copied(make_system: Callable[..., Evolve]) -> None:
    """Two copies' worth: every entry accepted, and the copy's organisation has the state of the original."""
    curated = len(files.load(CURATED))
    once = generate_realistic(curated)
    shared = once.broadcasts + once.summary()["by_type"]["PolicyPublished"]  # kept once, not copied
    log = generate_realistic(curated + (curated - shared))
    assert len(set(log.ids)) == len(log.ids) == curated + (curated - shared)
    assert log.broadcasts == once.broadcasts
    assert log.summary()["by_type"]["PolicyPublished"] == once.summary()["by_type"]["PolicyPublished"]
    system = make_system(project_on_append=False)
    for start, end in log.batches(2_000):
        system.append(log.events[start:end], ids=log.ids[start:end])
    system.catch_up()
    assert system.projected_entries() == system.store.position() == len(log)
    day = dt.date(2019, 6, 1)
    original = system.queries.state("frimley-health-and-care", day)
    copy = system.queries.state("frimley-health-and-care-c1", day)
    assert (copy.name, copy.stage, len(copy.members)) == (original.name, original.stage, len(original.members))
    assert {m.removesuffix("-c1") for m in copy.members} == set(original.members)


def test_the_realistic_workload_creates_what_each_entry_requires_before_it() -> None:
    """At 1M the copies put ~770 entries between two curated ones, so each lands in its own import
    batch, where a policy cited before it is published is refused. The curated files may cite one a
    few entries early (one file is one batch)."""
    log = generate_realistic(len(files.load(CURATED)))
    created: set[str] = set()
    for event in log.events:
        created.update(event.created())
        assert {slug for slug, _ in event.required()} <= created, event


def test_sizes_parse() -> None:
    assert parse_sizes("10k,100k,1m") == [10_000, 100_000, 1_000_000]
    with pytest.raises(argparse.ArgumentTypeError):
        parse_sizes("5")


def test_pages_names_the_btrees_an_append_writes(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.pages import main

    main(["--size", "300", "--appends", "3"])
    out = capsys.readouterr().out
    assert "pages written per append" in out
    assert "stored_events" in out and "timeline_intervals" in out
