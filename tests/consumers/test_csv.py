"""CSV for `GET /organisations` and `GET /events`: negotiated or by suffix, streamed, equal to the JSON items."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api import csv_responses
from evolve.export import EVENT_COLUMNS, STATE_COLUMNS, event_row, state_row
from evolve.records import EventRecord
from evolve.state import OrganisationState

Client = TestClient[Litestar]
CSV = {"Accept": "text/csv"}


def parse(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def every_json_item(client: Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        items.extend(page["items"])
        if not (cursor := page["next_cursor"]):
            return items


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "2018-06-01", "kind": "health_system"},
        {"as_of": "2019-07-01"},
        {"as_of": "2020-01-01", "stage": "ics", "q": "s"},
    ],
)
def test_organisations_csv_rows_equal_the_json_items(curated: Client, params: dict[str, str]) -> None:
    items = every_json_item(curated, "/organisations", params)
    response = curated.get("/organisations", params=params, headers=CSV)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    columns, rows = parse(response.text)
    assert columns == list(STATE_COLUMNS)
    assert rows == [state_row(msgspec.convert(item, OrganisationState)) for item in items]
    # The columns mean what the JSON fields mean.
    for row, item in zip(rows, items, strict=True):
        assert (row["id"], row["name"], row["kind"], row["stage"]) == (
            item["id"], item["name"], item["kind"], item["stage"] or ""
        )
        assert (row["members"].split("; ") if row["members"] else []) == item["members"]
    # The suffix gives the same body.
    assert curated.get("/organisations.csv", params=params).text == response.text


def test_events_csv_rows_equal_the_json_items(curated: Client) -> None:
    for params in ({}, {"type": "IntegratedCareSystemsDesignated"}, {"subject": "frimley-health-and-care"}):
        items = every_json_item(curated, "/events", params)
        response = curated.get("/events.csv", params=params)
        assert response.status_code == 200
        columns, rows = parse(response.text)
        assert columns == list(EVENT_COLUMNS)
        assert rows == [event_row(msgspec.convert(item, EventRecord)) for item in items]
        assert [row["id"] for row in rows] == [item["id"] for item in items]
        assert curated.get("/events", params=params, headers=CSV).text == response.text


def test_csv_is_not_paginated_and_reads_in_pages(curated: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """`limit` is ignored for CSV: every row comes, read from the projection a few at a time."""
    whole = curated.get("/organisations.csv", params={"as_of": "2019-07-01"}).text
    monkeypatch.setattr(csv_responses, "PAGE_ROWS", 7)
    paged = curated.get("/organisations", params={"as_of": "2019-07-01", "limit": 3}, headers=CSV)
    assert paged.text == whole
    assert len(parse(whole)[1]) > 3 * 7
    events = curated.get("/events", params={"limit": 1}, headers=CSV).text
    assert len(parse(events)[1]) == len(every_json_item(curated, "/events", {}))


def test_csv_with_a_cursor_starts_after_it(curated: Client) -> None:
    first = curated.get("/events", params={"limit": 10}).json()
    rest = curated.get("/events", params={"cursor": first["next_cursor"]}, headers=CSV)
    _, rows = parse(rest.text)
    assert rows[0]["position"] == "11"


def test_csv_is_streamed_and_varies_on_accept(curated: Client) -> None:
    response = curated.get("/organisations", params={"as_of": "2018-06-01"}, headers=CSV)
    assert "content-length" not in response.headers  # streamed: no length, no buffering for an ETag
    assert response.headers["vary"] == "Accept"
    assert response.headers["content-type"] == "text/csv; header=present; charset=utf-8"
    as_json = curated.get("/organisations", params={"as_of": "2018-06-01"})
    assert as_json.headers["content-type"] == "application/json" and as_json.headers["vary"] == "Accept"


def test_json_stays_the_default(curated: Client) -> None:
    for accept in ("*/*", "application/json", "application/json, text/csv;q=0.5", "text/html"):
        response = curated.get("/events", params={"limit": 2}, headers={"Accept": accept})
        assert response.headers["content-type"] == "application/json", accept
    preferred = curated.get("/events", params={"limit": 2}, headers={"Accept": "text/csv, application/json;q=0.9"})
    assert preferred.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/organisations", {"as_of": "2018-13-01"}),
        ("/organisations", {"cursor": "bm90LWEtY3Vyc29y"}),
        ("/events", {"from": "2019-01-01", "to": "2018-01-01"}),
        ("/events.csv", {"type": "NoSuchType"}),
    ],
)
def test_a_bad_parameter_is_a_problem_not_a_broken_csv(curated: Client, path: str, params: dict[str, str]) -> None:
    response = curated.get(path, params=params, headers=CSV)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
