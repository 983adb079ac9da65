"""The curated history (events/) answers real questions correctly, on every backend.

The pinned answers are data (``tests/data/history_answers.yaml``, each with its source beside it,
read by ``tests/integration/history_answers.py``); the tests here ask each of them through the query
layer after importing the event files as ``evolve import`` does, and check the things no single
question shows: the files validate, every event has a source, the generated doc is current, and
intervals begin and end where the sources say. The history is imported once per module and backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.bootstrap import Evolve
from evolve.counts import counts_of
from evolve.errors import NotFound
from evolve.files import check_references, load
from evolve.history_doc import render
from evolve.records import micros
from evolve.settings import Settings
from evolve.types import Kind, Stage
from tests.conftest import Databases
from tests.integration.history_answers import Answer, answers, asked

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
HISTORY_DOC = ROOT / "docs" / "history.md"
# CI copies shared/ beside the clone; locally it sits beside the repository too.
SEEDS = ROOT.parent / "shared" / "seeds"
ANSWERS = answers()

D = dt.date.fromisoformat
NORTHERN = (
    "durham-darlington-teesside-hambleton-richmondshire-and-whitby",
    "northumberland-tyne-and-wear-and-north-durham",
    "west-north-and-east-cumbria",
)


@pytest.fixture(scope="module")
def history(databases: Databases) -> Iterator[Evolve]:
    """A log holding the curated history (imported once per module and backend)."""
    system = Evolve(Settings(database_url=databases.url()))
    try:
        appended, present, _ = system.import_files(EVENTS)
        assert appended == len(load(EVENTS)) and present == 0
        yield system
    finally:
        system.close()


def test_the_event_files_validate_like_evolve_validate() -> None:
    files = load(EVENTS)
    assert files, "no event files"
    assert check_references(files) == []
    if SEEDS.is_dir():  # only the seed-existence check needs shared/ beside the clone
        assert check_references(files, seeds=SEEDS) == []
    assert all(f.event.sources for f in files)


def test_there_are_at_least_60_pinned_answers_each_with_a_source() -> None:
    assert len(ANSWERS) >= 60
    assert len({a.id for a in ANSWERS}) == len(ANSWERS)
    assert all(a.source.url or a.source.seed for a in ANSWERS)


@pytest.mark.parametrize("answer", ANSWERS, ids=[a.id for a in ANSWERS])
def test_pinned_answer(history: Evolve, answer: Answer) -> None:
    got = asked(history, answer)
    if answer.contains is not None:
        assert set(answer.contains) <= set(got), f"{answer.question} ({answer.source.title})"
    else:
        assert got == answer.expect, f"{answer.question} ({answer.source.title})"


def test_sub_area_systems_are_absorbed_into_their_parent_ics(history: Evolve) -> None:
    assert history.queries.state("blackpool-and-fylde-coast", D("2018-08-31")).stage is Stage.ICS
    with pytest.raises(NotFound):
        history.queries.state("blackpool-and-fylde-coast", D("2018-09-01"))
    assert history.queries.state("lancashire-and-south-cumbria", D("2018-09-01")).stage is Stage.ICS
    for sub in ("berkshire-west", "buckinghamshire"):
        assert history.queries.state(sub, D("2019-05-31")).stage is Stage.ICS
        with pytest.raises(NotFound):
            history.queries.state(sub, D("2019-06-01"))
        assert history.queries.history(sub).items[-1].valid_to == D("2019-06-01")
    assert history.queries.state("buckinghamshire-oxfordshire-and-berkshire-west", D("2019-06-01")).stage is Stage.ICS

def test_merged_north_east_and_north_cumbria_history(history: Evolve) -> None:
    intervals = history.queries.history("north-east-and-north-cumbria").items
    assert intervals[0].valid_from == D("2018-08-01")
    first = intervals[0].state
    assert (first.name, first.code, first.stage) == ("Cumbria and North East", "E54000049", Stage.PARTNERSHIP)
    june_2019 = history.queries.state("north-east-and-north-cumbria", D("2019-06-01"))
    assert (june_2019.name, june_2019.stage) == ("North East and North Cumbria", Stage.ICS)
    assert intervals[-1].valid_from == D("2022-07-01") and intervals[-1].valid_to is None
    assert intervals[-1].state.stage is Stage.STATUTORY_ICS
    for old in NORTHERN[:2]:
        assert history.queries.history(old).items[-1].valid_to == D("2018-08-01")
        with pytest.raises(NotFound):
            history.queries.state(old, D("2018-08-01"))
    # The Cumbria system lives on inside the merged STP as a sub-area until June 2019.
    cumbria = history.queries.state(NORTHERN[2], D("2018-09-01"))
    assert cumbria.parent == "north-east-and-north-cumbria"
    assert history.queries.history(NORTHERN[2]).items[-1].valid_to == D("2019-06-01")
    assert len(systems(history, "2019-07-01")) == 42  # 44 footprints became 42


def systems(history: Evolve, day: str) -> list[str]:
    return [s.id for s in history.queries.all_states(D(day), kind=Kind.HEALTH_SYSTEM) if s.parent is None]


def test_history_doc_is_current() -> None:
    assert HISTORY_DOC.read_text(encoding="utf-8") == render(load(EVENTS)), (
        "docs/history.md is out of date: run `evolve history-doc`"
    )


def test_the_stores_counts_equal_counting_the_states(history: Evolve) -> None:
    """`/stats` is counted in SQL (GROUP BY over interval and relation rows); on every month of the
    curated history, as known now and as known after the first half of the log, it is what
    counting each state in Python says (:func:`evolve.counts.counts_of`)."""
    days = [dt.date(year, month, 1) for year in range(2014, 2024) for month in range(1, 13)]
    with history.view.reader() as read:
        latest = read.latest_recorded_us()
        assert latest is not None
        halfway = read.records(after=history.position() // 2, limit=1)[0].recorded_at
        for known in (latest, micros(halfway)):
            for day in days:
                assert read.counts(day, known) == counts_of(read.states(day, known)), (day, known)
        flagged = sum(read.counts(day, latest).flags.total() for day in days)
        sub_areas = sum(n for day in days for g, n in read.counts(day, latest).groups.items() if g.sub_area)
    assert flagged > 0 and sub_areas > 0  # the history has flags and sub-areas to count


def test_a_point_read_is_the_state_and_its_relations_read_apart(history: Evolve) -> None:
    """`point` answers an organisation's page in one statement (on PostgreSQL each statement is a
    round trip); it must say what `latest_recorded_us`, `state` and `relations` say apart, for
    organisations others name and for those they do not, as known now and halfway, and also on a
    day an organisation did not exist."""
    days = [D("2015-01-01"), D("2016-04-01"), D("2018-04-01"), D("2020-04-01"), D("2022-07-01")]
    with history.view.reader() as read:
        latest = read.latest_recorded_us()
        assert latest is not None
        halfway = micros(read.records(after=history.position() // 2, limit=1)[0].recorded_at)
        named = {r.related for day in days for r in read.relations_on(day, latest)}
        orgs = sorted(named | {s.id for s in read.states(days[-1], latest)[::7]})
        assert len(named) > 50
        seen = 0
        for known in (latest, halfway):
            for day in days:
                for org in orgs:
                    found = read.point(org, day, known)
                    assert found.recorded_us == known
                    assert found.status == read.state(org, day, known), (org, day)
                    assert sorted(found.held) == sorted(read.relations(org, known, day=day)), (org, day)
                    seen += bool(found.held)
        assert read.point(orgs[0], days[0], None) == read.point(orgs[0], days[0], latest)
    assert seen > 100  # relations were compared, not only their absence


def test_a_point_read_of_an_empty_view_knows_nothing(make_system: object) -> None:
    system = make_system()  # type: ignore[operator]
    with system.view.reader() as read:
        assert tuple(read.point("anything", D("2020-01-01"), None)) == (None, None, [])
