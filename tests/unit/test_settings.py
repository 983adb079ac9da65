"""Settings from the environment: the outage knobs are read, checked, and reach the PostgreSQL pool."""

from __future__ import annotations

import pytest

from evolve.errors import StoreUnavailable
from evolve.settings import COMMIT_DELAY, POOL_WAIT, STATEMENT_TIMEOUT, Settings

PG = "postgresql://postgres@127.0.0.1:5432/test"


def test_the_timeouts_reach_the_postgresql_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOLVE_DB_TIMEOUT", "0.25")
    monkeypatch.setenv("EVOLVE_STATEMENT_TIMEOUT", "2")
    env = Settings.from_env(PG).eventsourcing_env()
    assert (env[POOL_WAIT], env[STATEMENT_TIMEOUT], env["POSTGRES_CONNECT_TIMEOUT"]) == ("0.25", "2.0", "1")


def test_the_defaults() -> None:
    settings = Settings(database_url=PG)
    assert (settings.db_timeout, settings.statement_timeout, settings.sqlite_busy_timeout) == (0.5, 15.0, 30)


@pytest.mark.parametrize("name", ["EVOLVE_DB_TIMEOUT", "EVOLVE_STATEMENT_TIMEOUT", "EVOLVE_SQLITE_BUSY_TIMEOUT"])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "601"])
def test_a_bad_timeout_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(StoreUnavailable, match=f"^{name} must be a number of seconds in \\(0, 600\\], not '{value}'$"):
        Settings.from_env(PG)


@pytest.mark.parametrize("url", [PG, "./evolve.db", "memory://"])
def test_the_commit_delay_reaches_the_store_on_every_backend(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("EVOLVE_COMMIT_DELAY", "0")
    assert Settings.from_env(url).eventsourcing_env()[COMMIT_DELAY] == "0.0"
    monkeypatch.delenv("EVOLVE_COMMIT_DELAY")
    assert Settings.from_env(url).eventsourcing_env()[COMMIT_DELAY] == "0.001"


@pytest.mark.parametrize("value", ["abc", "-0.1", "2"])
def test_a_bad_commit_delay_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("EVOLVE_COMMIT_DELAY", value)
    expected = f"^EVOLVE_COMMIT_DELAY must be a number of seconds in \\[0, 1\\], not '{value}'$"
    with pytest.raises(StoreUnavailable, match=expected):
        Settings.from_env(PG)
