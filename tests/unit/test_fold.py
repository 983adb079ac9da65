"""The effect of each event type on one organisation (pure rules, no I/O)."""

from __future__ import annotations

import datetime as dt

from evolve import fold
from evolve.state import Status
from evolve.types import Flag, Kind, Milestone, Stage
from tests.factories import event, footprint

ID = "e-1"


def designated(org: str = "dorset", **fields: object) -> Status:
    state = fold.apply(footprint(org, name="Dorset", **fields), None, org, ID)
    assert state is not None
    return state


def test_footprint_designated_creates_a_health_system_at_footprint() -> None:
    state = designated(code="E54000041", population=750_000)
    assert (state.kind, state.stage, state.code, state.population) == (
        Kind.HEALTH_SYSTEM,
        Stage.FOOTPRINT,
        "E54000041",
        750_000,
    )
    assert state.since == dt.date(2016, 3, 15)
    assert state.last_event_id == ID


def test_redesignation_keeps_a_later_stage_and_merges_members() -> None:
    state = fold.apply(
        event("PartnershipsFormed", "2017-03-31", scope={"stage": "footprint"}),
        designated(members=["a"]),
        "dorset",
        "e-2",
    )
    assert state is not None
    again = fold.apply(footprint("dorset", "2017-05-01", members=["b"]), state, "dorset", "e-3")
    assert again is not None and again.stage is Stage.PARTNERSHIP and again.members == ["a", "b"]


def test_organisation_registered_has_no_stage() -> None:
    state = fold.apply(
        event("OrganisationRegistered", organisation="ccg-1", name="A CCG", kind="ccg"), None, "ccg-1", ID
    )
    assert state is not None and state.kind is Kind.CCG and state.stage is None


def test_events_other_than_creations_ignore_organisations_that_do_not_exist() -> None:
    assert fold.apply(event("LeaderAppointed", organisation="x", leader="L"), None, "x", ID) is None


def test_leader_and_rename() -> None:
    state = fold.apply(
        event("LeaderAppointed", organisation="dorset", leader="Tim Goodson", role="STP lead"),
        designated(),
        "dorset",
        ID,
    )
    assert state is not None and (state.leader, state.leader_role) == ("Tim Goodson", "STP lead")
    renamed = fold.apply(event("OrganisationRenamed", organisation="dorset", name="Our Dorset"), state, "dorset", ID)
    assert renamed is not None and renamed.name == "Our Dorset" and renamed.leader == "Tim Goodson"


def test_stage_events_move_health_systems_only() -> None:
    ccg = fold.apply(event("OrganisationRegistered", organisation="c", name="C", kind="ccg"), None, "c", ID)
    for type_, stage, term in [
        ("PartnershipsFormed", Stage.PARTNERSHIP, "sustainability and transformation partnership"),
        ("AccountableCareSystemsDesignated", Stage.ACS, "shadow accountable care system"),
        ("IntegratedCareSystemsDesignated", Stage.ICS, "integrated care system"),
    ]:
        moved = fold.apply(event(type_, scope={"organisations": ["dorset"]}), designated(), "dorset", ID)
        assert moved is not None and (moved.stage, moved.stage_term) == (stage, term)
        unmoved = fold.apply(event(type_, scope={"organisations": ["c"]}), ccg, "c", ID)
        assert unmoved is not None and unmoved.stage is None


def test_non_shadow_acs_term() -> None:
    state = fold.apply(
        event("AccountableCareSystemsDesignated", scope={"organisations": ["dorset"]}, shadow=False),
        designated(),
        "dorset",
        ID,
    )
    assert state is not None and state.stage_term == "accountable care system"


def test_systems_renamed_applies_to_systems_in_the_from_stage() -> None:
    renamed = event("SystemsRenamed", from_stage="acs", to_stage="ics", term="integrated care system")
    acs = fold.apply(
        event("AccountableCareSystemsDesignated", scope={"organisations": ["dorset"]}), designated(), "dorset", ID
    )
    assert fold.touches(renamed, acs, "dorset")
    assert not fold.touches(renamed, designated(), "dorset")
    after = fold.apply(renamed, acs, "dorset", ID)
    assert after is not None and after.stage is Stage.ICS


def test_capped_expenditure_and_devolution_flags() -> None:
    applied = fold.apply(
        event("CappedExpenditureApplied", scope={"organisations": ["dorset"]}, financial_year="2017/18"),
        designated(),
        "dorset",
        ID,
    )
    assert applied is not None and applied.flags == [Flag.CAPPED_EXPENDITURE]
    devolved = fold.apply(event("DevolutionAgreed", scope={"organisations": ["dorset"]}), applied, "dorset", ID)
    assert devolved is not None and devolved.flags == [Flag.CAPPED_EXPENDITURE, Flag.DEVOLVED]
    lifted = fold.apply(
        event("CappedExpenditureLifted", scope={"organisations": ["dorset"]}, financial_year="2017/18"),
        devolved,
        "dorset",
        ID,
    )
    assert lifted is not None and lifted.flags == [Flag.DEVOLVED]


def test_funding_and_milestones_accumulate_with_their_event() -> None:
    funded = fold.apply(
        event(
            "FundingAllocated",
            scope={"organisations": ["dorset"]},
            fund="STF",
            financial_year="2016/17",
            amount_pence=100,
        ),
        designated(),
        "dorset",
        "f-1",
    )
    funded = fold.apply(
        event(
            "FundingAllocated",
            scope={"organisations": ["dorset"]},
            fund="STF",
            financial_year="2017/18",
            amount_pence=250,
        ),
        funded,
        "dorset",
        "f-2",
    )
    assert funded is not None and [(f.amount_pence, f.event_id) for f in funded.funding] == [(100, "f-1"), (250, "f-2")]
    milestone = fold.apply(
        event("PlanMilestone", "2016-06-30", scope={"stage": "footprint"}, milestone="draft_submitted"),
        funded,
        "dorset",
        "m-1",
    )
    assert milestone is not None and milestone.milestones[0].milestone is Milestone.DRAFT_SUBMITTED
    assert milestone.milestones[0].date == dt.date(2016, 6, 30)


def test_merge_ends_the_sources_and_starts_the_new_system_from_them() -> None:
    merge = event(
        "FootprintsMerged",
        "2018-08-01",
        precision="month",
        merged=["a", "b"],
        into="ab",
        name="A and B",
        code="E54000049",
    )
    a = designated("a", members=["x"], population=100)
    b = fold.apply(
        event("PartnershipsFormed", scope={"organisations": ["b"]}),
        designated("b", members=["y"], population=50),
        "b",
        ID,
    )
    assert fold.apply(merge, a, "a", "m") is None
    merged = fold.apply(merge, None, "ab", "m", [a, b])
    assert merged is not None
    assert (merged.name, merged.stage, merged.members, merged.population, merged.code) == (
        "A and B",
        Stage.FOOTPRINT,
        ["x", "y"],
        150,
        "E54000049",
    )
    assert merged.since == dt.date(2018, 8, 1)


def test_absorbed_system_ends() -> None:
    absorbed = event("SystemAbsorbed", organisation="dorset", into="wessex")
    assert fold.apply(absorbed, designated(), "dorset", ID) is None
    assert fold.touches(absorbed, designated(), "dorset") and not fold.touches(absorbed, designated("wessex"), "wessex")


def test_broadcast_by_kind_and_stage() -> None:
    by_kind = event("PlanMilestone", scope={"kind": "health_system"}, milestone="published")
    assert fold.touches(by_kind, designated(), "dorset")
    assert not fold.touches(by_kind, None, "dorset")
