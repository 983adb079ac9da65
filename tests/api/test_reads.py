"""GET routes over the curated history: organisations, history, stats, events, policies, health."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    return body


def test_real_data_frimley_is_an_acs_in_july_2017(curated: Client) -> None:
    response = curated.get("/organisations", params={"q": "frimley", "as_of": "2017-07-01"})
    assert response.status_code == 200
    items = {s["id"]: s for s in response.json()["items"]}
    assert items["frimley-health-and-care"]["stage"] == "acs"
    assert items["frimley-health-and-care"]["as_of"] == "2017-07-01"


def test_list_filters_and_paginates(curated: Client) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"as_of": "2017-07-01", "kind": "health_system", "limit": 7}
    while True:
        page = curated.get("/organisations", params=params).json()
        assert len(page["items"]) <= 7
        assert all(s["kind"] == "health_system" for s in page["items"])
        seen += [s["id"] for s in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == len(set(seen)) > 7
    assert seen == sorted(seen)
    every = curated.get("/organisations", params={"as_of": "2017-07-01", "kind": "health_system", "limit": 500})
    assert [s["id"] for s in every.json()["items"]] == seen
    acs = curated.get("/organisations", params={"as_of": "2017-07-01", "stage": "acs", "limit": 500}).json()
    assert acs["items"] and all(s["stage"] == "acs" for s in acs["items"])


def test_one_organisation_with_version_header(curated: Client) -> None:
    response = curated.get("/organisations/frimley-health-and-care", params={"as_of": "2017-07-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "frimley-health-and-care" and body["stage"] == "acs"
    assert int(response.headers["x-subject-version"]) >= 1


def test_unknown_organisation_and_not_yet_existing_are_404(curated: Client) -> None:
    assert "no organisation" in problem(curated.get("/organisations/no-such-org"), 404)["detail"]
    early = problem(curated.get("/organisations/frimley-health-and-care", params={"as_of": "2010-01-01"}), 404)
    assert "did not exist on 2010-01-01" in early["detail"]
    assert early["instance"] == "/organisations/frimley-health-and-care"


def test_history_is_intervals(curated: Client) -> None:
    body = curated.get("/organisations/frimley-health-and-care/history").json()
    assert body["id"] == "frimley-health-and-care"
    stages = [i["state"]["stage"] for i in body["items"]]
    assert "footprint" in stages and "acs" in stages
    assert body["items"][-1]["valid_to"] is None
    assert all(i["event_id"] for i in body["items"])
    problem(curated.get("/organisations/no-such-org/history"), 404)


def test_known_at_before_the_log_existed(curated: Client) -> None:
    response = curated.get("/organisations", params={"as_of": "2017-07-01", "known_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_stats(curated: Client) -> None:
    body = curated.get("/stats", params={"as_of": "2017-07-01"}).json()
    assert body["as_of"] == "2017-07-01"
    assert body["by_stage"]["acs"] >= 1
    assert set(body["by_kind"]) >= {"health_system", "ccg"}
    assert "capped_expenditure" in body["flags"]


def test_events_list_filter_page_and_one(curated: Client) -> None:
    page = curated.get("/events", params={"type": "AccountableCareSystemsDesignated", "limit": 2}).json()
    assert page["items"] and all(r["event"]["type"] == "AccountableCareSystemsDesignated" for r in page["items"])
    first = page["items"][0]
    one = curated.get(f"/events/{first['id']}")
    assert one.status_code == 200 and one.json() == first
    touching = curated.get("/events", params={"subject": "frimley-health-and-care", "from": "2017-01-01"}).json()
    assert touching["items"] and all("frimley-health-and-care" in r["subjects"] for r in touching["items"])
    assert all(r["event"]["effective"] >= "2017-01-01" for r in touching["items"])
    if page["next_cursor"]:
        params = {"type": "AccountableCareSystemsDesignated", "cursor": page["next_cursor"]}
        more = curated.get("/events", params=params)
        assert more.json()["items"][0]["position"] > page["items"][-1]["position"]
    problem(curated.get("/events/00000000-0000-0000-0000-000000000000"), 404)


def test_policies(curated: Client) -> None:
    page = curated.get("/policies", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    policy = curated.get("/policies/five-year-forward-view")
    assert policy.status_code == 200 and policy.json()["title"] == "Five Year Forward View"
    problem(curated.get("/policies/no-such-policy"), 404)


def test_health(curated: Client) -> None:
    body = curated.get("/health").json()
    assert body["status"] == "ok" and body["position"] > 100
