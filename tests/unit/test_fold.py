"""The effect of each event type on one organisation, and the state rules (pure rules, no I/O)."""

from __future__ import annotations

import datetime as dt

from evolve import fold
from evolve.state import Status
from evolve.types import Flag, Kind, Milestone, Stage
from tests.factories import event, footprint

ID = "e-1"
D = dt.date.fromisoformat


def applied(ev: object, state: Status | None, org: str, event_id: str = ID, sources: list[Status | None] | None = None
            ) -> Status | None:
    result = fold.apply(ev, state, org, event_id, sources or [])  # type: ignore[arg-type]
    assert result.problem is None, result.problem
    return result.state


def refused(ev: object, state: Status | None, org: str, sources: list[Status | None] | None = None) -> str:
    result = fold.apply(ev, state, org, ID, sources or [])  # type: ignore[arg-type]
    assert result.problem is not None and result.state is state
    return result.problem[1]


def designated(org: str = "dorset", **fields: object) -> Status:
    state = applied(footprint(org, name="Dorset", **fields), None, org)
    assert state is not None
    return state


def ccg(org: str = "x") -> Status:
    state = applied(event("OrganisationRegistered", "2016-03-01", organisation=org, name=org, kind="ccg"), None, org)
    assert state is not None
    return state


def test_footprint_designated_creates_a_health_system_at_footprint() -> None:
    figure = {"count": 750_000, "as_of": "2016-01-01", "precision": "year"}
    state = designated(code="E54000041", population=figure)
    assert (state.kind, state.stage, state.code) == (Kind.HEALTH_SYSTEM, Stage.FOOTPRINT, "E54000041")
    figure_read = state.population
    assert figure_read is not None and (figure_read.count, figure_read.as_of) == (750_000, D("2016-01-01"))
    assert (state.since, state.last_event_id) == (D("2016-03-15"), ID)


def test_creating_an_organisation_that_exists_is_refused() -> None:
    assert refused(footprint("dorset", "2017-01-01"), designated(), "dorset") == "'dorset' already exists on 2017-01-01"


def test_an_event_naming_an_organisation_that_does_not_exist_is_refused() -> None:
    message = refused(event("LeaderAppointed", organisation="x", leader="L"), None, "x")
    assert message == "'x' (in `organisation`) does not exist on 2016-03-15"
    joined = event("MembersJoined", "2017-01-01", organisation="dorset", members=["x"])
    assert refused(joined, None, "x") == "'x' (in `members`) does not exist on 2017-01-01"


def test_a_broadcast_meets_only_organisations_that_exist() -> None:
    assert fold.apply(event("PartnershipsFormed", scope={"stage": "footprint"}), None, "x", ID).state is None


def test_an_appointment_begins_on_its_date_and_the_next_one_replaces_it() -> None:
    first = applied(event("LeaderAppointed", organisation="dorset", leader="Tim Goodson", role="STP lead"),
                    designated(), "dorset")
    assert first is not None and first.leader is not None
    assert (first.leader.name, first.leader.role, first.leader.since) == ("Tim Goodson", "STP lead", D("2016-03-15"))
    second = applied(event("LeaderAppointed", "2018-01-01", organisation="dorset", leader="Other"), first, "dorset")
    assert second is not None and second.leader is not None and second.leader.since == D("2018-01-01")
    left = applied(event("LeaderLeft", "2019-01-01", organisation="dorset", leader="Other"), second, "dorset")
    assert left is not None and left.leader is None
    assert "no leader" in refused(event("LeaderLeft", "2019-02-01", organisation="dorset"), left, "dorset")


def test_a_restatement_changes_what_it_gives_and_clears_what_it_nulls() -> None:
    state = designated(code="E54000006")
    restated = applied(event("OrganisationRestated", "2020-04-01", organisation="dorset", code="E54000051",
                             name="Our Dorset"), state, "dorset")
    assert restated is not None and (restated.code, restated.name) == ("E54000051", "Our Dorset")
    cleared = applied(event("OrganisationRestated", "2021-01-01", organisation="dorset", code=None), restated, "dorset")
    assert cleared is not None and (cleared.code, cleared.name) == (None, "Our Dorset")


def test_members_join_and_leave_a_health_system_only() -> None:
    joined = applied(event("MembersJoined", "2017-01-01", organisation="dorset", members=["x"]), designated(), "dorset")
    assert joined is not None and joined.members == ["x"]
    again = event("MembersJoined", "2017-02-01", organisation="dorset", members=["x"])
    assert refused(again, joined, "dorset") == "'x' is already a member of 'dorset' on 2017-02-01"
    left = applied(event("MembersLeft", "2018-01-01", organisation="dorset", members=["x"]), joined, "dorset")
    assert left is not None and left.members == []
    assert "only a health system" in refused(event("MembersJoined", organisation="x", members=["y"]), ccg(), "x")
    # the member itself is only checked to exist: its state does not change
    member = ccg()
    assert fold.apply(event("MembersJoined", organisation="dorset", members=["x"]), member, "x", ID).state is member


def test_stage_events_move_health_systems_only() -> None:
    for type_, stage, term in [
        ("PartnershipsFormed", Stage.PARTNERSHIP, "sustainability and transformation partnership"),
        ("AccountableCareSystemsDesignated", Stage.ACS, "shadow accountable care system"),
        ("IntegratedCareSystemsDesignated", Stage.ICS, "integrated care system"),
    ]:
        moved = applied(event(type_, scope={"organisations": ["dorset"]}), designated(), "dorset")
        assert moved is not None and (moved.stage, moved.stage_term) == (stage, term)
        unmoved = ccg()
        assert fold.apply(event(type_, scope={"organisations": ["x"]}), unmoved, "x", ID).state is unmoved


def test_systems_renamed_applies_to_systems_in_the_from_stage() -> None:
    renamed = event("SystemsRenamed", from_stage="acs", to_stage="ics", term="integrated care system")
    designation = event("AccountableCareSystemsDesignated", scope={"organisations": ["dorset"]})
    acs = applied(designation, designated(), "dorset")
    assert fold.touches(renamed, acs, "dorset")
    assert not fold.touches(renamed, designated(), "dorset")
    after = applied(renamed, acs, "dorset")
    assert after is not None and after.stage is Stage.ICS


def test_capped_expenditure_holds_to_the_end_of_its_financial_year() -> None:
    cep = {"scope": {"organisations": ["dorset"]}, "financial_year": "2017/18"}
    flagged = applied(event("CappedExpenditureApplied", "2017-04-01", "month", **cep), designated(), "dorset")
    assert flagged is not None
    [period] = flagged.flags
    assert (period.flag, period.since, period.until) == (Flag.CAPPED_EXPENDITURE, D("2017-04-01"), D("2018-03-31"))
    assert fold.next_expiry(flagged) == D("2018-04-01")
    expired = fold.expire(flagged, D("2018-04-01"))
    assert (expired.flags, expired.since, expired.last_event_id) == ([], D("2018-04-01"), ID)
    extended = applied(event("CappedExpenditureApplied", "2018-04-01", scope=cep["scope"], financial_year="2018/19"),
                       flagged, "dorset")
    assert extended is not None and (extended.flags[0].since, extended.flags[0].until) == (D("2017-04-01"),
                                                                                          D("2019-03-31"))
    lifted = applied(event("CappedExpenditureLifted", "2017-12-01", **cep), flagged, "dorset")
    assert lifted is not None and lifted.flags == []
    assert "not under the capped expenditure" in refused(event("CappedExpenditureLifted", "2017-12-01", **cep),
                                                         designated(), "dorset")


def test_devolution_has_no_end() -> None:
    devolved = applied(event("DevolutionAgreed", scope={"organisations": ["dorset"]}), designated(), "dorset")
    assert devolved is not None and [f.flag for f in devolved.flags] == [Flag.DEVOLVED]
    assert fold.next_expiry(devolved) is None


def test_funding_and_milestones_accumulate_with_their_event() -> None:
    money = {"scope": {"organisations": ["dorset"]}, "fund": "STF", "amount_pence": 100}
    funded = applied(event("FundingAllocated", financial_year="2016/17", **money), designated(), "dorset", "f-1")
    funded = applied(event("FundingPlanned", financial_year="2020/21", **money), funded, "dorset", "f-2")
    assert funded is not None
    records = [(f.amount_pence, f.planned, f.event_id) for f in funded.funding]
    assert records == [(100, False, "f-1"), (100, True, "f-2")]
    milestone = applied(event("PlanMilestone", "2016-06-30", scope={"stage": "footprint"}, milestone="draft_submitted"),
                        funded, "dorset", "m-1")
    assert milestone is not None and milestone.milestones[0].milestone is Milestone.DRAFT_SUBMITTED


def test_a_merger_ends_the_merged_and_starts_a_new_one_from_them() -> None:
    merge = event("OrganisationsMerged", "2018-08-01", "month", merged=["a", "b"], into="ab", name="A and B",
                  code="E54000049")
    a = designated("a", members=["x"])
    b = applied(event("PartnershipsFormed", scope={"organisations": ["b"]}), designated("b", members=["y"]), "b")
    assert applied(merge, a, "a") is None
    merged = applied(merge, None, "ab", "m", [a, b])
    assert merged is not None
    assert (merged.name, merged.kind, merged.stage, merged.members, merged.population, merged.code) == (
        "A and B", Kind.HEALTH_SYSTEM, Stage.FOOTPRINT, ["x", "y"], None, "E54000049"
    )
    assert "different kinds" in refused(merge, None, "ab", [a, ccg()])


def test_a_merger_into_an_existing_organisation_keeps_it_and_takes_the_members() -> None:
    merge = event("OrganisationsMerged", "2019-06-01", merged=["a"], into="dorset")
    absorbed = applied(merge, designated(), "dorset", "m", [designated("a", members=["x"])])
    assert absorbed is not None and (absorbed.name, absorbed.members) == ("Dorset", ["x"])
    assert refused(merge, None, "dorset") == "'dorset' (in `into`) does not exist on 2019-06-01"


def test_dissolution_ends_an_organisation() -> None:
    assert applied(event("OrganisationsDissolved", "2022-07-01", scope={"kind": "ccg"}), ccg(), "x") is None


def test_the_end_of_a_named_organisation() -> None:
    system = designated(members=["x", "y"])
    assert fold.relations(system) == {"x", "y"}
    merged = fold.relation_ended(system, "x", "xy", D("2020-04-01"), "m")
    assert (merged.members, merged.since, merged.last_event_id) == (["xy", "y"], D("2020-04-01"), "m")
    dissolved = fold.relation_ended(merged, "y", None, D("2022-07-01"), "d")
    assert dissolved.members == ["xy"]
    assert fold.relation_ended(dissolved, "z", None, D("2022-07-01"), "d") is dissolved
    sub = applied(event("OrganisationRegistered", organisation="s", name="S", kind="health_system", parent="dorset"),
                  None, "s")
    assert sub is not None and fold.relation_ended(sub, "dorset", "wessex", D("2019-01-01"), "m").parent == "wessex"


def test_broadcast_by_kind_and_stage() -> None:
    by_kind = event("PlanMilestone", scope={"kind": "health_system"}, milestone="published")
    assert fold.touches(by_kind, designated(), "dorset")
    assert not fold.touches(by_kind, None, "dorset")
