"""Decoding events: strict types, and a message that names the field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from evolve.catalogue import EVENT_TYPE_NAMES, EVENT_TYPES, Event
from evolve.files import describe

SRC = [{"title": "t", "seed": "000_x.txt"}]


def decode(**fields: Any) -> Any:
    body = {"effective": "2017-03-31", "precision": "day", "sources": SRC, **fields}
    return msgspec.json.decode(msgspec.json.encode(body), type=Event)


def error(**fields: Any) -> str:
    with pytest.raises(msgspec.ValidationError) as info:
        decode(**fields)
    return describe(info.value)


def test_a_valid_event_decodes_to_its_struct() -> None:
    event = decode(type="PartnershipsFormed", scope={"stage": "footprint"})
    assert event.type == "PartnershipsFormed"
    assert event.scope.is_broadcast


def test_unknown_type_lists_the_known_ones() -> None:
    message = error(type="FootprintsVanished")
    assert "unknown event type 'FootprintsVanished'" in message
    assert all(name in message for name in EVENT_TYPE_NAMES)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"effective": "2017-02-30"}, "$.effective"),
        ({"effective": "0000-01-01"}, "$.effective"),
        ({"effective": "2217-01-01"}, "outside"),
        ({"precision": "week"}, "$.precision"),
        ({"sources": []}, "$.sources"),
        ({"sources": [{"title": "no url or seed"}]}, "exactly one of `url` or `seed`"),
        ({"sources": [{"title": "t", "url": "ftp://x"}]}, "$.sources[0].url"),
        ({"precision": "month"}, "first of the month, 2017-03-01"),
        ({"precision": "year", "effective": "2017-03-01"}, "first of the year, 2017-01-01"),
        ({"colour": "blue"}, "unknown field `colour`"),
    ],
)
def test_common_fields_are_checked(fields: dict[str, Any], expected: str) -> None:
    assert expected in error(type="PartnershipsFormed", scope={"stage": "footprint"}, **fields)


def test_money_as_float_is_refused() -> None:
    message = error(
        type="FundingAllocated",
        scope={"stage": "footprint"},
        fund="STF",
        financial_year="2016/17",
        amount_pence=2.139e11,
    )
    assert message == "Expected `int`, got `float` - at `$.amount_pence`"


def test_scope_needs_exactly_one_selector() -> None:
    assert "exactly one of" in error(type="PartnershipsFormed", scope={"stage": "footprint", "kind": "ccg"})
    assert "exactly one of" in error(type="PartnershipsFormed", scope={})


def test_slugs_and_financial_years_have_a_shape() -> None:
    assert "$.organisation" in error(type="LeaderAppointed", organisation="Not A Slug", leader="X")
    assert "$.financial_year" in error(
        type="CappedExpenditureApplied", scope={"stage": "acs"}, financial_year="2017-18"
    )


def test_correction_needs_replacement_or_retract_not_both() -> None:
    uid = "6a1f2c38-6b51-4d51-9f33-1b2a3c4d5e6f"
    assert "exactly one of" in error(type="EventCorrected", corrects=uid)
    replacement = {
        "type": "PartnershipsFormed",
        "effective": "2017-03-31",
        "precision": "day",
        "sources": SRC,
        "scope": {"stage": "footprint"},
    }
    assert "exactly one of" in error(type="EventCorrected", corrects=uid, replacement=replacement, retract=True)
    nested = {**replacement, "type": "EventCorrected", "corrects": uid, "retract": True}
    assert "$.replacement.type" in error(type="EventCorrected", corrects=uid, replacement=nested)


def test_merge_and_rename_sanity() -> None:
    assert "twice" in error(type="OrganisationsMerged", merged=["a", "a"], into="b", name="B")
    assert "must not be one of" in error(type="OrganisationsMerged", merged=["a", "b"], into="b", name="B")
    assert "give its `name`" in error(type="OrganisationsMerged", merged=["a"], into="b", code="E54000001")
    assert "must differ" in error(type="SystemsRenamed", from_stage="acs", to_stage="acs", term="x")
    assert "at least one" in error(type="OrganisationRestated", organisation="a")
    assert "own member" in error(type="MembersJoined", organisation="a", members=["a"])
    assert "own `parent`" in error(type="OrganisationRestated", organisation="a", parent="a")
    assert "only a health system" in error(type="OrganisationRegistered", organisation="a", name="A", kind="ccg",
                                           parent="b")


def test_financial_years_are_two_years_in_sequence() -> None:
    capped = {"type": "CappedExpenditureApplied", "scope": {"organisations": ["a"]}}
    assert "YYYY/YY" in error(**capped, financial_year="2017/19")
    assert "$.financial_year" in error(**capped, financial_year="2017-18")
    assert "after the end of 2015/16" in error(**capped, financial_year="2015/16")  # effective 2017-03-31
    assert decode(**capped, financial_year="2017/18").financial_year == "2017/18"


def test_a_restatement_tells_left_out_from_cleared() -> None:
    event = decode(type="OrganisationRestated", organisation="a", code=None)
    assert event.code is None and event.name is msgspec.UNSET
    assert msgspec.json.decode(msgspec.json.encode(event))["code"] is None


def test_every_example_decodes_to_its_type() -> None:
    for cls in EVENT_TYPES:
        assert type(msgspec.convert(cls.example, Event)) is cls
