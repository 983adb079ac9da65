"""Every error is an RFC 9457 problem: bad parameters, unknown routes and methods."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.problems import to_problem
from evolve.errors import ConflictError, IdempotencyKeyReused, StoreUnavailable
from tests.api.test_reads import problem

Client = TestClient[Litestar]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/organisations?as_of=2017-02-30", "as_of"),
        ("/organisations?limit=0", "limit"),
        ("/organisations?limit=501", "limit"),
        ("/organisations?limit=1.5", "limit"),
        ("/organisations?kind=planet", "kind"),
        ("/organisations?known_at=2017-01-01T00:00:00", "known_at"),
        ("/organisations?known_at=0.5", "known_at"),
        ("/stats?known_at=yesterday", "known_at"),
        ("/organisations?cursor=forged", "cursor"),
        ("/events?cursor=eyJrIjoib3JnYW5pc2F0aW9ucyIsImEiOiJhIn0", "cursor"),
        ("/events?type=NoSuchEvent", "type"),
        ("/events?from=2018-01-01&to=2017-01-01", "from"),
        ("/organisations/Not%20A%20Slug", "id"),
    ],
)
def test_bad_parameters_are_400(client: Client, url: str, parameter: str) -> None:
    body = problem(client.get(url), 400)
    named = body.get("parameter") or " ".join(e.get("key") or "" for e in body.get("errors", []))
    assert parameter in named, body


def test_validation_message_is_msgspecs(client: Client) -> None:
    body = problem(client.get("/organisations?limit=0"), 400)
    assert "Expected `int` >= 1" in body["detail"]


def test_unknown_route_is_404_problem(client: Client) -> None:
    problem(client.get("/no/such/route"), 404)
    problem(client.get("/events/not-a-uuid"), 404)


def test_wrong_method_is_405_with_allow(client: Client) -> None:
    response = client.delete("/events")
    problem(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


def test_options_lists_every_method(client: Client) -> None:
    response = client.options("/events")
    assert response.status_code == 204
    assert {"GET", "POST", "OPTIONS"} == {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (ConflictError("the log is too busy: gave up"), 409, "write-conflict"),
        (ConflictError("stale", subject="a", expected=1, actual=2), 412, "precondition-failed"),
        (IdempotencyKeyReused("reused"), 409, "idempotency-key-reused"),
        (StoreUnavailable("cannot open postgresql://u:secret@h/db"), 503, "store-unavailable"),
        (RuntimeError("boom with internals"), 500, "server-error"),
    ],
)
def test_one_mapping_from_errors_to_problems(error: Exception, status: int, slug: str) -> None:
    problem_ = to_problem(error)
    assert problem_.status_code == status and problem_.type_ == f"urn:evolve:problem:{slug}"
    if status >= 500:
        assert "secret" not in str(problem_.detail) and "internals" not in str(problem_.detail)
