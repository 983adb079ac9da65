"""The pool's short first wait refuses an outage fast without calling a busy pool an outage.

Real server: every connection of a one-connection pool is held by another thread for longer than the
first wait; the request waits on because the server answers, and gets the connection. Against an
address where nothing listens, the same pool gives up at the first wait.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import PoolTimeout

from evolve.pgpool import make_patient
from tests.conftest import POSTGRES_URL

needs_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason="EVOLVE_TEST_POSTGRES_URL is not set")
FIRST_WAIT_S = 0.2
HOLD_S = 0.8


def _datastore(port: int) -> PostgresDatastore:
    """A one-connection pool on the suite's server (or, where nothing listens, only its address)."""
    url = urlsplit(POSTGRES_URL or "postgresql://postgres@127.0.0.1/test")
    return PostgresDatastore(
        dbname=url.path.lstrip("/"), host=url.hostname or "127.0.0.1", port=port,
        user=url.username or "postgres", password="", pool_size=1, max_overflow=0,
    )


@needs_postgres
def test_a_busy_pool_waits_on_while_the_server_answers() -> None:
    datastore = _datastore(urlsplit(POSTGRES_URL or "").port or 5432)
    make_patient(datastore, wait=FIRST_WAIT_S, statement_timeout=5.0, patience=5.0)
    try:
        held = threading.Event()

        def hold() -> None:
            with datastore.get_connection():
                held.set()
                time.sleep(HOLD_S)

        holder = threading.Thread(target=hold)
        holder.start()
        assert held.wait(5)
        started = time.monotonic()
        with datastore.get_connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == {"?column?": 1}
        waited = time.monotonic() - started
        holder.join()
        assert waited > FIRST_WAIT_S  # it did outlast the first wait, and still got its connection
    finally:
        datastore.close()


def test_an_absent_server_is_given_up_at_the_first_wait() -> None:
    datastore = _datastore(1)  # nothing listens on port 1
    make_patient(datastore, wait=FIRST_WAIT_S, statement_timeout=5.0, patience=5.0)
    try:
        started = time.monotonic()
        with pytest.raises(Exception) as raised, datastore.get_connection():
            pass
        assert isinstance(raised.value.__cause__ or raised.value, PoolTimeout)
        assert time.monotonic() - started < 1.0
    finally:
        datastore.close()


def test_an_open_pool_is_not_replaced() -> None:
    datastore = _datastore(1)
    datastore.pool.open(wait=False)
    try:
        with pytest.raises(RuntimeError, match="already open"):
            make_patient(datastore, wait=FIRST_WAIT_S, statement_timeout=5.0)
    finally:
        datastore.close()
