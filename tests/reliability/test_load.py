"""Load: an async httpx loop against a live `evolve serve` (curated history loaded), mixed reads and writes.

CONCURRENCY clients each pick a read with probability READ_SHARE (GET /organisations, one organisation, its
history, /events pages, one event, /stats, /health) or else a write (POST a batch of 1..3 events with an
Idempotency-Key), for DURATION seconds. Then: zero 5xx and zero transport errors; every acknowledged event is in
the log exactly once with the id the reply gave, and the log holds nothing else (no lost, no duplicated events);
`verify()` passes; p50/p99 latency per kind is reported. Both runs are `slow` (the default run has the paced
soak of test_soak.py instead): EVOLVE_TEST_LOAD_SECONDS (10 s) and EVOLVE_TEST_LOAD_SLOW_SECONDS (60 s).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases
from tests.live_server import AUTH, serving
from tests.reliability.support import CURATED, batch, log_by_subject, opened, percentile, report

SHORT = float(os.environ.get("EVOLVE_TEST_LOAD_SECONDS", "10"))
LONG = float(os.environ.get("EVOLVE_TEST_LOAD_SLOW_SECONDS", "60"))
CONCURRENCY = int(os.environ.get("EVOLVE_TEST_LOAD_CONCURRENCY", "8"))
READ_SHARE = 0.8
#: Hard cap on requests per client, so the loop is bounded in count as well as in time.
MAX_REQUESTS_PER_CLIENT = 100_000


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": []})
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acked: dict[str, list[str]] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)


def read_path(tally: Tally, rng: random.Random) -> str:
    """One of the API's reads, on ids seen so far (the curated ones, then the load's own)."""
    choice = rng.randrange(7)
    if choice == 1 and tally.orgs:
        return f"/organisations/{rng.choice(tally.orgs)}"
    if choice == 2 and tally.orgs:
        return f"/organisations/{rng.choice(tally.orgs)}/history"
    if choice == 3:
        return f"/events?limit={rng.randint(1, 100)}"
    if choice == 4 and tally.event_ids:
        return f"/events/{rng.choice(tally.event_ids)}"
    if choice == 5:
        return "/stats?as_of=2017-07-01"
    if choice == 6:
        return "/health"
    return "/organisations?as_of=2018-03-01&limit=50"


async def client_loop(base: str, n: int, deadline: float, tally: Tally, label: str) -> None:
    rng = random.Random(f"{label}-{n}")
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            write = rng.random() >= READ_SHARE
            started = time.perf_counter()
            try:
                if write:
                    tag = f"load-{label}-c{n}-r{i}"
                    response = await client.post(
                        "/events", json=batch(tag, rng.randint(1, 3)), headers={**AUTH, "Idempotency-Key": tag}
                    )
                else:
                    path = read_path(tally, rng)
                    response = await client.get(path)
            except httpx.HTTPError as exc:
                tally.failures.append(f"{'POST' if write else 'GET'}: {type(exc).__name__}: {exc}")
                continue
            tally.latencies["write" if write else "read"].append(time.perf_counter() - started)
            tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                tally.failures.append(f"{response.request.method} {response.request.url}: {response.status_code}")
            elif write and response.status_code == 201:
                ids = [item["id"] for item in response.json()["items"]]
                tally.acked[tag] = ids
                tally.event_ids.extend(ids)
                tally.orgs.append(tag)
            elif write:
                tally.failures.append(f"POST {tag}: {response.status_code} {response.text[:200]}")


async def drive(base: str, duration: float, label: str) -> Tally:
    tally = Tally()
    async with httpx.AsyncClient(base_url=base) as client:
        tally.orgs = [o["id"] for o in (await client.get("/organisations?limit=100")).json()["items"]]
        tally.event_ids = [e["id"] for e in (await client.get("/events?limit=100")).json()["items"]]
    deadline = time.monotonic() + duration
    await asyncio.wait_for(
        asyncio.gather(*(client_loop(base, n, deadline, tally, label) for n in range(CONCURRENCY))),
        timeout=duration + 120,
    )
    return tally


def run_load(databases: Databases, tmp_path: Path, duration: float, label: str) -> None:
    url = databases.url(file=True)
    with serving(url, tmp_path, events=CURATED) as server:
        with opened(url) as system:
            seeded = system.store.position()
        started = time.monotonic()
        tally = asyncio.run(drive(server.url, duration, label))
        elapsed = time.monotonic() - started
    assert not tally.failures, tally.failures[:10]
    assert tally.acked, "no write succeeded"

    with opened(url) as system:
        grouped = log_by_subject(system)
        acked_events = sum(len(ids) for ids in tally.acked.values())
        for tag, ids in tally.acked.items():
            assert grouped.get(tag) == ids, f"{tag}: acknowledged {ids}, log has {grouped.get(tag)}"
        ours = {tag for tag in grouped if tag.startswith(f"load-{label}-")}
        assert ours == set(tally.acked), "the log holds a batch that was never acknowledged"
        all_ids = [i for ids in grouped.values() for i in ids]
        assert len(all_ids) == len(set(all_ids)), "an event id appears twice"
        assert system.store.position() == seeded + acked_events
        assert system.store.verify().broken_at is None

    requests = sum(tally.statuses.values())
    reads, writes = tally.latencies["read"], tally.latencies["write"]
    report(
        f"load[{databases.backend},{label}]: {elapsed:.0f} s, {CONCURRENCY} clients, {requests} requests "
        f"({requests / elapsed:.0f}/s; {len(reads)} reads, {len(writes)} writes = {acked_events} events), "
        f"statuses {dict(sorted(tally.statuses.items()))}, 5xx 0, lost 0, duplicated 0; "
        f"p50/p99 ms read {percentile(reads, 0.5) * 1000:.0f}/{percentile(reads, 0.99) * 1000:.0f}, "
        f"write {percentile(writes, 0.5) * 1000:.0f}/{percentile(writes, 0.99) * 1000:.0f}"
    )


@pytest.mark.slow
def test_load_short(databases: Databases, tmp_path: Path) -> None:
    run_load(databases, tmp_path, SHORT, "short")


@pytest.mark.slow
def test_load_60s(databases: Databases, tmp_path: Path) -> None:
    run_load(databases, tmp_path, LONG, "long")

