"""The contract: served OpenAPI documents, docs pages, CORS, and the committed openapi.yaml."""

from __future__ import annotations

import re

import yaml
from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]


def test_schema_documents_are_served(client: Client) -> None:
    as_json = client.get("/schema/openapi.json")
    as_yaml = client.get("/schema/openapi.yaml")
    assert as_json.status_code == as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.text)["paths"].keys() == as_json.json()["paths"].keys()
    for page in ("/schema", "/schema/swagger"):
        response = client.get(page)
        assert response.status_code == 200 and "<html" in response.text.lower()


def test_every_operation_is_documented(client: Client) -> None:
    document = client.get("/schema/openapi.json").json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == 17  # 11 + CSV (2), diff (2), change feed (1), series (1)
    for op in operations:
        assert op["summary"] and op["tags"] and op["operationId"][0].isupper()
        # Every operation can refuse an unknown query parameter, so every one documents its 400 problem.
        assert op["responses"]["400"]["content"]["application/problem+json"]
    post = document["paths"]["/events"]["post"]
    assert post["security"] == [{"bearerAuth": []}]
    assert post["requestBody"]["content"]["application/json"]["examples"]
    assert "If-Match" in post["description"]
    assert "Problem" in document["components"]["schemas"]


def test_docs_pages_load_nothing_from_another_host(client: Client) -> None:
    for page in ("/schema", "/schema/swagger"):
        html = client.get(page).text
        links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert links, page
        for link in links:
            assert link.startswith("/"), f"{page} loads {link}"
            assert client.get(link).status_code == 200, f"{page}: {link} is not served"


def test_cors_allows_reads_from_anywhere_but_not_writes(client: Client) -> None:
    read = client.options("/organisations", headers={"Origin": "https://else.example",
                                                     "Access-Control-Request-Method": "GET"})
    assert read.status_code == 204 and read.headers["access-control-allow-origin"] == "*"
    write = client.options("/events", headers={"Origin": "https://else.example",
                                               "Access-Control-Request-Method": "POST"})
    assert write.status_code == 400
    simple = client.get("/health", headers={"Origin": "https://else.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
