"""`concurrent_append_ratio`: single appends/s with several writers on one store ÷ with one.

Each writer appends one event at a time with the projection on (read-your-writes): its own
footprint first, then leader appointments to it. The writers start together (a barrier); the rate is
all appends over the time from the first start to the last finish.

Two shapes of writer: threads of one process sharing one `Evolve` (the requests of one `evolve
serve`, whose appends run in worker threads), where group commit lets the appends queued behind a
commit share the next one; and processes, each with its own `Evolve` (several servers on one
database), which can only take turns on the database's write lock (a ratio near 1).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

SOURCES = [{"title": "benchmark", "url": "https://example.org/benchmark"}]


def body(type_: str, day: int = 0, **fields: Any) -> dict[str, Any]:
    """An event's JSON, `day` days after 1 January 2019: each appointment is later than the one
    before, as real ones are, so that an append refolds only its own day whatever the writer's
    history (on one date, every append would refold all its writer's appointments again, and a
    writer making more appends would pay more for each)."""
    effective = (dt.date(2019, 1, 1) + dt.timedelta(days=day)).isoformat()
    return {"type": type_, "effective": effective, "precision": "day", "sources": SOURCES, **fields}


def _event(type_: str, day: int = 0, **fields: Any) -> Any:
    from evolve.catalogue import Event

    return msgspec.convert(body(type_, day, **fields), Event)


def _appends(system: Any, tag: str, appends: int, barrier: Any) -> tuple[float, float]:
    """One writer's appends after the barrier; when it started and finished."""
    barrier.wait()
    started = time.perf_counter()
    system.append([_event("FootprintDesignated", organisation=tag, name=tag.title())])
    for i in range(appends - 1):
        system.append([_event("LeaderAppointed", i, organisation=tag, leader=f"Leader {i}")])
    return started, time.perf_counter()


def _writer(url: str, tag: str, appends: int, barrier: Any, out: Any) -> None:
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    system = Evolve(Settings(database_url=url))
    try:
        out.put(_appends(system, tag, appends, barrier))
    finally:
        system.close()


def thread_appends_per_second(url: str, writers: int, appends: int, label: str) -> float:
    """Single appends/s of `writers` threads sharing one `Evolve`, `appends` each."""
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    system = Evolve(Settings(database_url=url))
    barrier = threading.Barrier(writers)
    spans: list[tuple[float, float]] = []
    failures: list[BaseException] = []

    def write(tag: str) -> None:
        try:
            spans.append(_appends(system, tag, appends, barrier))
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=write, args=(f"{label}-t{w}",)) for w in range(writers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        system.close()
    if failures:
        raise RuntimeError(f"a writer thread failed: {failures[0]!r}")
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    return writers * appends / (last - first)


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


#: Blocks of one writer and of many, alternated: the machine drifts (one writer's rate moved by a
#: half between two runs of a minute apart), and a ratio of back-to-back blocks drifts less.
ROUNDS = 3


def _alternated(
    measure: Callable[[str, int, int, str], float], url: str, writers: int, appends: int, label: str
) -> tuple[float, float]:
    """Appends/s of 1 writer and of `writers`, over :data:`ROUNDS` alternating blocks (1 writer
    making `2 * appends` in all, each of the others `appends`), each rate its appends over its time."""
    solo = many = (0, 0.0)
    for r in range(ROUNDS):
        n_solo, n_many = max(1, 2 * appends // ROUNDS), max(1, appends // ROUNDS)
        rate = measure(url, 1, n_solo, f"{label}-solo{r}")
        solo = (solo[0] + n_solo, solo[1] + n_solo / rate)
        rate = measure(url, writers, n_many, f"{label}-many{r}")
        many = (many[0] + writers * n_many, many[1] + writers * n_many / rate)
    return solo[0] / solo[1], many[0] / many[1]


def concurrent_append_ratio(url: str, writers: int = 8, appends: int = 100) -> dict[str, float]:
    """Threads of one process (`concurrent_append_ratio`), then processes (`..._processes`), each
    against one writer of the same shape, alternated on the same store."""
    one, many = _alternated(thread_appends_per_second, url, writers, appends, "t")
    one_process, many_processes = _alternated(appends_per_second, url, writers, appends, "p")
    return {
        "append_eps_1_writer": one,
        f"append_eps_{writers}_writers": many,
        "concurrent_append_ratio": many / one,
        "append_eps_1_process": one_process,
        f"append_eps_{writers}_processes": many_processes,
        "concurrent_append_ratio_processes": many_processes / one_process,
    }
