"""Scenarios of the projection, written once and run on every view: the plain-object one
(tests/unit/test_projection.py, no database) and SQLite and PostgreSQL
(tests/integration/test_projection_views.py), as eventsourcing's tests run one contract
against POPO and database views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from evolve.bootstrap import Evolve
from evolve.errors import InvalidEvent, NotFound
from evolve.types import Kind, Stage
from tests.factories import event, footprint

D = dt.date.fromisoformat
Scenario = Callable[[Evolve], None]


def stage_on(system: Evolve, org: str, day: str, known_at: dt.datetime | None = None) -> Stage | None:
    return system.queries.state(org, D(day), known_at).stage


def leader_on(system: Evolve, org: str, day: str, known_at: dt.datetime | None = None) -> str | None:
    leader = system.queries.state(org, D(day), known_at).leader
    return leader.name if leader is not None else None


def back_dated_events_refold_from_their_date(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("PartnershipsFormed", "2017-03-31", scope={"organisations": ["a"]})])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="Early")])
    assert leader_on(system, "a", "2016-07-01") == "Early"
    assert (leader_on(system, "a", "2017-06-01"), stage_on(system, "a", "2017-06-01")) == ("Early", Stage.PARTNERSHIP)
    assert leader_on(system, "a", "2016-05-01") is None


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
    assert leader_on(system, "a", "2016-07-01") == "Right"
    assert leader_on(system, "a", "2016-07-01", wrong.recorded_at) == "Wrong"
    [gone] = system.append([event("EventCorrected", "2016-06-03", corrects=str(wrong.id), retract=True)])
    assert leader_on(system, "a", "2016-07-01") is None
    assert leader_on(system, "a", "2016-07-01", fix.recorded_at) == "Right"
    assert gone.position == 4


def a_merge_starts_from_the_merged_states_and_follows_their_changes(system: Evolve) -> None:
    system.append([footprint("a"), footprint("b")])
    system.append([event("OrganisationsMerged", "2018-08-01", merged=["a", "b"], into="c", name="C")])
    assert stage_on(system, "c", "2018-09-01") is Stage.FOOTPRINT
    system.append([event("PartnershipsFormed", "2017-03-31", scope={"organisations": ["a", "b"]})])
    assert stage_on(system, "c", "2018-09-01") is Stage.PARTNERSHIP  # refolded through the merge
    assert system.queries.organisations(D("2018-09-01")).items[0].id == "c"


def same_day_events_fold_in_log_order(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="First")])
    system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="Second")])
    assert leader_on(system, "a", "2016-06-01") == "Second"


def a_rebuild_gives_the_same_answers(system: Evolve) -> None:
    back_dated_events_refold_from_their_date(system)
    system.append([event("SystemsRenamed", "2018-02-02", from_stage="partnership", to_stage="ics", term="ICS")])
    before = [system.queries.history("a")]
    system.rebuild()
    assert [system.queries.history("a")] == before


def ccg(org: str, day: str = "2016-03-01", **fields: object) -> object:
    return event("OrganisationRegistered", day, organisation=org, name=org.upper(), kind="ccg", **fields)


def refused(system: Evolve, events: list[object], match: str) -> None:
    """The batch is refused with a message matching `match`, and the log does not move."""
    before = system.position()
    with pytest.raises(InvalidEvent, match=match):
        system.append(events)
    assert system.position() == before


def a_batch_shares_one_record_time(system: Evolve) -> None:
    first, second = system.append([footprint("a"), event("LeaderAppointed", "2016-04-01", organisation="a",
                                                          leader="L")])
    assert first.recorded_at == second.recorded_at
    assert leader_on(system, "a", "2016-05-01", first.recorded_at) == "L"
    with pytest.raises(NotFound):
        system.queries.state("a", D("2016-05-01"), first.recorded_at - dt.timedelta(microseconds=1))
    [later] = system.append([event("LeaderLeft", "2016-06-01", organisation="a")])
    assert later.recorded_at > first.recorded_at


def a_flag_tied_to_a_financial_year_ends_with_it(system: Evolve) -> None:
    system.append([footprint("a"), footprint("b"), footprint("c")])
    applied = {"scope": {"organisations": ["a", "b", "c"]}, "financial_year": "2017/18"}
    system.append([event("CappedExpenditureApplied", "2017-04-01", "month", **applied)])
    system.append([event("CappedExpenditureApplied", "2018-04-01", scope={"organisations": ["b"]},
                         financial_year="2018/19")])
    system.append([event("CappedExpenditureLifted", "2017-12-01", scope={"organisations": ["c"]},
                         financial_year="2017/18")])
    def flagged(day: str) -> list[str]:
        return [s.id for s in system.queries.all_states(D(day)) if s.flags]
    assert flagged("2017-08-01") == ["a", "b", "c"]
    assert flagged("2018-01-01") == ["a", "b"]
    assert flagged("2018-06-01") == ["b"]  # applied again for 2018/19
    assert flagged("2019-06-01") == []
    period = system.queries.state("b", D("2018-06-01")).flags[0]
    assert (period.since, period.until) == (D("2017-04-01"), D("2019-03-31"))
    assert system.queries.stats(D("2018-06-01")).flags["capped_expenditure"] == 1
    refused(system, [event("CappedExpenditureLifted", "2019-06-01", scope={"organisations": ["a"]},
                           financial_year="2019/20")], "'a' is not under the capped expenditure process")


def appointments_end(system: Evolve) -> None:
    system.append([footprint("a")])
    system.append([event("LeaderAppointed", "2016-03-15", organisation="a", leader="One", role="Chief Executive")])
    system.append([event("LeaderAppointed", "2017-08-01", organisation="a", leader="Two")])
    system.append([event("LeaderLeft", "2019-01-01", "month", organisation="a", leader="Two")])
    state = system.queries.state("a", D("2017-01-01"))
    assert state.leader is not None and (state.leader.name, state.leader.since) == ("One", D("2016-03-15"))
    assert leader_on(system, "a", "2018-01-01") == "Two"
    assert leader_on(system, "a", "2019-06-01") is None
    spans = [(s.appointment.name, s.valid_from, s.valid_to) for s in system.queries.history("a").leaders]
    assert spans == [("One", D("2016-03-15"), D("2017-08-01")), ("Two", D("2017-08-01"), D("2019-01-01"))]
    refused(system, [event("LeaderLeft", "2019-06-01", organisation="a")], "'a' has no leader on 2019-06-01")
    refused(system, [event("LeaderLeft", "2018-06-01", organisation="a", leader="One")],
            "'a' is led by 'Two' on 2018-06-01, not 'One'")


def organisations_end_and_leave_counts_and_member_lists(system: Evolve) -> None:
    system.append([ccg("x"), ccg("y")])
    system.append([footprint("s", members=["x", "y"])])
    system.append([event("OrganisationsDissolved", "2022-07-01", scope={"kind": "ccg"})])
    assert system.queries.state("s", D("2022-06-30")).members == ["x", "y"]
    assert system.queries.state("s", D("2022-07-01")).members == []
    with pytest.raises(NotFound, match="did not exist on 2022-07-01"):
        system.queries.state("x", D("2022-07-01"))
    assert system.queries.stats(D("2022-07-01")).by_kind["ccg"] == 0
    assert system.queries.stats(D("2022-06-30")).by_kind["ccg"] == 2
    assert system.queries.history("x").items[-1].valid_to == D("2022-07-01")
    refused(system, [event("OrganisationsDissolved", "2022-08-01", scope={"organisations": ["x"]})],
            r"'x' \(in `scope.organisations`\) does not exist on 2022-08-01")
    refused(system, [event("MembersJoined", "2022-08-01", organisation="s", members=["y"])],
            r"'y' \(in `members`\) does not exist on 2022-08-01")


def a_merger_of_members_moves_memberships_to_the_successor(system: Evolve) -> None:
    system.append([ccg("x"), ccg("y"), ccg("z")])
    system.append([footprint("s", members=["x", "y", "z"])])
    system.append([event("OrganisationsMerged", "2018-04-01", merged=["x", "y"], into="xy", name="XY CCG",
                         ods_code="14L")])
    assert system.queries.state("s", D("2018-04-01")).members == ["xy", "z"]
    assert system.queries.state("xy", D("2018-04-01")).member_of == ["s"]
    assert system.queries.state("xy", D("2018-04-01")).kind is Kind.CCG
    system.append([event("OrganisationsMerged", "2019-04-01", merged=["z"], into="xy")])  # absorbed: xy goes on
    assert system.queries.state("s", D("2019-04-01")).members == ["xy"]
    # A back-dated move of z to another system: s loses it, t gains it, and the merger follows.
    system.append([footprint("t", "2016-03-15"), event("MembersLeft", "2017-04-01", organisation="s", members=["z"]),
                   event("MembersJoined", "2017-04-01", organisation="t", members=["z"])])
    assert system.queries.state("t", D("2019-04-01")).members == ["xy"]
    spans = [(m.system, m.valid_from, m.valid_to) for m in system.queries.memberships("z").items]
    assert spans == [("s", D("2016-03-15"), D("2017-04-01")), ("t", D("2017-04-01"), D("2019-04-01"))]


def restatements_change_details_on_a_date(system: Evolve) -> None:
    system.append([footprint("a", code="E54000006")])
    system.append([event("OrganisationRestated", "2020-04-01", organisation="a", code="E54000051")])
    system.append([event("OrganisationRestated", "2022-07-01", organisation="a", name="NHS A ICB", ods_code="QOQ")])
    system.append([event("OrganisationRestated", "2023-01-01", organisation="a", ods_code=None)])
    assert system.queries.state("a", D("2019-01-01")).code == "E54000006"
    later = system.queries.state("a", D("2022-07-01"))
    assert (later.code, later.name, later.ods_code) == ("E54000051", "NHS A ICB", "QOQ")
    assert system.queries.state("a", D("2023-02-01")).ods_code is None


def sub_areas_keep_their_own_stage(system: Evolve) -> None:
    system.append([footprint("p"), footprint("q"), footprint("c")])
    system.append([event("IntegratedCareSystemsDesignated", "2018-05-24", scope={"organisations": ["c"]})])
    system.append([event("OrganisationsMerged", "2018-08-01", "month", merged=["p", "q"], into="pq", name="PQ"),
                   event("OrganisationRestated", "2018-08-01", "month", organisation="c", parent="pq", code=None)])
    stats = system.queries.stats(D("2019-01-01"))
    assert (stats.by_stage["footprint"], stats.by_stage["ics"], stats.sub_areas_by_stage["ics"]) == (1, 0, 1)
    assert stats.by_kind["health_system"] == 1
    assert system.queries.state("pq", D("2019-01-01")).sub_areas == ["c"]
    memberships = [(m.system, m.relation) for m in system.queries.memberships("c").items]
    assert memberships == [("pq", "parent")]


def nothing_is_dropped_silently(system: Evolve) -> None:
    refused(system, [event("LeaderAppointed", "2016-01-01", organisation="a", leader="L"), footprint("a")],
            r"'a' \(in `organisation`\) does not exist on 2016-01-01")
    system.append([footprint("a")])
    [leader] = system.append([event("LeaderAppointed", "2016-06-01", organisation="a", leader="L")])
    designation = system.queries.events(type="FootprintDesignated").items[0]
    refused(system, [event("EventCorrected", "2016-07-01", corrects=str(designation.id), retract=True)],
            f"event {leader.id} .* refused by the rules")
    refused(system, [footprint("a", "2017-01-01")], "'a' already exists on 2017-01-01")


def policies_are_bitemporal(system: Evolve) -> None:
    policy = {"policy_id": "p", "title": "Old title", "publisher": "NHS England", "url": "https://example.org/p"}
    [first] = system.append([event("PolicyPublished", "2016-01-01", **policy)])
    system.append([event("PolicyPublished", "2017-01-01", **{**policy, "title": "New title"})])
    assert system.queries.policy("p").title == "New title"
    assert system.queries.policy("p", D("2016-06-01")).title == "Old title"
    assert system.queries.policy("p", known_at=first.recorded_at).title == "Old title"
    with pytest.raises(NotFound):
        system.queries.policy("p", D("2015-06-01"))
    assert system.queries.policies(known_at=first.recorded_at - dt.timedelta(microseconds=1)).items == []


def a_retracted_broadcast_gives_back_what_it_ended_on_the_day_it_began(system: Evolve) -> None:
    # Found by the property test: a CCG registered on the day a broadcast dissolves every CCG
    # exists on neither that day nor the day before, yet the retraction must bring it back.
    system.append([event("OrganisationRegistered", "2016-07-31", organisation="c", name="C", kind="ccg")])
    [dissolved] = system.append([event("OrganisationsDissolved", "2016-07-31", scope={"kind": "ccg"})])
    with pytest.raises(NotFound):
        system.queries.state("c", D("2016-09-30"))
    system.append([event("EventCorrected", "2016-08-01", corrects=str(dissolved.id), retract=True)])
    assert system.queries.state("c", D("2016-09-30")).kind is Kind.CCG
    system.append([footprint("s", "2016-09-30", members=["c"])])  # the store's state rules agree


SCENARIOS: list[Scenario] = [
    a_batch_shares_one_record_time,
    a_flag_tied_to_a_financial_year_ends_with_it,
    appointments_end,
    organisations_end_and_leave_counts_and_member_lists,
    a_merger_of_members_moves_memberships_to_the_successor,
    restatements_change_details_on_a_date,
    sub_areas_keep_their_own_stage,
    nothing_is_dropped_silently,
    policies_are_bitemporal,
    back_dated_events_refold_from_their_date,
    broadcasts_resolve_against_the_state_on_their_date,
    corrections_apply_from_their_record_time,
    a_merge_starts_from_the_merged_states_and_follows_their_changes,
    same_day_events_fold_in_log_order,
    a_rebuild_gives_the_same_answers,
    a_retracted_broadcast_gives_back_what_it_ended_on_the_day_it_began,
]
