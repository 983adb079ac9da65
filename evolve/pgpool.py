"""A PostgreSQL connection pool that tells "the server is gone" from "the pool is busy", and whose
connections cancel a statement that runs too long.

A short pool wait makes an outage fast to refuse (a request is answered 503 in well under a second),
but a busy pool on a loaded machine can also make a request wait that long, and then a healthy
server would be reported unavailable. So when the short wait runs out, the pool asks the server
directly with one new connection: if it answers, the request keeps waiting (up to
:data:`PATIENCE_S`); if it does not, the wait ends there and the caller learns the store is
unavailable (:mod:`evolve.outage` classifies the timeout). A statement that runs (or waits on a
lock) past the statement timeout is cancelled by the server (SQLSTATE 57014), which is also an
"unavailable", not a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresDatastore
from psycopg_pool import PoolTimeout

#: How long a request waits for a pooled connection while the server is answering.
PATIENCE_S = 10.0
#: Seconds libpq waits for the probe's connection (its minimum is 2; a refused one fails at once).
PROBE_CONNECT_TIMEOUT_S = 2


class PatientPool(ConnectionPool[Any]):
    """eventsourcing's pool, whose wait (its ``timeout``) is only a first wait: past it, a
    server that still answers earns the request more time."""

    def __init__(self, *args: Any, patience: float = PATIENCE_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patience = patience

    def getconn(self, timeout: float | None = None) -> Any:
        give_up = time.monotonic() + self.patience
        while True:
            try:
                return super().getconn(timeout)
            except PoolTimeout:
                if time.monotonic() >= give_up or not self.server_answers():
                    raise

    def server_answers(self) -> bool:
        """True if a new connection to the server opens now (it is closed at once)."""
        given = self.kwargs() if callable(self.kwargs) else self.kwargs or {}
        kwargs = {key: value for key, value in given.items() if key != "row_factory"}
        if self.get_password_func:
            kwargs["password"] = self.get_password_func()
        conninfo = self.conninfo() if callable(self.conninfo) else self.conninfo
        try:
            with psycopg.connect(conninfo, connect_timeout=PROBE_CONNECT_TIMEOUT_S, **kwargs):
                return True
        except psycopg.Error:
            return False


def make_patient(
    datastore: PostgresDatastore, wait: float, statement_timeout: float, patience: float = PATIENCE_S
) -> None:
    """Give `datastore` a :class:`PatientPool` configured like the pool eventsourcing built for it,
    whose first wait is `wait` seconds and whose connections cancel statements after
    `statement_timeout` seconds. Call before the datastore's first connection (the pool opens
    lazily, so nothing is connected yet)."""
    old = datastore.pool
    if not old.closed:
        raise RuntimeError("the pool is already open: make it patient before the first connection")
    datastore.pool = PatientPool(
        old.conninfo,
        connection_class=old.connection_class,
        kwargs=old.kwargs,
        min_size=old.min_size,
        max_size=old.max_size,
        open=False,
        configure=_with_statement_timeout(datastore.after_connect_func(), statement_timeout),
        check=ConnectionPool.check_connection if datastore.pre_ping else None,
        timeout=wait,
        max_waiting=old.max_waiting,
        max_lifetime=old.max_lifetime,
        get_password_func=old.get_password_func,
        patience=patience,
    )


def _with_statement_timeout(configure: Callable[[Any], None], seconds: float) -> Callable[[Any], None]:
    setting = f"SET statement_timeout = {max(1, round(seconds * 1000))}"

    def after_connect(conn: Any) -> None:
        configure(conn)  # eventsourcing's: autocommit, idle-in-transaction timeout
        conn.execute(setting)

    return after_connect
