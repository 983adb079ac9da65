"""What tools joining evolve to other NHS data need: code lookups, strict parameters, a series of counts."""

from __future__ import annotations

import csv
import io

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.test_reads import problem

Client = TestClient[Litestar]


def ids(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_an_ons_code_finds_the_system_that_held_it_on_the_date(curated: Client) -> None:
    assert ids(curated.get("/organisations", params={"code": "E54000034", "as_of": "2017-07-01"})) == [
        "frimley-health-and-care"
    ]
    # Case-insensitive and exact: a prefix is not a match.
    assert ids(curated.get("/organisations", params={"code": "e54000034", "as_of": "2017-07-01"})) == [
        "frimley-health-and-care"
    ]
    assert ids(curated.get("/organisations", params={"code": "E5400003", "as_of": "2017-07-01"})) == []


def test_an_ods_code_follows_the_organisation_holding_it(curated: Client) -> None:
    # 14L: the Manchester CCG formed on 1 April 2017; nobody held it before, nobody after July 2022.
    assert ids(curated.get("/organisations", params={"code": "14L", "as_of": "2017-03-31"})) == []
    assert ids(curated.get("/organisations", params={"code": "14l", "as_of": "2018-01-01"})) == ["manchester-ccg"]
    assert ids(curated.get("/organisations", params={"code": "14L", "as_of": "2022-07-01"})) == []


def test_a_code_lookup_as_csv(curated: Client) -> None:
    response = curated.get("/organisations.csv", params={"code": "14L", "as_of": "2018-01-01"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["id"], r["ods_code"], r["member_of"]) for r in rows] == [("manchester-ccg", "14L", "greater-manchester")]


@pytest.mark.parametrize(
    ("path", "typo", "accepted"),
    [
        ("/organisations", "asof", "as_of"),
        ("/organisations/dorset", "knownat", "known_at"),
        ("/stats", "as-of", "as_of"),
        ("/events", "types", "type"),
        ("/health", "verbose", None),
    ],
)
def test_an_unknown_parameter_is_a_problem_naming_it(
    curated: Client, path: str, typo: str, accepted: str | None
) -> None:
    body = problem(curated.get(path, params={typo: "2017-01-01"}), 400)
    assert body["parameter"] == typo and f"`{typo}`" in body["detail"]
    assert body["type"].endswith("unknown-parameter")
    if accepted is None:
        assert body["accepted"] == []
    else:
        assert accepted in body["accepted"]


def test_a_yearly_series_has_one_point_each_first_of_january(curated: Client) -> None:
    body = curated.get("/stats/series", params={"from": "2014-01-01", "to": "2022-12-31", "step": "year"}).json()
    assert [p["as_of"] for p in body["items"]] == [f"{y}-01-01" for y in range(2014, 2023)]
    by_date = {p["as_of"]: p for p in body["items"]}
    assert by_date["2017-01-01"]["by_stage"]["footprint"] == 44
    assert by_date["2015-01-01"]["by_stage"]["footprint"] == 0
    assert len({p["known_at"] for p in body["items"]}) == 1  # every point at one record time
    # Each point is what GET /stats says for its date.
    stats = curated.get("/stats", params={"as_of": "2019-01-01", "known_at": body["known_at"]}).json()
    assert by_date["2019-01-01"] == stats


def test_a_series_as_csv_and_its_bounds(curated: Client) -> None:
    params = {"from": "2016-01-31", "to": "2016-06-30", "step": "month"}
    response = curated.get("/stats/series", params=params, headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # The same day each month, or the month's last day when it is shorter.
    assert [r["as_of"] for r in rows] == ["2016-01-31", "2016-02-29", "2016-03-31", "2016-04-30", "2016-05-31",
                                          "2016-06-30"]
    assert [r["stage.footprint"] for r in rows] == ["0", "0", "44", "44", "44", "44"]
    assert problem(curated.get("/stats/series", params={**params, "from": "1900-01-01"}), 400)["parameter"] == "step"
    assert problem(curated.get("/stats/series", params={**params, "to": "2015-01-01"}), 400)["parameter"] == "to"
    problem(curated.get("/stats/series", params={**params, "step": "week"}), 400)
