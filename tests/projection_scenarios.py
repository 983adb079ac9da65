"""Scenarios of the projection, written once and run on every view: the plain-object one
(tests/unit/test_projection.py, no database) and SQLite and PostgreSQL
(tests/integration/test_projection_views.py), as eventsourcing's tests run one contract
against POPO and database views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from evolve.bootstrap import Evolve
from evolve.types import Stage
from tests.factories import event, footprint

D = dt.date.fromisoformat
Scenario = Callable[[Evolve], None]


def stage_on(system: Evolve, org: str, day: str, known_at: dt.datetime | None = None) -> Stage | None:
    return system.queries.state(org, D(day), known_at).stage


def back_dated_events_refold_from_their_date(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("PartnershipsFormed", "2017-03-31", scope={"organisations": ["a"]})])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="Early")])
    assert system.queries.state("a", D("2016-07-01")).leader == "Early"
    later = system.queries.state("a", D("2017-06-01"))
    assert (later.leader, later.stage) == ("Early", Stage.PARTNERSHIP)
    assert system.queries.state("a", D("2016-05-01")).leader is None


def broadcasts_resolve_against_the_state_on_their_date(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("PartnershipsFormed", "2017-03-31", scope={"stage": "footprint"})])
    system.append([footprint("b", "2017-05-01")])  # after the broadcast: not swept up
    assert stage_on(system, "a", "2017-06-01") is Stage.PARTNERSHIP
    assert stage_on(system, "b", "2017-06-01") is Stage.FOOTPRINT
    system.append([footprint("c", "2016-04-01")])  # back-dated before it: swept up
    assert stage_on(system, "c", "2017-06-01") is Stage.PARTNERSHIP


def corrections_apply_from_their_record_time(system: Evolve) -> None:
    system.append([footprint("a")])
    [wrong] = system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="Wrong")])
    replacement = {"type": "LeaderAppointed", "effective": "2016-06-01", "precision": "day",
                   "organisation": "a", "leader": "Right", "sources": [{"title": "t", "url": "https://example.org"}]}
    [fix] = system.append([event("EventCorrected", "2016-06-02", corrects=str(wrong.id), replacement=replacement)])
    assert system.queries.state("a", D("2016-07-01")).leader == "Right"
    before = system.queries.state("a", D("2016-07-01"), wrong.recorded_at)
    assert before.leader == "Wrong"
    [gone] = system.append([event("EventCorrected", "2016-06-03", corrects=str(wrong.id), retract=True)])
    assert system.queries.state("a", D("2016-07-01")).leader is None
    assert system.queries.state("a", D("2016-07-01"), fix.recorded_at).leader == "Right"
    assert gone.position == 4


def a_merge_starts_from_the_merged_states_and_follows_their_changes(system: Evolve) -> None:
    system.append([footprint("a", members=[]), footprint("b")])
    system.append([event("FootprintsMerged", "2018-08-01", merged=["a", "b"], into="c", name="C")])
    assert stage_on(system, "c", "2018-09-01") is Stage.FOOTPRINT
    system.append([event("PartnershipsFormed", "2017-03-31", scope={"organisations": ["a", "b"]})])
    assert stage_on(system, "c", "2018-09-01") is Stage.PARTNERSHIP  # refolded through the merge
    assert system.queries.organisations(D("2018-09-01")).items[0].id == "c"


def same_day_events_fold_in_log_order(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="First")])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="Second")])
    assert system.queries.state("a", D("2016-06-01")).leader == "Second"


def a_rebuild_gives_the_same_answers(system: Evolve) -> None:
    back_dated_events_refold_from_their_date(system)
    system.append([event("SystemsRenamed", "2018-02-02", from_stage="partnership", to_stage="ics", term="ICS")])
    before = [system.queries.history("a")]
    system.rebuild()
    assert [system.queries.history("a")] == before


SCENARIOS: list[Scenario] = [
    back_dated_events_refold_from_their_date,
    broadcasts_resolve_against_the_state_on_their_date,
    corrections_apply_from_their_record_time,
    a_merge_starts_from_the_merged_states_and_follows_their_changes,
    same_day_events_fold_in_log_order,
    a_rebuild_gives_the_same_answers,
]
