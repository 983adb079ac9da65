"""The curated history (events/) answers real questions correctly, on every backend.

Each test pins one answer the sources give (see docs/history-notes.md), asked
through the query layer after importing the event files as `evolve import`
does. The history is imported once per module and backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.bootstrap import Evolve
from evolve.errors import NotFound
from evolve.files import check_references, load
from evolve.history_doc import render
from evolve.settings import Settings
from evolve.state import OrganisationState
from evolve.types import Flag, Kind, Stage
from tests.conftest import Databases

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
HISTORY_DOC = ROOT / "docs" / "history.md"
# CI copies shared/ beside the clone; locally it sits beside the repository too.
SEEDS = ROOT.parent / "shared" / "seeds"

D = dt.date.fromisoformat

FIRST_WAVE = {
    "frimley-health-and-care",
    "south-yorkshire-and-bassetlaw",
    "nottingham-and-nottinghamshire",
    "blackpool-and-fylde-coast",
    "dorset",
    "bedfordshire-luton-and-milton-keynes",
    "berkshire-west",
    "buckinghamshire",
    "greater-manchester",
    "surrey-heartlands",
}
CAPPED_2017 = {
    "bristol-north-somerset-and-south-gloucestershire",
    "cambridgeshire-and-peterborough",
    "cheshire-and-merseyside",
    "cornwall-and-the-isles-of-scilly",
    "devon",
    "north-central-london",
    "north-west-london",
    "south-east-london",
    "somerset",
    "staffordshire-and-stoke-on-trent",
    "sussex-and-east-surrey",
    "humber-coast-and-vale",
}
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


def flagged(state: OrganisationState, flag: Flag) -> bool:
    return any(f.flag is flag for f in state.flags)


def systems(history: Evolve, day: str, stage: Stage | None = None) -> dict[str, OrganisationState]:
    return {
        s.id: s
        for s in history.queries.all_states(D(day))
        if s.kind is Kind.HEALTH_SYSTEM and (stage is None or s.stage == stage)
    }


def stage_counts(history: Evolve, day: str) -> dict[str, int]:
    return {k: v for k, v in history.queries.stats(D(day)).by_stage.items() if v}


def test_the_event_files_validate_like_evolve_validate() -> None:
    files = load(EVENTS)
    assert files, "no event files"
    assert check_references(files) == []
    if SEEDS.is_dir():  # only the seed-existence check needs shared/ beside the clone
        assert check_references(files, seeds=SEEDS) == []
    every_event_has_a_source = all(f.event.sources for f in files)
    assert every_event_has_a_source


def test_44_footprints_on_1_june_2016(history: Evolve) -> None:
    assert stage_counts(history, "2016-06-01") == {"footprint": 44}
    assert len(systems(history, "2016-06-01", Stage.FOOTPRINT)) == 44


def test_no_footprint_before_15_march_2016(history: Evolve) -> None:
    with pytest.raises(NotFound, match="did not exist"):
        history.queries.state("dorset", D("2015-06-01"))
    assert stage_counts(history, "2016-03-14") == {}
    assert history.queries.state("dorset", D("2016-03-15")).stage is Stage.FOOTPRINT


def test_44_partnerships_on_1_april_2017(history: Evolve) -> None:
    assert stage_counts(history, "2017-04-01") == {"partnership": 44}


def test_frimley_shadow_acs_in_july_2017_then_ics(history: Evolve) -> None:
    july = history.queries.state("frimley-health-and-care", D("2017-07-01"))
    assert july.stage is Stage.ACS
    assert july.stage_term == "shadow accountable care system"
    assert july.since == D("2017-06-15")
    assert july.code == "E54000034"
    march = history.queries.state("frimley-health-and-care", D("2018-03-01"))
    assert march.stage is Stage.ICS
    assert march.since == D("2018-02-02")


def test_first_wave_are_the_ics_on_1_march_2018(history: Evolve) -> None:
    assert set(systems(history, "2018-03-01", Stage.ICS)) == FIRST_WAVE
    assert stage_counts(history, "2018-03-01") == {"partnership": 37, "ics": 10}


def test_twelve_footprints_under_capped_expenditure_in_summer_2017(history: Evolve) -> None:
    assert history.queries.stats(D("2017-08-01")).flags[Flag.CAPPED_EXPENDITURE.value] == 12
    capped = {s.id for s in systems(history, "2017-08-01").values() if flagged(s, Flag.CAPPED_EXPENDITURE)}
    assert capped == CAPPED_2017
    assert history.queries.stats(D("2017-03-31")).flags[Flag.CAPPED_EXPENDITURE.value] == 0


def test_greater_manchester_devolved_from_april_2016(history: Evolve) -> None:
    assert not flagged(history.queries.state("greater-manchester", D("2016-03-31")), Flag.DEVOLVED)
    assert flagged(history.queries.state("greater-manchester", D("2016-04-01")), Flag.DEVOLVED)
    devolved = {s.id for s in systems(history, "2017-07-01").values() if flagged(s, Flag.DEVOLVED)}
    assert devolved == {"greater-manchester", "surrey-heartlands"}


@pytest.mark.parametrize(
    ("day", "ics"),
    [
        ("2018-03-01", 10),  # the first wave, renamed ICSs on 2 Feb 2018
        ("2018-06-01", 14),  # + 4 named on 24 May 2018
        ("2018-10-01", 13),  # W, N & E Cumbria merged into a partnership (Aug); Blackpool absorbed into L&SC (Sep)
        ("2019-07-01", 14),  # + BOB, NENC, SEL; Bucks and Berkshire West absorbed into BOB (Jun 2019)
        ("2020-06-01", 18),  # + 4 (May 2020): NHS England's "now 18"
        ("2021-01-01", 25),  # + 7 of the 11 of Dec 2020 whose names were seen
        ("2021-04-01", 38),  # + the final 13 (1 Apr 2021); 4 unnamed remain partnerships
    ],
)
def test_ics_count_after_each_wave(history: Evolve, day: str, ics: int) -> None:
    assert history.queries.stats(D(day)).by_stage["ics"] == ics


def test_42_statutory_icss_on_1_july_2022(history: Evolve) -> None:
    assert stage_counts(history, "2022-06-30") == {"partnership": 4, "ics": 38}
    assert stage_counts(history, "2022-07-01") == {"statutory_ics": 42}
    assert len(systems(history, "2022-07-01")) == 42
    state = history.queries.state("greater-manchester", D("2022-07-01"))
    assert state.stage_term == "statutory integrated care system (integrated care board)"


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
    for old in NORTHERN:
        assert history.queries.history(old).items[-1].valid_to == D("2018-08-01")
        with pytest.raises(NotFound):
            history.queries.state(old, D("2018-08-01"))
    assert len(systems(history, "2019-07-01")) == 42  # 44 footprints became 42


def test_leader_named_in_the_seeds(history: Evolve) -> None:
    gm = history.queries.state("greater-manchester", D("2016-06-01"))
    assert gm.leader is not None and gm.leader.name == "Sir Howard Bernstein"
    assert gm.leader.role == "STP leader; Chief Executive of Manchester City Council"
    notts = history.queries.state("nottingham-and-nottinghamshire", D("2016-06-01"))
    assert notts.leader is not None and notts.leader.name == "David Pearson"
    bob = history.queries.state("buckinghamshire-oxfordshire-and-berkshire-west", D("2019-07-01"))
    assert bob.leader is not None and bob.leader.name == "Fiona Wise"


def test_sustainability_and_transformation_fund(history: Evolve) -> None:
    nhs_england = history.queries.state("nhs-england", D("2016-06-01"))
    assert nhs_england.kind is Kind.NATIONAL_BODY
    funding = {(f.fund, f.financial_year): f.amount_pence for f in nhs_england.funding}
    assert funding == {
        ("Sustainability and Transformation Fund", "2016/17"): 213_900_000_000,  # £2.139bn
        ("Sustainability and Transformation Fund (planned)", "2017/18"): 290_000_000_000,  # £2.9bn
        ("Sustainability and Transformation Fund (planned)", "2020/21"): 340_000_000_000,  # £3.4bn
    }
    assert all(f.currency == "GBP" for f in nhs_england.funding)


def test_plan_milestones_of_2016(history: Evolve) -> None:
    dorset = history.queries.state("dorset", D("2016-12-31"))
    assert [(m.milestone.value, m.date) for m in dorset.milestones] == [
        ("short_return", D("2016-04-11")),
        ("draft_submitted", D("2016-06-30")),
        ("final_submitted", D("2016-10-01")),
        ("published", D("2016-12-16")),
    ]
    assert dorset.milestones[2].precision.value == "month"


def test_names_and_codes_change_over_time(history: Evolve) -> None:
    assert history.queries.state("humber-coast-and-vale", D("2016-06-01")).name == "Coast, Humber and Vale"
    assert history.queries.state("humber-coast-and-vale", D("2016-10-01")).name == "Humber, Coast and Vale"
    assert history.queries.state("sussex-and-east-surrey", D("2020-05-01")).name == "Sussex"
    assert history.queries.state("lancashire-and-south-cumbria", D("2017-01-31")).code is None
    assert history.queries.state("lancashire-and-south-cumbria", D("2017-02-01")).code == "E54000048"


def test_surrey_heartlands_members(history: Evolve) -> None:
    surrey = history.queries.state("surrey-heartlands", D("2017-07-01"))
    assert surrey.members == [
        "guildford-and-waverley-ccg",
        "north-west-surrey-ccg",
        "surrey-county-council",
        "surrey-downs-ccg",
    ]
    assert flagged(surrey, Flag.DEVOLVED) and surrey.stage is Stage.ACS


def test_policies_are_recorded(history: Evolve) -> None:
    guidance = history.queries.policy("planning-guidance-2016-17")
    assert guidance.published == D("2015-12-22")
    assert "29 January 2016" in (guidance.summary or "")
    assert history.queries.policy("health-and-care-act-2022").published == D("2022-04-28")


def test_history_doc_is_current() -> None:
    assert HISTORY_DOC.read_text(encoding="utf-8") == render(load(EVENTS)), (
        "docs/history.md is out of date: run `evolve history-doc`"
    )
