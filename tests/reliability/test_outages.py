"""When the database goes away, and comes back: fast, honest, quiet answers, and nothing lost.

Real servers, no mocks: PostgreSQL is stopped and started under a live `evolve serve` (the test always
starts it again); SQLite is locked by another process past the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import POSTGRES_URL
from tests.factories import footprint_body
from tests.live_server import AUTH, LiveServer, serving
from tests.reliability.support import REPORT, batch, log_by_subject, opened

FAST_S = 1.0  # an outage is answered within this
CLUSTERS = Path("/etc/postgresql")
VERSION = min((p.name for p in CLUSTERS.iterdir()), default="") if CLUSTERS.is_dir() else ""


#: The PostgreSQL tests run wherever the suite has a server (EVOLVE_TEST_POSTGRES_URL, as CI sets it).
needs_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason="EVOLVE_TEST_POSTGRES_URL is not set")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the suite's PostgreSQL server, dropped afterwards (ask for it before
    `stopped_postgres`, so that the server is up again when it is dropped)."""
    assert POSTGRES_URL is not None
    schema = f"evolve_outage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def cluster(action: str) -> None:
    fast = ["-m", "fast"] if action == "stop" else []
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", VERSION, "main", action, *fast]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


@pytest.fixture
def stopped_postgres() -> Iterator[Any]:
    """A function that stops the local PostgreSQL; whatever happens, it is started again after the test."""
    try:
        yield lambda: cluster("stop")
    finally:
        if not pg_ready():
            cluster("start")
        deadline = time.monotonic() + 60
        while not pg_ready() and time.monotonic() < deadline:
            time.sleep(0.2)


def timed(call: Any) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def problem_503(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    body: dict[str, Any] = response.json()
    assert body["type"] == "urn:evolve:problem:store-unavailable"
    return body


def assert_lands_once(client: httpx.Client, body: dict[str, Any], keyed: dict[str, str]) -> None:
    """A refused write sent twice more with its Idempotency-Key: 201 both times, with one event id."""
    retried = [client.post("/events", json=body, headers=keyed) for _ in range(2)]
    assert [r.status_code for r in retried] == [201, 201] and retried[0].json()["id"] == retried[1].json()["id"]


def logged_organisations(client: httpx.Client) -> list[str]:
    """The organisation of every event in the log, sorted (each test's log is a few footprints)."""
    listed = client.get("/events", params={"limit": 500}).json()["items"]
    return sorted(r["event"]["organisation"] for r in listed)


def store_lines(server: LiveServer) -> tuple[int, int]:
    """(warnings about the store, error lines) in the server's log."""
    lines = server.log_lines()
    warnings = sum(1 for line in lines if line.get("level") == "warning" and "store unavailable" in line.get("msg", ""))
    errors = sum(1 for line in lines if line.get("level") in ("error", "critical"))
    return warnings, errors


@needs_postgres
def test_postgresql_stopped_and_started_under_a_live_server(pg_url: str, tmp_path: Path, stopped_postgres: Any) -> None:
    with serving(pg_url, tmp_path) as server:
        client = httpx.Client(base_url=server.url, timeout=10)
        assert client.post("/events", json=footprint_body("before"), headers=AUTH).status_code == 201
        stopped_postgres()
        read, read_s = timed(lambda: client.get("/organisations"))
        problem_503(read)
        write, write_s = timed(lambda: client.post(
            "/events", json=footprint_body("during"), headers={**AUTH, "Idempotency-Key": "outage-write-1"}
        ))
        problem_503(write)
        health, health_s = timed(lambda: client.get("/health"))
        assert "log store" in problem_503(health)["detail"]
        assert max(read_s, write_s, health_s) < FAST_S, (read_s, write_s, health_s)
        for _ in range(5):  # more refusals in the same outage: still fast, still one warning
            problem_503(client.get("/organisations/before"))

        cluster("start")
        while not pg_ready():
            time.sleep(0.05)
        back = time.monotonic()
        while client.get("/health").status_code != 200:
            assert time.monotonic() - back < 10, "not recovered 10 s after the database came back"
            time.sleep(0.05)
        recovered_s = time.monotonic() - back
        assert client.get("/organisations/before").status_code == 200
        # The refused write, retried with its key, is appended exactly once.
        keyed = {**AUTH, "Idempotency-Key": "outage-write-1"}
        assert_lands_once(client, footprint_body("during"), keyed)
        assert logged_organisations(client) == ["before", "during"]
        assert client.get("/organisations/during").status_code == 200  # projected once, after the outage
    warnings, errors = store_lines(server)
    assert (warnings, errors) == (1, 0)
    REPORT.append(
        f"outage[postgresql]: read 503 in {read_s * 1000:.0f} ms, write 503 in {write_s * 1000:.0f} ms, "
        f"health 503 in {health_s * 1000:.0f} ms; healthy {recovered_s:.2f} s after the server accepted connections; "
        f"1 warning, 0 errors logged; 0 lost, 0 doubled"
    )


def test_sqlite_locked_past_the_busy_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOLVE_SQLITE_BUSY_TIMEOUT", "1")
    path = str(tmp_path / "evolve.db")
    with serving(path, tmp_path) as server:
        client = httpx.Client(base_url=server.url, timeout=10)
        assert client.post("/events", json=footprint_body("before"), headers=AUTH).status_code == 201
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            write, write_s = timed(lambda: client.post("/events", json=footprint_body("during"), headers=AUTH))
            problem_503(write)
            assert client.get("/organisations/before").status_code == 200  # reads are still served (WAL)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert client.post("/events", json=footprint_body("during"), headers=AUTH).status_code == 201
        assert logged_organisations(client) == ["before", "during"]
    warnings, errors = store_lines(server)
    assert (warnings, errors) == (1, 0)
    REPORT.append(
        f"outage[sqlite]: a write behind another process's lock is refused with 503 after {write_s * 1000:.0f} ms "
        f"(busy timeout 1 s); reads served meanwhile; the write retried afterwards appends once"
    )


@needs_postgres
def test_connections_killed_by_the_server(pg_url: str, tmp_path: Path) -> None:
    """`pg_terminate_backend` on every connection of the live server: the next requests answer 200 or a
    503 problem (never a 500), the server heals without a restart, and a keyed write lands once."""
    assert POSTGRES_URL is not None
    with serving(pg_url, tmp_path) as server:
        client = httpx.Client(base_url=server.url, timeout=10)
        assert client.post("/events", json=footprint_body("before"), headers=AUTH).status_code == 201
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend') t"
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        statuses = [client.get("/organisations/before").status_code for _ in range(10)]
        assert set(statuses) <= {200, 503} and statuses[-1] == 200, statuses
        keyed = {**AUTH, "Idempotency-Key": "after-kill-1"}
        first = client.post("/events", json=footprint_body("after"), headers=keyed)
        assert first.status_code in (201, 503), first.text
        again = client.post("/events", json=footprint_body("after"), headers=keyed)
        assert again.status_code == 201, again.text
        assert logged_organisations(client) == ["after", "before"]
    _, errors = store_lines(server)
    assert errors == 0
    REPORT.append(
        f"outage[postgresql]: {killed[0]} server connections terminated; next reads {statuses.count(200)} x 200, "
        f"{statuses.count(503)} x 503, 0 x 500; a keyed write retried lands once"
    )


@needs_postgres
def test_a_statement_past_the_statement_timeout(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another session holds every table of the schema locked: evolve's statements wait on the lock until the
    server cancels them at the statement timeout (1 s here), and the requests are 503 problems, not hangs;
    when the lock goes, they succeed, and the refused write retried with its key lands once."""
    assert POSTGRES_URL is not None
    monkeypatch.setenv("EVOLVE_STATEMENT_TIMEOUT", "1")
    schema = pg_url.rsplit("schema=", 1)[1]
    with serving(pg_url, tmp_path) as server:
        client = httpx.Client(base_url=server.url, timeout=30)
        assert client.post("/events", json=footprint_body("before"), headers=AUTH).status_code == 201
        with psycopg.connect(POSTGRES_URL) as locker:
            tables = [r[0] for r in locker.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
            locker.execute("LOCK TABLE " + ", ".join(f'"{schema}"."{t}"' for t in tables) + " IN ACCESS EXCLUSIVE MODE")
            read, read_s = timed(lambda: client.get("/organisations/before"))
            problem_503(read)
            keyed = {**AUTH, "Idempotency-Key": "slow-write-1"}
            write, write_s = timed(lambda: client.post("/events", json=footprint_body("during"), headers=keyed))
            problem_503(write)
            locker.rollback()
        assert max(read_s, write_s) < 3 * 1.0, (read_s, write_s)
        assert client.get("/organisations/before").status_code == 200
        assert_lands_once(client, footprint_body("during"), keyed)
        assert logged_organisations(client) == ["before", "during"]
    _, errors = store_lines(server)
    assert errors == 0
    REPORT.append(
        f"outage[postgresql]: every table locked by another session; with a 1 s statement timeout a read is "
        f"503 after {read_s * 1000:.0f} ms and a write after {write_s * 1000:.0f} ms; "
        f"afterwards the keyed write lands once"
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted after the test: a disk that really fills up. Mounting needs root
    (CI's machine has it); elsewhere the test says so and does not run."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0 and os.geteuid() != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {mounted.stderr.decode(errors='replace').strip()}")
    assert mounted.returncode == 0, mounted.stderr
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def test_sqlite_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    """Batches are appended until the disk is full: the write that does not fit is a 507 problem and
    leaves the log as it was (every batch before it whole, none of it), and reads are still served."""
    with serving(str(small_disk / "evolve.db"), tmp_path) as server:
        client = httpx.Client(base_url=server.url, timeout=30)
        accepted: list[str] = []
        refused = None
        for n in range(2000):
            tag = f"org-{n}"
            response = client.post("/events", json=batch(tag, 40), headers=AUTH)
            if response.status_code != 201:
                refused = response
                break
            accepted.append(tag)
        assert refused is not None, "the disk never filled"
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:evolve:problem:store-full"
        assert client.get(f"/organisations/{accepted[-1]}").status_code == 200  # reads are still served
        assert client.get(f"/organisations/org-{len(accepted)}").status_code == 404  # nothing of the refused batch
    with opened(str(small_disk / "evolve.db")) as system:
        grouped = log_by_subject(system)
    assert sorted(grouped) == sorted(accepted) and {len(ids) for ids in grouped.values()} == {40}
    _, errors = store_lines(server)
    assert errors == 0
    REPORT.append(
        f"outage[sqlite]: a 2 MiB disk filled after {len(accepted)} batches of 40 events; the next batch 507, "
        f"nothing of it in the log, every earlier batch whole, reads served"
    )
