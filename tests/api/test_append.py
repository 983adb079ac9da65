"""POST /events: auth, single and batch appends, atomicity, idempotency, preconditions, body errors."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.conftest import AUTH, TOKEN
from tests.api.test_reads import problem
from tests.factories import event_body, footprint_body

Client = TestClient[Litestar]


def post(client: Client, body: Any, **headers: str) -> Any:
    return client.post("/events", json=body, headers={**AUTH, **headers})


# ---- auth ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer  ", "Bearer a b", TOKEN])
def test_missing_or_malformed_authorization_is_401(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.post("/events", json=footprint_body("a"), headers=headers)
    body = problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text
    assert "detail" in body


def test_wrong_token_is_403_and_never_echoed(client: Client) -> None:
    response = client.post("/events", json=footprint_body("a"), headers={"Authorization": "Bearer not-the-token"})
    problem(response, 403)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "not-the-token" not in response.text and TOKEN not in response.text
    assert client.get("/events").json()["items"] == []


def test_reads_need_no_token(client: Client) -> None:
    assert client.get("/organisations").status_code == 200


# ---- appends -----------------------------------------------------------------------------


def test_single_event_is_201_with_location_and_record(client: Client) -> None:
    response = post(client, footprint_body("alpha"))
    assert response.status_code == 201, response.text
    record = response.json()
    assert response.headers["location"] == f"/events/{record['id']}"
    assert response.headers["x-evolve-position"] == str(record["position"]) == "1"
    assert record["subjects"] == ["alpha"] and record["event"]["type"] == "FootprintDesignated"
    assert client.get(response.headers["location"]).json() == record
    state = client.get("/organisations/alpha", params={"as_of": "2016-04-01"})
    assert state.json()["stage"] == "footprint"  # read-your-writes


def test_batch_is_201_with_items(client: Client) -> None:
    partnership = event_body("PartnershipsFormed", "2017-03-31", scope={"stage": "footprint"})
    response = post(client, [footprint_body("alpha"), footprint_body("beta"), partnership])
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [r["position"] for r in items] == [1, 2, 3]
    assert response.headers["location"] == f"/events/{items[0]['id']}"
    assert response.headers["x-evolve-position"] == "3"
    assert client.get("/organisations/beta", params={"as_of": "2017-04-01"}).json()["stage"] == "partnership"


def test_batch_is_atomic_and_names_the_index(client: Client) -> None:
    bad = {**footprint_body("gamma"), "scope": {}}
    body = problem(post(client, [footprint_body("alpha"), footprint_body("beta"), bad]), 422)
    assert body["pointer"] == "/2/scope"
    assert "unknown field" in body["detail"]
    assert client.get("/events").json()["items"] == []


def test_batch_reference_error_appends_nothing(client: Client) -> None:
    orphan = event_body("LeaderAppointed", organisation="nobody", leader="X")
    body = problem(post(client, [footprint_body("alpha"), orphan]), 409)
    assert body["pointer"] == "/1"
    assert "nobody" in body["detail"]
    assert client.get("/events").json()["items"] == []


@pytest.mark.parametrize(
    ("event", "pointer", "words"),
    [
        ({"type": "NoSuchThing"}, "/type", "unknown event type"),
        (event_body("FundingAllocated", scope={"stage": "acs"}, fund="f", financial_year="2017/18", amount_pence=1.5),
         "/amount_pence", "Expected `int`, got `float`"),
        ({**footprint_body("alpha"), "precision": "month"}, None, "first of the month"),
        ({**footprint_body("alpha"), "effective": "2017-02-30"}, "/effective", "date"),
        (event_body("PartnershipsFormed", scope={"stage": "acs", "kind": "ccg"}), "/scope", "exactly one"),
        ({**footprint_body("alpha"), "sources": []}, "/sources", "length"),
    ],
)
def test_invalid_events_are_422_with_pointer(client: Client, event: Any, pointer: str | None, words: str) -> None:
    body = problem(post(client, event), 422)
    assert words in body["detail"]
    assert body.get("pointer") == pointer


def test_empty_batch_and_non_event_json_are_422(client: Client) -> None:
    problem(post(client, []), 422)
    problem(post(client, 42), 422)


def test_malformed_json_is_400(client: Client) -> None:
    response = client.post("/events", content=b'{"type": ', headers={**AUTH, "Content-Type": "application/json"})
    assert "not valid JSON" in problem(response, 400)["detail"]
    empty = client.post("/events", content=b"", headers={**AUTH, "Content-Type": "application/json"})
    problem(empty, 400)


def test_non_json_is_415(client: Client) -> None:
    response = client.post("/events", content=b"type=x", headers={**AUTH, "Content-Type": "text/plain"})
    problem(response, 415)


def test_too_large_is_413(client: Client) -> None:
    huge = b'{"note": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = client.post("/events", content=huge, headers={**AUTH, "Content-Type": "application/json"})
    problem(response, 413)


def test_unknown_subject_is_409(client: Client) -> None:
    body = problem(post(client, event_body("LeaderAppointed", organisation="nobody", leader="X")), 409)
    assert "nobody" in body["detail"]


# ---- idempotency ---------------------------------------------------------------------------


def test_idempotent_retry_returns_the_original_reply(client: Client) -> None:
    first = post(client, footprint_body("alpha"), **{"Idempotency-Key": "key-1"})
    again = post(client, footprint_body("alpha"), **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert len(client.get("/events").json()["items"]) == 1


def test_idempotent_retry_of_a_batch(client: Client) -> None:
    batch = [footprint_body("alpha"), footprint_body("beta")]
    first = post(client, batch, **{"Idempotency-Key": "key-b"})
    again = post(client, batch, **{"Idempotency-Key": "key-b"})
    assert again.status_code == 201 and again.json() == first.json()
    assert len(client.get("/events").json()["items"]) == 2


def test_same_key_other_body_is_409(client: Client) -> None:
    post(client, footprint_body("alpha"), **{"Idempotency-Key": "key-2"})
    body = problem(post(client, footprint_body("beta"), **{"Idempotency-Key": "key-2"}), 409)
    assert "Idempotency-Key" in body["detail"]
    assert len(client.get("/events").json()["items"]) == 1


def test_same_key_single_versus_batch_is_409(client: Client) -> None:
    post(client, footprint_body("alpha"), **{"Idempotency-Key": "key-3"})
    problem(post(client, [footprint_body("alpha")], **{"Idempotency-Key": "key-3"}), 409)


# ---- optimistic concurrency ----------------------------------------------------------------


def test_if_match_holds_then_fails(client: Client) -> None:
    post(client, footprint_body("alpha"))
    version = client.get("/organisations/alpha", params={"as_of": "2016-04-01"}).headers["x-subject-version"]
    leader = event_body("LeaderAppointed", "2016-05-01", organisation="alpha", leader="A")
    ok = post(client, leader, **{"If-Match": f'"alpha:{version}"'})
    assert ok.status_code == 201, ok.text
    stale = problem(post(client, leader, **{"If-Match": f'"alpha:{version}"'}), 412)
    assert stale["subject"] == "alpha"
    assert stale["expected"] == int(version) and stale["actual"] == int(version) + 1


def test_if_match_several_subjects(client: Client) -> None:
    post(client, [footprint_body("alpha"), footprint_body("beta")])
    merged = event_body("OrganisationsMerged", "2017-01-01", merged=["alpha", "beta"], into="alpha-beta", name="AB")
    response = post(client, merged, **{"If-Match": '"alpha:1", "beta:1", "alpha-beta:0"'})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("value", ["*", "alpha", '"alpha:x"', '"Alpha:1"', '"alpha:1", "alpha:2"', 'W/"alpha:1"'])
def test_malformed_if_match_is_400(client: Client, value: str) -> None:
    post(client, footprint_body("alpha"))
    body = problem(post(client, footprint_body("beta"), **{"If-Match": value}), 400)
    assert body["parameter"] == "If-Match"
