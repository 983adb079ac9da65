"""Conditional GETs: strong ETag on every successful GET, If-None-Match -> 304."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]


def test_etag_and_304(curated: Client) -> None:
    url = "/organisations/frimley-health-and-care?as_of=2017-07-01&known_at=2099-01-01T00:00:00Z"
    first = curated.get(url)
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert first.headers["cache-control"] == "no-cache"
    again = curated.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    other = curated.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json() == first.json()


def test_etag_follows_the_body(curated: Client) -> None:
    a = curated.get("/policies?limit=1").headers["etag"]
    b = curated.get("/policies?limit=2").headers["etag"]
    assert a != b
    assert curated.get("/policies?limit=1").headers["etag"] == a


def test_problems_are_not_cached(curated: Client) -> None:
    response = curated.get("/organisations/no-such-org")
    assert "etag" not in response.headers
    assert response.headers["cache-control"] == "no-store"


def test_default_known_at_is_the_newest_record_so_answers_are_cacheable(client: Client, post: Any) -> None:
    post({"type": "FootprintDesignated", "effective": "2016-03-15", "precision": "day", "organisation": "dorset",
          "name": "Dorset", "sources": [{"title": "t", "seed": "s.txt"}]})
    url = "/organisations/dorset?as_of=2017-01-01"
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    post({"type": "LeaderAppointed", "effective": "2016-04-01", "precision": "day", "organisation": "dorset",
          "leader": "L", "sources": [{"title": "t", "seed": "s.txt"}]})
    changed = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["leader"]["name"] == "L"
    assert changed.json()["known_at"] > first.json()["known_at"]
