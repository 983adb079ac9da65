"""Auth, CORS and structured logs.

* Writes without a token, with a malformed header or a wrong token are 401/403 problems; reads are public, and
  the API description and OpenAPI security requirements say so.
* Tokens never appear in logs or error bodies: log lines are captured (in process, through api.logging's JSON
  formatter; and from a live `evolve serve`'s stderr) while requests carry the valid token, wrong ones, tokens
  in the query string and a request that fails with a 500, and searched for every token string.
* Every log line emitted while a request is handled carries its request id (worker threads included); an
  acceptable incoming X-Request-ID is used and echoed, anything else is replaced; one access line per request,
  with the path but never the query string; uvicorn's own access log is off.
* CORS: a GET preflight from any origin is allowed (no credentials), a POST preflight is refused.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import DESCRIPTION, create_app
from api.logging import REQUEST_ID, JSONFormatter, RequestIdFilter, accepted_request_id, redact
from api.openapi import document as openapi_document
from evolve.bootstrap import Evolve
from tests.conftest import Databases
from tests.live_server import AUTH, TOKEN, serving
from tests.reliability.support import batch, report

WRONG = "wrong-token-7d2e1f0b9c8a"
QUERY_SECRET = "query-secret-3b9f2a71"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log record, formatted by api.logging as the server does, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIdFilter())
    # The test client's own loggers (httpx logs the URLs it requests) are not the server's.
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def client(system: Evolve) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(system, token=TOKEN), raise_server_exceptions=False) as c:
        yield c


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# ---- auth ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": ""}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": f"Bearer {TOKEN} extra"}, 401),
        ({"Authorization": f"Bearer {WRONG}"}, 403),
        ({"Authorization": f"Bearer {TOKEN.upper()}"}, 403),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403),
    ],
)
def test_writes_need_the_token(client: TestClient[Litestar], headers: dict[str, str], status: int) -> None:
    response = client.post("/events", json=batch("auth-org", 2), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text and WRONG not in response.text and TOKEN.upper() not in response.text
    assert client.get("/events").json()["items"] == []


def test_reads_are_public_and_documented_as_such(client: TestClient[Litestar]) -> None:
    for path in ("/organisations", "/events", "/policies", "/stats", "/health", "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert "reads are public" in DESCRIPTION.lower()
    document = openapi_document(client.app)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            secured = bool(operation.get("security"))
            assert secured == (method == "post"), (method, path)


# ---- CORS --------------------------------------------------------------------------------------------------------


def test_cors_allows_cross_origin_reads_only(client: TestClient[Litestar]) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    preflight = client.options(
        "/organisations",
        headers={**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert set(preflight.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert "access-control-allow-credentials" not in preflight.headers
    simple = client.get("/organisations", headers=origin)
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

    for headers in ({"Access-Control-Request-Method": "POST"},
                    {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}):
        refused = client.options("/events", headers={**origin, **headers})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


# ---- logs ----------------------------------------------------------------------------------------------------------


def test_request_ids_and_access_lines(client: TestClient[Litestar], captured: io.StringIO) -> None:
    given = client.get("/health", headers={"X-Request-ID": "trace-42.a:b_c"})
    assert given.headers["x-request-id"] == "trace-42.a:b_c"
    generated = client.get(f"/organisations?q=x&token={QUERY_SECRET}")
    assert REQUEST_ID.match(generated.headers["x-request-id"])
    bad_ids: list[str | bytes] = ["a" * 65, "has space", "x;y", "\u00fc".encode()]
    refused = [client.get("/health", headers={"X-Request-ID": bad}) for bad in bad_ids]
    for response in refused:
        assert response.headers["x-request-id"] not in ("a" * 65, "has space", "x;y")
        assert REQUEST_ID.match(response.headers["x-request-id"])
    missing = client.get("/no/such/path")
    assert missing.status_code == 404 and REQUEST_ID.match(missing.headers["x-request-id"])

    access = [line for line in lines(captured) if line["logger"] == "evolve.access"]
    assert len(access) == 7, access
    assert [a["request_id"] for a in access] == [
        r.headers["x-request-id"] for r in (given, generated, *refused, missing)
    ]
    assert all(a["method"] == "GET" and isinstance(a["duration_ms"], float) for a in access)
    # `token` is no parameter of the listing: refused (400), and still never written to the log.
    assert access[1]["path"] == "/organisations" and access[1]["status"] == 400
    assert access[-1]["status"] == 404
    assert QUERY_SECRET not in captured.getvalue()


def test_every_line_of_a_request_carries_its_id(
    system: Evolve, client: TestClient[Litestar], captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = system.append

    def noisy_append(*args: Any, **kwargs: Any) -> Any:  # runs in a worker thread
        logging.getLogger("evolve.test").warning("appending in a worker thread")
        return original(*args, **kwargs)

    monkeypatch.setattr(system, "append", noisy_append)
    response = client.post("/events", json=batch("traced", 2), headers={**AUTH, "X-Request-ID": "req-1"})
    assert response.status_code == 201

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the store exploded")

    monkeypatch.setattr(system, "append", broken)
    failed = client.post("/events", json=batch("boom", 1), headers={**AUTH, "X-Request-ID": "req-2"})
    assert failed.status_code == 500 and "exploded" not in failed.text
    assert failed.headers["x-request-id"] == "req-2"

    emitted = [line for line in lines(captured) if line["logger"].startswith(("evolve", "litestar"))]
    by_id: dict[str, list[str]] = {}
    for line in emitted:
        assert line["request_id"] in ("req-1", "req-2"), line
        by_id.setdefault(line["request_id"], []).append(line["logger"])
    assert by_id["req-1"] == ["evolve.test", "evolve.access"]
    assert "evolve.api" in by_id["req-2"] and by_id["req-2"][-1] == "evolve.access"
    error = next(line for line in emitted if line["logger"] == "evolve.api")
    assert "RuntimeError" in error["exc"]
    assert TOKEN not in captured.getvalue()


def test_tokens_never_reach_logs_or_bodies_in_process(client: TestClient[Litestar], captured: io.StringIO) -> None:
    bodies = []
    for headers in (AUTH, {"Authorization": f"Bearer {WRONG}"}, {"Authorization": f"Bearer {WRONG} {TOKEN}"},
                    {"Authorization": f"Token {TOKEN}"}):
        for body in (batch("secret-org", 2), {"type": "Bogus"}):
            response = client.post("/events", json=body, headers=headers)
            bodies.append(response.text)
    bodies.append(client.get(f"/events?cursor={TOKEN}").text)
    logged = captured.getvalue()
    assert logged
    for secret in (TOKEN, WRONG, f"Bearer {TOKEN}"):
        assert secret not in logged
    for text in bodies[:8]:
        assert TOKEN not in text and WRONG not in text


def test_redaction_is_a_second_line_of_defence() -> None:
    assert TOKEN not in redact(f"Authorization: Bearer {TOKEN}")
    assert TOKEN not in redact(f"headers={{'authorization': 'Bearer {TOKEN}'}}")
    assert TOKEN not in redact(f"bearer {TOKEN}")
    assert redact("GET /events 200") == "GET /events 200"
    assert accepted_request_id(b"ok-1") == "ok-1"
    assert accepted_request_id(b"\xff") != "\xff"


def test_live_server_logs_json_without_tokens(databases: Databases, tmp_path: Path) -> None:
    """`evolve serve` under uvicorn: JSON lines only, one access line per request, no uvicorn access lines,
    no token, no query string."""
    url = databases.url(file=True)
    sent = 0
    with serving(url, tmp_path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for headers in (AUTH, {"Authorization": f"Bearer {WRONG}"}, {"Authorization": f"Basic {TOKEN}"}, {}):
            http.post("/events", json=batch(f"live-{sent}", 2), headers={**headers, "X-Request-ID": f"live-{sent}"})
            sent += 1
        for path in (f"/organisations?token={QUERY_SECRET}", f"/events?cursor={TOKEN}", "/nowhere", "/health"):
            response = http.get(path, headers={"X-Request-ID": f"live-{sent}"})
            assert response.headers["x-request-id"] == f"live-{sent}"
            sent += 1
    text = server.stderr_path.read_text()
    parsed = server.log_lines()
    assert all("raw" not in line for line in parsed), [line for line in parsed if "raw" in line][:3]
    access = [line for line in parsed if line["logger"] == "evolve.access"]
    assert [a["request_id"] for a in access if a["path"] != "/health" or a["request_id"].startswith("live")] == [
        f"live-{i}" for i in range(sent)
    ]
    assert not [line for line in parsed if line["logger"] == "uvicorn.access"]
    for secret in (TOKEN, WRONG, QUERY_SECRET):
        assert secret not in text
    assert TOKEN not in server.stdout_path.read_text()
    report(
        f"logs[{databases.backend}]: live server, {sent} requests with valid/wrong/malformed tokens and query "
        f"secrets; {len(parsed)} JSON lines, {len(access)} access lines, 0 uvicorn access lines, 0 token leaks"
    )
