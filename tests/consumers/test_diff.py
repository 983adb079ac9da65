"""`GET /organisations/{id}/diff` and `GET /diff` on the curated history: changes, their causes, errors."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
FRIMLEY = "frimley-health-and-care"
WINDOW = {"from": "2017-01-01", "to": "2018-06-01"}


def stage_steps(items: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [
        (item["date"], change["before"], change["after"])
        for item in items
        for change in item["changes"]
        if change["field"] == "stage"
    ]


def test_a_first_wave_acs_goes_partnership_acs_ics_with_the_causing_events(curated: Client) -> None:
    response = curated.get(f"/organisations/{FRIMLEY}/diff", params=WINDOW)
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == ("2017-01-01", "2018-06-01")
    assert {item["organisation"] for item in body["items"]} == {FRIMLEY}
    steps = stage_steps(body["items"])
    assert [(before, after) for _, before, after in steps] == [
        ("footprint", "partnership"),
        ("partnership", "acs"),
        ("acs", "ics"),
    ]
    assert [date for date, _, _ in steps] == sorted(date for date, _, _ in steps)
    causes = []
    for item in body["items"]:
        assert item["event_url"] == f"/events/{item['event_id']}"
        event = curated.get(item["event_url"]).json()
        assert event["event"]["effective"] == item["date"]
        stage = next((c for c in item["changes"] if c["field"] == "stage"), None)
        if stage is None:  # another change in the window (e.g. its CCGs merging in April 2018)
            continue
        causes.append(event["event"]["type"])
        if event["event"]["type"] == "SystemsRenamed":
            assert (event["event"]["from_stage"], event["event"]["to_stage"]) == (stage["before"], stage["after"])
    # NHS England renamed accountable care systems integrated care systems in February 2018.
    assert causes == ["PartnershipsFormed", "AccountableCareSystemsDesignated", "SystemsRenamed"]


def test_the_whole_diff_holds_every_organisations_changes(curated: Client) -> None:
    everyone = curated.get("/diff", params=WINDOW).json()["items"]
    mine = curated.get(f"/organisations/{FRIMLEY}/diff", params=WINDOW).json()["items"]
    assert [item for item in everyone if item["organisation"] == FRIMLEY] == mine
    order = [(i["date"], i["organisation"]) for i in everyone]
    assert order == sorted(order)
    assert all(WINDOW["from"] < item["date"] <= WINDOW["to"] for item in everyone)
    steps = stage_steps(everyone)
    assert ("2017-06-15", "partnership", "acs") in steps
    # Each change is linked to a real event, effective on the change's date; or, for a flag that ended
    # with its financial year, to the event that set the flag's period.
    for item in everyone:
        event = curated.get(item["event_url"])
        assert event.status_code == 200
        effective = event.json()["event"]["effective"]
        if effective != item["date"]:  # nothing else happened to it that day: a flag's period ended
            assert effective < item["date"]
            assert [c["field"] for c in item["changes"]] == ["flags"] and item["changes"][0]["before"]


def test_joins_and_leaves_show_as_exists(curated: Client) -> None:
    items = curated.get("/diff", params={"from": "2014-01-01", "to": "2022-12-31"}).json()["items"]
    exists = [(item["organisation"], change["after"]) for item in items for change in item["changes"]
              if change["field"] == "exists"]
    assert any(after is True for _, after in exists), "no organisation appears"
    assert any(after is False for _, after in exists), "no organisation ends (merged or absorbed)"


def test_replaying_the_diff_on_one_date_gives_the_other(curated: Client) -> None:
    """Health systems' stages on `from`, plus the diff's joins, leaves and stage changes, are the stages on `to`."""
    start, end = "2016-06-01", "2020-04-01"
    listed = curated.get("/organisations", params={"as_of": start, "kind": "health_system", "limit": 500}).json()
    stages: dict[str, str | None] = {o["id"]: o["stage"] for o in listed["items"]}
    for item in curated.get("/diff", params={"from": start, "to": end}).json()["items"]:
        for change in item["changes"]:
            if change["field"] == "exists" and change["after"] is False:
                stages.pop(item["organisation"], None)
            elif change["field"] == "stage":
                stages[item["organisation"]] = change["after"]
    replayed = Counter(stage for stage in stages.values() if stage)
    expected = curated.get("/stats", params={"as_of": end}).json()["by_stage"]
    assert replayed == Counter({stage: n for stage, n in expected.items() if n})


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        (f"/organisations/{FRIMLEY}/diff", {"from": "2018-06-01", "to": "2017-01-01"}, 400, "from"),
        ("/diff", {"from": "2018-06-01", "to": "2017-01-01"}, 400, "from"),
        ("/diff", {"from": "2018-02-30", "to": "2019-01-01"}, 400, None),
        ("/diff", {"from": "yesterday", "to": "2019-01-01"}, 400, None),
        ("/diff", {"to": "2019-01-01"}, 400, None),
        (f"/organisations/{FRIMLEY}/diff", {"from": "2017-01-01"}, 400, None),
        ("/organisations/no-such-organisation/diff", WINDOW, 404, None),
        ("/organisations/Not_A_Slug/diff", WINDOW, 400, None),
    ],
)
def test_bad_requests_are_problems(
    curated: Client, path: str, params: dict[str, str], status: int, parameter: str | None
) -> None:
    response = curated.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if parameter:
        assert response.json()["parameter"] == parameter


def test_an_empty_window_has_no_changes(curated: Client) -> None:
    response = curated.get(f"/organisations/{FRIMLEY}/diff", params={"from": "2018-06-01", "to": "2018-06-01"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_known_at_reads_the_log_as_it_was(curated: Client) -> None:
    """Before anything was recorded there were no changes to know of."""
    response = curated.get("/diff", params={**WINDOW, "known_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["known_at"] == "2000-01-01T00:00:00Z"
