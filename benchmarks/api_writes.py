"""Single-event POSTs/s to one `evolve serve`: 1 client, then 8 concurrent clients, alternated.

    python -m benchmarks.api_writes [--db URL] [--clients 8] [--posts 100] [--rounds 2]

Each client is a thread with its own HTTP connection, posting leader appointments one at a time
to its own organisation (dated a day apart, as in benchmarks/concurrent.py). The server's appends
run in its worker threads, so concurrent POSTs share commits (group commit); this is that figure
as an API client meets it, HTTP included. A fresh SQLite file unless `--db` names a database.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.concurrent import body
from benchmarks.load import start_server

HEADERS = {"Authorization": "Bearer benchmark-token", "Content-Type": "application/json"}


def _client(base: str, org: str, posts: int, barrier: threading.Barrier, spans: list[tuple[float, float]]) -> None:
    import httpx

    with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as client:
        client.post("/events", json=body("FootprintDesignated", organisation=org, name=org.title())).raise_for_status()
        barrier.wait()
        started = time.perf_counter()
        for i in range(posts):
            appointment = body("LeaderAppointed", i, organisation=org, leader=f"Leader {i}")
            client.post("/events", json=appointment).raise_for_status()
        spans.append((started, time.perf_counter()))


def posts_per_second(base: str, clients: int, posts: int, label: str) -> float:
    """POSTs/s of `clients` concurrent clients, `posts` each, from the first start to the last finish."""
    barrier = threading.Barrier(clients)
    spans: list[tuple[float, float]] = []
    threads = [
        threading.Thread(target=_client, args=(base, f"{label}-{c}", posts, barrier, spans)) for c in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(spans) != clients:
        raise RuntimeError("a client failed (see its traceback above)")
    return clients * posts / (max(end for _, end in spans) - min(start for start, _ in spans))


def measure(database_url: str, clients: int, posts: int, rounds: int) -> dict[str, float]:
    server = start_server(database_url, Path(tempfile.mkdtemp(prefix="evolve-api-writes-")))
    one = many = 0.0
    try:
        for r in range(rounds):
            one += posts_per_second(server.base, 1, 2 * posts, f"one{r}") / rounds
            many += posts_per_second(server.base, clients, posts, f"many{r}") / rounds
    finally:
        server.stop()
    return {"posts_per_s_1_client": one, f"posts_per_s_{clients}_clients": many, "api_write_ratio": many / one}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.api_writes")
    p.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--posts", type=int, default=100, help="POSTs per client (the single client makes twice as many)")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    url = args.db or str(Path(tempfile.mkdtemp(prefix="evolve-api-writes-")) / "api.db")
    figures = measure(url, args.clients, args.posts, args.rounds)
    print(
        f"1 client {figures['posts_per_s_1_client']:,.0f} POST/s, {args.clients} clients "
        f"{figures[f'posts_per_s_{args.clients}_clients']:,.0f} POST/s, ratio {figures['api_write_ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
