"""`concurrent_append_ratio`: single appends/s with several writer processes on one store ÷ with one.

Each writer is its own process with its own `Evolve` (as several API processes behind a load balancer
would be), appending one event at a time with the projection on (read-your-writes): its own
footprint first, then leader appointments to it. The writers start together (a barrier); the rate is
all appends over the time from the first start to the last finish. A ratio of 1 means that
concurrent writers only take turns; group commit would make it larger.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import msgspec

SOURCES = [{"title": "benchmark", "url": "https://example.org/benchmark"}]


def _event(type_: str, **fields: Any) -> Any:
    from evolve.catalogue import Event

    body = {"type": type_, "effective": "2019-01-01", "precision": "day", "sources": SOURCES, **fields}
    return msgspec.convert(body, Event)


def _writer(url: str, tag: str, appends: int, barrier: Any, out: Any) -> None:
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    system = Evolve(Settings(database_url=url))
    try:
        barrier.wait()
        started = time.perf_counter()
        system.append([_event("FootprintDesignated", organisation=tag, name=tag.title())])
        for i in range(appends - 1):
            system.append([_event("LeaderAppointed", organisation=tag, leader=f"Leader {i}")])
        out.put((started, time.perf_counter()))
    finally:
        system.close()


def appends_per_second(url: str, writers: int, appends: int, label: str) -> float:
    """Single appends/s of `writers` processes, `appends` each, on the store at `url`."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(writers), context.Queue()
    processes = [
        context.Process(target=_writer, args=(url, f"{label}-w{w}", appends, barrier, out)) for w in range(writers)
    ]
    for process in processes:
        process.start()
    spans = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a writer process failed (exit code {process.exitcode})")
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    return writers * appends / (last - first)


def concurrent_append_ratio(url: str, writers: int = 8, appends: int = 100) -> dict[str, float]:
    one = appends_per_second(url, 1, appends * 2, "solo")
    many = appends_per_second(url, writers, appends, "many")
    return {"append_eps_1_writer": one, f"append_eps_{writers}_writers": many, "concurrent_append_ratio": many / one}
