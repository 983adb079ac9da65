"""SIGKILL a live `evolve serve` while clients append batches, at random points, then restart.

After each kill: every acknowledged append (HTTP 201 received) is in the log with the ids the reply gave; every
batch sent is wholly present or wholly absent (a batch creates an organisation then appoints leaders to it, so a
partial batch would be visible as a short group); the projection catches up to exactly what a fresh rebuild gives
(all six tables); `store.verify()` passes over the whole log; a restarted server serves the same head and accepts
writes. Runs: EVOLVE_TEST_CRASH_SERVE_RUNS (default 3 per backend; the `slow` variant runs 10 more).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases
from tests.live_server import AUTH, LiveServer
from tests.reliability.support import batch, log_by_subject, opened, projection_rows, report

RUNS = int(os.environ.get("EVOLVE_TEST_CRASH_SERVE_RUNS", "3"))
SLOW_RUNS = int(os.environ.get("EVOLVE_TEST_CRASH_SERVE_SLOW_RUNS", "10"))
WRITERS = 4
BATCH = 5
#: Bounds per writer, so a run never loops forever even if the kill misfires.
MAX_BATCHES_PER_WRITER = 2000


@dataclass
class Ledger:
    sent: set[str] = field(default_factory=set)
    acked: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(base: str, run: int, writer: int, stop: threading.Event, ledger: Ledger) -> None:
    with httpx.Client(base_url=base, headers=AUTH, timeout=30.0) as client:
        for n in range(MAX_BATCHES_PER_WRITER):
            if stop.is_set():
                return
            tag = f"crash{run}-w{writer}-b{n}"
            with ledger.lock:
                ledger.sent.add(tag)
            try:
                response = client.post("/events", json=batch(tag, BATCH), headers={"Idempotency-Key": tag})
            except httpx.HTTPError:
                return  # the server died under us: this batch is unacknowledged
            with ledger.lock:
                ledger.statuses[response.status_code] = ledger.statuses.get(response.status_code, 0) + 1
                if response.status_code == 201:
                    ledger.acked[tag] = [item["id"] for item in response.json()["items"]]
                else:
                    ledger.errors.append(f"{tag}: {response.status_code} {response.text[:200]}")


def crash_once(url: str, folder: Path, run: int, rng: random.Random) -> tuple[int, int, int]:
    """One kill; returns (batches sent, acknowledged, in the log)."""
    server = LiveServer(url, folder, name=f"serve-{run}").start()
    ledger, stop = Ledger(), threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(server.url, run, w, stop, ledger), daemon=True) for w in range(WRITERS)
    ]
    for thread in writers:
        thread.start()
    time.sleep(rng.uniform(0.3, 2.5))
    server.kill()
    stop.set()
    for thread in writers:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in writers)
    assert not ledger.errors, ledger.errors[:5]

    with opened(url) as system:
        grouped = log_by_subject(system)
        for tag, ids in ledger.acked.items():
            assert grouped.get(tag) == ids, f"acknowledged batch {tag} is not in the log as acknowledged"
        ours = {tag: ids for tag, ids in grouped.items() if tag.startswith(f"crash{run}-")}
        assert set(ours) <= ledger.sent, "the log holds a batch nobody sent"
        partial = {tag: len(ids) for tag, ids in ours.items() if len(ids) != BATCH}
        assert not partial, f"partial batches visible: {partial}"
        position = system.store.position()
        verification = system.store.verify()
        assert verification.broken_at is None, verification
        assert verification.checked == position
        system.catch_up()
        resumed = projection_rows(system)
        assert len(resumed["timeline_entries"]) == position, "the projection did not resume to the head"
        system.rebuild()
        assert projection_rows(system) == resumed, "the resumed projection differs from a rebuild"
        in_log = len(ours)

    restarted = LiveServer(url, folder, name=f"restart-{run}").start()
    try:
        assert httpx.get(f"{restarted.url}/health").json()["position"] == position
        tag = f"crash{run}-after"
        response = httpx.post(f"{restarted.url}/events", json=batch(tag, BATCH), headers=AUTH, timeout=30)
        assert response.status_code == 201, response.text
        assert int(response.headers["x-evolve-position"]) == position + BATCH
    finally:
        restarted.stop()
    return len(ledger.sent), len(ledger.acked), in_log


def _run(databases: Databases, tmp_path: Path, runs: int, label: str) -> None:
    url = databases.url(file=True)
    rng = random.Random(f"{databases.backend}-{label}")
    sent = acked = logged = 0
    for run in range(runs):
        s, a, n = crash_once(url, tmp_path, run, rng)
        sent, acked, logged = sent + s, acked + a, logged + n
    with opened(url) as system:
        events = system.store.position()
    report(
        f"crash-serve[{databases.backend},{label}]: {runs} SIGKILLs of evolve serve under {WRITERS} writers; "
        f"{sent} batches of {BATCH} sent, {acked} acknowledged, {logged} in the log (unacknowledged but committed: "
        f"{logged - acked}); lost acknowledged: 0, partial batches: 0; log {events} events, verify ok"
    )


def test_killed_server_keeps_every_acknowledged_batch_whole(databases: Databases, tmp_path: Path) -> None:
    _run(databases, tmp_path, RUNS, "short")


@pytest.mark.slow
def test_killed_server_many_times(databases: Databases, tmp_path: Path) -> None:
    _run(databases, tmp_path, SLOW_RUNS, "slow")
