"""Soak: 8 paced clients of mixed reads and writes against a live `evolve serve` (curated history loaded)
for SOAK seconds, with the database taken away in the middle and given back.

Unlike test_load.py (clients as fast as they can go: a saturated server, so latency is queueing), each
client here sends at most RATE requests a second, a steady load the server can carry, so the latency
outside the outage is what a user would see. The fault, at the midpoint: PostgreSQL stopped
(`pg_ctlcluster … stop -m fast`) for OUTAGE_S and started again; SQLite's write lock held by another
process for OUTAGE_S (an embedded database has no server to restart; its outage is another writer
holding it), with a 1 s busy timeout.

Then: no 5xx outside the outage window, and only 503 problems inside it; every acknowledged batch in
the log exactly once with the ids the reply gave; every refused batch, retried afterwards with its
Idempotency-Key, appended exactly once; nothing else in the log; `verify()` passes. p50/p99 latency
outside the window is reported. The issue asks for a p99 of reads of at most 50 ms (docs/reliability.md
has the runs); it is reported here, not asserted: a timing is not a test.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.conftest import Databases
from tests.live_server import AUTH, serving
from tests.reliability.support import CURATED, batch, log_by_subject, opened, percentile, report
from tests.reliability.test_load import Tally, read_path
from tests.reliability.test_outages import cluster, pg_ready

SOAK = float(os.environ.get("EVOLVE_TEST_SOAK_SECONDS", "30"))
SOAK_SLOW = float(os.environ.get("EVOLVE_TEST_SOAK_SLOW_SECONDS", "600"))
CLIENTS = 8
RATE = 10.0  # requests a second per client, at most
READ_SHARE = 0.8
OUTAGE_S = 3.0


class Sample(NamedTuple):
    started: float
    seconds: float
    kind: str  # "read" or "write"
    status: int


@dataclass
class Window:
    """When the database was away: from the fault's start until /health answered 200 again."""

    start: float = 0.0
    end: float = 0.0

    def holds(self, t: float) -> bool:
        return self.start <= t <= self.end


@dataclass
class Soak(Tally):
    window: Window = field(default_factory=Window)
    samples: list[Sample] = field(default_factory=list)
    #: The batches refused with a 503, by Idempotency-Key, to be retried after the outage.
    refused: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    #: (started, what) of each request that got no answer at all.
    unanswered: list[tuple[float, str]] = field(default_factory=list)


async def paced_client(base: str, n: int, deadline: float, soak: Soak) -> None:
    rng = random.Random(f"soak-{n}")
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        i = 0
        while (now := time.monotonic()) < deadline:
            next_at = now + 1.0 / RATE
            write = rng.random() >= READ_SHARE
            tag = f"soak-c{n}-r{i}"
            i += 1
            body = batch(tag, rng.randint(1, 3))
            started = time.monotonic()
            try:
                if write:
                    response = await client.post("/events", json=body, headers={**AUTH, "Idempotency-Key": tag})
                else:
                    response = await client.get(read_path(soak, rng))
            except httpx.HTTPError as exc:
                soak.unanswered.append((started, f"{'POST' if write else 'GET'}: {type(exc).__name__}: {exc}"))
                continue
            elapsed = time.monotonic() - started
            soak.samples.append(Sample(started, elapsed, "write" if write else "read", response.status_code))
            if write and response.status_code == 201:
                ids = [item["id"] for item in response.json()["items"]]
                soak.acked[tag] = ids
                soak.event_ids.extend(ids)
                soak.orgs.append(tag)
            elif write and response.status_code == 503:
                soak.refused[tag] = body
            elif response.status_code >= 400 and response.status_code != 503:
                soak.failures.append(f"{response.request.method} {response.request.url}: {response.status_code}")
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


Fault = Callable[[], None]


async def fault_at_midpoint(base: str, duration: float, soak: Soak, take: Fault, give: Fault) -> None:
    await asyncio.sleep(duration / 2)
    soak.window.start = time.monotonic()
    await asyncio.to_thread(take)
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(give)
    async with httpx.AsyncClient(base_url=base, timeout=5.0) as client:
        while True:
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    soak.window.end = time.monotonic()


async def drive(base: str, duration: float, take: Fault, give: Fault) -> Soak:
    soak = Soak()
    async with httpx.AsyncClient(base_url=base) as client:
        soak.orgs = [o["id"] for o in (await client.get("/organisations?limit=100")).json()["items"]]
        soak.event_ids = [e["id"] for e in (await client.get("/events?limit=100")).json()["items"]]
    # The clients' own process holds pytest's whole session; a full collection of it in the middle of a
    # request would be counted as the server's latency. The server freezes its start-up heap the same way.
    gc.collect()
    gc.freeze()
    deadline = time.monotonic() + duration
    clients = (paced_client(base, n, deadline, soak) for n in range(CLIENTS))
    await asyncio.wait_for(
        asyncio.gather(fault_at_midpoint(base, duration, soak, take, give), *clients), timeout=duration + 120
    )
    return soak


class SqliteLock:
    """Another process's write lock on the SQLite file (`BEGIN EXCLUSIVE`), taken and given back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def take(self) -> None:
        self.conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def give(self) -> None:
        assert self.conn is not None
        self.conn.execute("ROLLBACK")
        self.conn.close()


def run_soak(databases: Databases, tmp_path: Path, duration: float, monkeypatch: pytest.MonkeyPatch) -> None:
    url = databases.url(file=True)
    if databases.backend == "sqlite":
        monkeypatch.setenv("EVOLVE_SQLITE_BUSY_TIMEOUT", "1")
        lock = SqliteLock(url)
        take, give, fault = lock.take, lock.give, f"write lock held {OUTAGE_S:.0f} s"
    else:
        take, give, fault = (lambda: cluster("stop")), (lambda: cluster("start")), f"server stopped {OUTAGE_S:.0f} s"
    try:
        with serving(url, tmp_path, events=CURATED) as server:
            with opened(url) as system:
                seeded = system.store.position()
            soak = asyncio.run(drive(server.url, duration, take, give))
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for tag, body in soak.refused.items():  # retried once the database is back, with its key
                    keyed = {**AUTH, "Idempotency-Key": tag}
                    replies = [client.post("/events", json=body, headers=keyed) for _ in range(2)]
                    assert [r.status_code for r in replies] == [201, 201], replies[0].text
                    assert replies[0].json() == replies[1].json()
                    soak.acked[tag] = [item["id"] for item in replies[0].json()["items"]]
    finally:
        if databases.backend == "postgresql" and not pg_ready():
            cluster("start")
    window = soak.window
    inside = [s for s in soak.samples if window.holds(s.started) or window.holds(s.started + s.seconds)]
    outside = [s for s in soak.samples if s not in inside]
    assert not soak.failures, soak.failures[:10]
    assert [what for started, what in soak.unanswered if not window.holds(started)] == [], "no answer"
    assert [s for s in outside if s.status >= 500] == [], "a 5xx outside the outage"
    assert {s.status for s in inside if s.status >= 500} <= {503}, "a 5xx other than 503 during the outage"

    with opened(url) as system:
        grouped = log_by_subject(system)
        for tag, ids in soak.acked.items():
            assert grouped.get(tag) == ids, f"{tag}: acknowledged {ids}, log has {grouped.get(tag)}"
        ours = {tag for tag in grouped if tag.startswith("soak-")}
        assert ours == set(soak.acked), "the log holds a batch that was never acknowledged"
        assert system.store.position() == seeded + sum(len(ids) for ids in soak.acked.values())
        assert system.store.verify().broken_at is None

    reads = [s.seconds for s in outside if s.kind == "read"]
    writes = [s.seconds for s in outside if s.kind == "write"]
    p99_read_ms = percentile(reads, 0.99) * 1000
    report(
        f"soak[{databases.backend}]: {duration:.0f} s, {CLIENTS} clients at {RATE:.0f} req/s each, "
        f"{len(soak.samples)} requests; {fault} at the midpoint, healthy again after "
        f"{window.end - window.start:.1f} s; during it {sum(1 for s in inside if s.status == 503)} x 503 and "
        f"{sum(1 for s in inside if s.status < 500)} served; outside it 5xx 0; refused writes retried: "
        f"{len(soak.refused)}, each once; lost 0, duplicated 0; outside the outage p50/p99 ms read "
        f"{percentile(reads, 0.5) * 1000:.0f}/{p99_read_ms:.0f}, write "
        f"{percentile(writes, 0.5) * 1000:.0f}/{percentile(writes, 0.99) * 1000:.0f}"
    )


def test_soak_with_an_outage(databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_soak(databases, tmp_path, SOAK, monkeypatch)


@pytest.mark.slow
def test_soak_10_minutes(databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_soak(databases, tmp_path, SOAK_SLOW, monkeypatch)
