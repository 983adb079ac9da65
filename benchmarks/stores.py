"""Fresh databases for a benchmark run, and the raw baselines on the same store.

A SQLite database is a file in the run's work directory; a PostgreSQL one is
a new schema in the server's database, dropped when the run ends. Baselines
write the same payloads into a plain table next to evolve's, with the same
connection settings (SQLite: WAL and evolve's ``synchronous``), so a ratio
compares evolve with what the database alone can do on this machine, now.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Database:
    """One fresh database (a file or a schema) that evolve and a baseline share."""

    backend: str
    url: str  # what evolve's Settings(database_url=...) takes
    path: Path | None = None  # SQLite file
    schema: str | None = None  # PostgreSQL schema
    base_url: str = ""


def remove_sqlite_file(path: Path) -> None:
    """A SQLite database file with its write-ahead log and shared-memory index."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class Stores:
    """Hands out fresh databases and removes them all at the end."""

    backend: str
    workdir: Path
    postgres_url: str = DEFAULT_POSTGRES_URL
    made: list[Database] = field(default_factory=list)

    def fresh(self, label: str) -> Database:
        tag = f"{label}_{uuid.uuid4().hex[:8]}"
        if self.backend == "sqlite":
            path = self.workdir / f"{tag}.db"
            db = Database("sqlite", str(path), path=path)
        else:
            import psycopg

            schema = f"evolve_bench_{tag}"
            with psycopg.connect(self.postgres_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            sep = "&" if "?" in self.postgres_url else "?"
            db = Database(
                "postgresql", f"{self.postgres_url}{sep}schema={schema}", schema=schema, base_url=self.postgres_url
            )
        self.made.append(db)
        return db

    def drop(self, db: Database) -> None:
        if db.path is not None:
            remove_sqlite_file(db.path)
        if db.schema is not None:
            import psycopg

            with psycopg.connect(self.postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
        if db in self.made:
            self.made.remove(db)

    def cleanup(self) -> None:
        for db in list(self.made):
            with contextlib.suppress(Exception):  # best effort at exit
                self.drop(db)


def sqlite_synchronous(system: Any) -> int:
    """The `synchronous` setting of evolve's own SQLite connections."""
    with system.store.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def sqlite_journal_mode(system: Any) -> str:
    with system.store.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA journal_mode")
        return str(cursor.fetchone()[0])


# ---- raw baselines ------------------------------------------------------------------------


class RawBaseline:
    """Plain inserts of (id, payload) rows: one transaction per row, or one for all."""

    def __init__(self, db: Database, synchronous: int | None = None, *, own_file: bool = False) -> None:
        self.db = db
        self.synchronous = synchronous
        self.own_file = own_file
        self.table = f"raw_events_{uuid.uuid4().hex[:8]}"
        self.conn: Any = None

    @property
    def path(self) -> Path:
        """SQLite: evolve's file, or with `own_file` one beside it on the same disk. The bulk baseline
        writes every row three times, and its dropped table's pages would stay in evolve's file and
        be counted in `bytes_per_event` (as the eventsourcing baseline's, in a file of its own, are
        not). The one-row baseline writes a few rows and stays beside evolve's write-ahead log, where
        evolve's single appends commit."""
        assert self.db.path is not None
        if not self.own_file:
            return self.db.path
        return self.db.path.with_name(f"{self.db.path.stem}-{self.table}{self.db.path.suffix}")

    def __enter__(self) -> RawBaseline:
        if self.db.backend == "sqlite":
            # Same file settings as eventsourcing's datastore: autocommit mode
            # with explicit transactions, WAL, the connection's synchronous.
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            if self.synchronous is not None:
                conn.execute(f"PRAGMA synchronous={int(self.synchronous)}")
            conn.execute(f"CREATE TABLE {self.table} (id TEXT NOT NULL, payload BLOB NOT NULL)")
            self.conn = conn
        else:
            import psycopg

            # The same DB-API calls as on sqlite3 from here on.
            conn = psycopg.connect(self.db.base_url, autocommit=False)  # type: ignore[assignment]
            conn.execute(f'SET search_path TO "{self.db.schema}"')
            conn.execute(f"CREATE TABLE {self.table} (id TEXT NOT NULL, payload BYTEA NOT NULL)")
            conn.commit()
            self.conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.db.backend == "sqlite":
                self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            else:
                self.conn.rollback()
                self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
                self.conn.commit()
        finally:
            self.conn.close()
            if self.db.backend == "sqlite" and self.own_file:
                remove_sqlite_file(self.path)

    def single(self, rows: Sequence[tuple[str, bytes]]) -> float:
        """Seconds to insert each row in its own transaction."""
        statement = f"INSERT INTO {self.table} (id, payload) VALUES (?, ?)"
        conn = self.conn
        if self.db.backend == "sqlite":
            start = time.perf_counter()
            for row in rows:
                conn.execute("BEGIN")
                conn.execute(statement, row)
                conn.execute("COMMIT")
            return time.perf_counter() - start
        statement = statement.replace("?", "%s")
        start = time.perf_counter()
        with conn.cursor() as cur:
            for row in rows:
                cur.execute(statement, row)
                conn.commit()
        return time.perf_counter() - start

    def bulk(self, rows: Sequence[tuple[str, bytes]]) -> float:
        """Seconds to insert every row with executemany in one transaction."""
        statement = f"INSERT INTO {self.table} (id, payload) VALUES (?, ?)"
        conn = self.conn
        conn.execute(f"DELETE FROM {self.table}")
        if self.db.backend == "sqlite":
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(statement, rows)
            conn.execute("COMMIT")
            return time.perf_counter() - start
        conn.commit()
        statement = statement.replace("?", "%s")
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(statement, rows)
        conn.commit()
        return time.perf_counter() - start
