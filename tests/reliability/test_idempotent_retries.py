"""Clients that give up early and retry: every POST carries an Idempotency-Key and is retried with the same key
and body after a client-side timeout shorter than many of the requests take (batches of up to 300 events), so
the server often completes a request nobody is waiting for and then sees its retry, sometimes while the first
attempt is still running. Afterwards each logical request is in the log exactly once, with the ids of the 201
reply the client finally got. EVOLVE_TEST_RETRY_REQUESTS sets requests per client (default 8).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import Databases
from tests.live_server import AUTH, serving
from tests.reliability.support import batch, log_by_subject, opened, report

CLIENTS = 4
REQUESTS = int(os.environ.get("EVOLVE_TEST_RETRY_REQUESTS", "8"))
MAX_ATTEMPTS = 30
SIZES = (1, 3, 40, 150, 300)


@dataclass
class Tally:
    acked: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    timeouts: int = 0
    failures: list[str] = field(default_factory=list)


async def retrying_client(base: str, n: int, tally: Tally, label: str) -> None:
    rng = random.Random(f"{label}-{n}")
    async with httpx.AsyncClient(base_url=base, headers=AUTH) as client:
        for i in range(REQUESTS):
            tag = f"retry-{label}-c{n}-r{i}"
            size = rng.choice(SIZES)
            body = batch(tag, size)
            tally.sizes[tag] = size
            timeout = rng.uniform(0.01, 0.3)
            for _attempt in range(MAX_ATTEMPTS):
                tally.attempts += 1
                try:
                    response = await client.post(
                        "/events", json=body, headers={"Idempotency-Key": tag}, timeout=timeout
                    )
                except httpx.TimeoutException:
                    tally.timeouts += 1
                    timeout *= 1.5  # back off: the last attempts wait long enough
                    await asyncio.sleep(rng.uniform(0, 0.05))
                    continue
                if response.status_code == 201:
                    tally.acked[tag] = [item["id"] for item in response.json()["items"]]
                else:
                    tally.failures.append(f"{tag}: {response.status_code} {response.text[:200]}")
                break
            else:
                tally.failures.append(f"{tag}: no reply after {MAX_ATTEMPTS} attempts")


def test_retried_posts_append_each_event_exactly_once(databases: Databases, tmp_path: Path) -> None:
    url = databases.url(file=True)
    label = databases.backend
    tally = Tally()
    started = time.monotonic()
    with serving(url, tmp_path) as server:

        async def main() -> None:
            clients = (retrying_client(server.url, n, tally, label) for n in range(CLIENTS))
            await asyncio.wait_for(asyncio.gather(*clients), timeout=300)

        asyncio.run(main())
    elapsed = time.monotonic() - started
    assert not tally.failures, tally.failures[:10]

    with opened(url) as system:
        grouped = log_by_subject(system)
        for tag, ids in tally.acked.items():
            assert grouped.get(tag) == ids, f"{tag}: acknowledged {len(ids)} ids, the log has {grouped.get(tag)}"
            assert len(ids) == tally.sizes[tag]
        assert set(grouped) == set(tally.acked)
        events = sum(tally.sizes.values())
        assert system.store.position() == events
        assert system.store.verify().broken_at is None
    report(
        f"retries[{label}]: {CLIENTS} clients x {REQUESTS} requests ({events} events), {tally.attempts} attempts, "
        f"{tally.timeouts} client timeouts then retried with the same key; {elapsed:.0f} s; "
        f"every request in the log exactly once (duplicates 0, lost 0)"
    )
