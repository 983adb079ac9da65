"""The uvicorn entry points: the environment factory."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.server import app_from_env
from evolve.errors import StoreUnavailable
from tests.conftest import Databases


def test_app_from_env_reads_database_and_token(monkeypatch: pytest.MonkeyPatch, databases: Databases) -> None:
    monkeypatch.setenv("EVOLVE_DATABASE_URL", databases.url(file=True))
    monkeypatch.setenv("EVOLVE_API_TOKEN", "env-token")
    with TestClient(app_from_env()) as client:
        assert client.get("/health").json() == {"status": "ok", "position": 0}
        denied = client.post("/events", json={}, headers={"Authorization": "Bearer wrong"})
        assert denied.status_code == 403
        allowed = client.post("/events", json={}, headers={"Authorization": "Bearer env-token"})
        assert allowed.status_code == 422


def test_app_from_env_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVOLVE_API_TOKEN", raising=False)
    with pytest.raises(StoreUnavailable, match="EVOLVE_API_TOKEN"):
        app_from_env()
