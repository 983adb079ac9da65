"""Shared fixtures: every store-dependent test runs on SQLite and, when
EVOLVE_TEST_POSTGRES_URL is set, on PostgreSQL too (never silently skipped)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from evolve.bootstrap import Evolve
from evolve.settings import Settings

POSTGRES_URL = os.environ.get("EVOLVE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


class Databases:
    """Creates throwaway databases: an in-memory SQLite one, or a fresh
    PostgreSQL schema per test so runs never collide."""

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.backend = backend
        self.tmp = tmp_path_factory
        self.schemas: list[str] = []

    def url(self, file: bool = False) -> str:
        if self.backend == "sqlite":
            return str(self.tmp.mktemp("db") / "evolve.db") if file else ":memory:"
        assert POSTGRES_URL is not None
        schema = f"evolve_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"

    def emptied(self, url: str) -> str:
        """`url` again with every table emptied (PostgreSQL), or a new in-memory
        database (SQLite): cheaper than a new schema for each hypothesis example."""
        if self.backend == "sqlite":
            return self.url()
        assert POSTGRES_URL is not None
        schema = url.rsplit("schema=", 1)[1]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                ).fetchall()
            ]
            # Keep eventsourcing's "__migration__" tracking row: without it the
            # library thinks the tracking table is an old layout to migrate.
            data = [t for t in tables if not t.endswith("tracking")]
            if data:
                conn.execute("TRUNCATE " + ", ".join(f'"{schema}"."{t}"' for t in data))
            for table in (t for t in tables if t.endswith("tracking")):
                conn.execute(f'DELETE FROM "{schema}"."{table}" WHERE application_name <> %s', ("__migration__",))
        return url

    def cleanup(self) -> None:
        if not self.schemas:
            return
        assert POSTGRES_URL is not None
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS, scope="session")
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path_factory)
    yield dbs
    dbs.cleanup()


@pytest.fixture
def make_system(databases: Databases) -> Iterator[Callable[..., Evolve]]:
    """Build systems on fresh databases; closes them after the test."""
    opened: list[Evolve] = []

    def make(url: str | None = None, file: bool = False, **kwargs: object) -> Evolve:
        system = Evolve(Settings(database_url=url or databases.url(file=file)), **kwargs)  # type: ignore[arg-type]
        opened.append(system)
        return system

    yield make
    for system in opened:
        system.close()


@pytest.fixture
def system(make_system: Callable[..., Evolve]) -> Evolve:
    return make_system()
