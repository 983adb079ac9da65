"""Fixtures for the REST API tests: apps over the shared `databases` backends.

`client` is a fresh, empty system per test (writes are isolated); `curated_app`
holds the curated history once per backend and is only read (and fuzzed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from evolve.bootstrap import Evolve
from evolve.settings import Settings
from tests.conftest import Databases

TOKEN = "test-write-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def app(system: Evolve) -> Litestar:
    return create_app(system, token=TOKEN)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def curated_system(databases: Databases) -> Iterator[Evolve]:
    """The curated history, imported once per backend for every API module (1,300 events: about 3 s on
    SQLite and 11 s on PostgreSQL). Modules only read it, except schemathesis, which runs last here."""
    system = Evolve(Settings(database_url=databases.url()))
    system.import_files(EVENTS)
    system.project_on_append = True
    yield system
    system.close()


@pytest.fixture(scope="session")
def curated_app(curated_system: Evolve) -> Litestar:
    return create_app(curated_system, token=TOKEN)


@pytest.fixture(scope="module")
def curated(curated_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(curated_app) as c:
        yield c


@pytest.fixture
def post(client: TestClient[Litestar]) -> Callable[..., object]:
    def send(body: object, **headers: str) -> object:
        return client.post("/events", json=body, headers={**AUTH, **headers})

    return send


def schema_app() -> Litestar:
    """An app on a throwaway in-memory store, for reading the OpenAPI document at import time."""
    return create_app(Evolve(Settings(database_url=":memory:"), project_on_append=False), token=TOKEN)
