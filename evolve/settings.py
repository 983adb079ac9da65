"""Where the log lives: one setting, ``EVOLVE_DATABASE_URL``, picks the store.

- unset: ``./evolve.db`` (embedded SQLite file)
- a path or ``sqlite:///path``: that SQLite file
- ``:memory:`` or ``sqlite://:memory:``: a private in-memory SQLite database (tests)
- ``memory://``: plain Python objects, no database at all (fast tests, ``evolve validate``)
- ``postgresql://user[:password]@host[:port]/dbname[?schema=name]``: PostgreSQL
"""

from __future__ import annotations

import math
import os
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from evolve.errors import StoreUnavailable

DEFAULT_DATABASE = "./evolve.db"
DEFAULT_DB_TIMEOUT = 0.5
DEFAULT_STATEMENT_TIMEOUT = 15.0
DEFAULT_SQLITE_BUSY_TIMEOUT = 30
#: At most how long a commit waits for this process's writers busy of late to queue up (group commit).
DEFAULT_COMMIT_DELAY = 0.001
#: How long PostgreSQL lets a transaction sit between statements (eventsourcing's default is 5 s).
#: The projection computes in Python between its statements inside the append's or the catch-up's
#: transaction; a broadcast over a large view (a rebuild at 1M refolds 150,000 organisations for one)
#: went past 5 s, and the server ended the connection. A client that dies still ends its transaction
#: at once (its socket closes); this only bounds one that hangs.
IDLE_IN_TRANSACTION_TIMEOUT_S = 600
#: The eventsourcing environment keys that carry `db_timeout` and `statement_timeout` to the
#: PostgreSQL pool (evolve.store, evolve.pgpool).
POOL_WAIT = "EVOLVE_POOL_WAIT"
STATEMENT_TIMEOUT = "EVOLVE_STATEMENT_TIMEOUT"
#: The eventsourcing environment key that carries `commit_delay` to the store.
COMMIT_DELAY = "EVOLVE_COMMIT_DELAY"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE
    pool_size: int = 5
    #: Project after each append in this process (default), or leave it to
    #: a separate `evolve project --follow` (EVOLVE_PROJECTION=external).
    project_on_append: bool = True
    #: Seconds to wait for a pooled PostgreSQL connection (or a new one) before answering that the
    #: store is unavailable (EVOLVE_DB_TIMEOUT): an outage is refused fast, not waited out.
    db_timeout: float = DEFAULT_DB_TIMEOUT
    #: Seconds a PostgreSQL statement may run (or wait on a lock) before the server cancels it and the
    #: request is answered that the store is unavailable (EVOLVE_STATEMENT_TIMEOUT): not a hang.
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT
    #: Seconds SQLite waits on another process's lock before the store is unavailable
    #: (EVOLVE_SQLITE_BUSY_TIMEOUT).
    sqlite_busy_timeout: int = DEFAULT_SQLITE_BUSY_TIMEOUT
    #: Seconds a commit may wait for this process's other writers to queue behind it (group commit,
    #: EVOLVE_COMMIT_DELAY; 0 never waits). Only when other threads appended within 10 ms.
    commit_delay: float = DEFAULT_COMMIT_DELAY

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        pool = os.environ.get("EVOLVE_POOL_SIZE", "5")
        if not pool.isdigit() or int(pool) < 1:
            raise StoreUnavailable(f"EVOLVE_POOL_SIZE must be a positive integer, not {pool!r}")
        projection = os.environ.get("EVOLVE_PROJECTION", "inline")
        if projection not in ("inline", "external"):
            raise StoreUnavailable(f"EVOLVE_PROJECTION must be 'inline' or 'external', not {projection!r}")
        return cls(
            database_url=database_url or os.environ.get("EVOLVE_DATABASE_URL") or DEFAULT_DATABASE,
            pool_size=int(pool),
            project_on_append=projection == "inline",
            db_timeout=_seconds("EVOLVE_DB_TIMEOUT", str(DEFAULT_DB_TIMEOUT)),
            statement_timeout=_seconds("EVOLVE_STATEMENT_TIMEOUT", str(DEFAULT_STATEMENT_TIMEOUT)),
            sqlite_busy_timeout=max(1, round(_seconds("EVOLVE_SQLITE_BUSY_TIMEOUT", str(DEFAULT_SQLITE_BUSY_TIMEOUT)))),
            commit_delay=_seconds(COMMIT_DELAY, str(DEFAULT_COMMIT_DELAY), most=1, zero=True),
        )

    @property
    def backend(self) -> str:
        if self.database_url.startswith(("postgresql://", "postgres://")):
            return "postgresql"
        return "memory" if self.database_url == "memory://" else "sqlite"

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing persistence environment for this URL, with evolve's own keys."""
        return {**self._persistence_env(), COMMIT_DELAY: str(self.commit_delay)}

    def _persistence_env(self) -> dict[str, str]:
        url = self.database_url
        if self.backend == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.backend == "postgresql":
            parts = urlsplit(url)
            dbname = parts.path.lstrip("/")
            if not parts.hostname or not dbname:
                raise StoreUnavailable(f"database URL needs a host and a database name: {url!r}")
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": unquote(dbname),
                "POSTGRES_HOST": parts.hostname,
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_CONNECT_TIMEOUT": str(max(1, math.ceil(self.db_timeout))),
                "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(IDLE_IN_TRANSACTION_TIMEOUT_S),
                POOL_WAIT: str(self.db_timeout),
                STATEMENT_TIMEOUT: str(self.statement_timeout),
            }
            schema = parse_qs(parts.query).get("schema")
            if schema:
                env["POSTGRES_SCHEMA"] = schema[0]
            return env
        path = url.removeprefix("sqlite://").removeprefix("/") if url.startswith("sqlite://") else url
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
        if path in (":memory:", ""):
            # A named shared-cache database: every pooled connection sees the same data.
            path = f"file:evolve-{uuid.uuid4().hex}?mode=memory&cache=shared"
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(self.sqlite_busy_timeout),
        }


def _seconds(name: str, default: str, *, most: float = 600, zero: bool = False) -> float:
    """A number of seconds from the environment, in (0, `most`] (or [0, `most`] when `zero` may
    be set), else one clear line."""
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    in_range = (value >= 0 if zero else value > 0) and value <= most
    if not in_range:
        interval = f"{'[' if zero else '('}0, {most:g}]"
        raise StoreUnavailable(f"{name} must be a number of seconds in {interval}, not {raw!r}")
    return value
