"""Pages written per single append on SQLite, by b-tree: where an append's commit goes.

    python -m benchmarks.pages [--size 10k] [--appends 20]

Builds a store of the given size from the synthetic log, truncates the WAL,
makes single appends (projection on, as in ``append_ratio``), then reads the
WAL's frame headers and names the table or index each written page belongs
to (SQLite's ``dbstat``). A raw one-row insert writes one or two pages; the
difference is what an append's commit pays for.
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import tempfile
import time
from pathlib import Path

from benchmarks.generator import SyntheticLog, generate
from benchmarks.runner import BATCH, parse_sizes

WAL_HEADER = 32
FRAME_HEADER = 24


def wal_pages(wal: Path) -> list[int]:
    """The page number of every frame in a WAL file, in order."""
    data = wal.read_bytes()
    if len(data) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    pages = []
    for offset in range(WAL_HEADER, len(data) - FRAME_HEADER + 1, FRAME_HEADER + page_size):
        pages.append(struct.unpack(">I", data[offset : offset + 4])[0])
    return pages


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pages")
    p.add_argument("--size", type=parse_sizes, default=[10_000])
    p.add_argument("--appends", type=int, default=20, help="keep appends x pages under 1,000 (the auto-checkpoint)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    n, k = args.size[0], args.appends
    log = generate(n + k, args.seed)
    path = Path(tempfile.mkdtemp(prefix="evolve-pages-")) / "pages.db"
    system = Evolve(Settings(database_url=str(path)), project_on_append=False)
    head = SyntheticLog(log.seed, log.events[:n], log.ids[:n], log.organisations)
    for a, b in head.batches(BATCH):
        system.append(head.events[a:b], ids=head.ids[a:b])
    system.catch_up()
    system.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    system = Evolve(Settings(database_url=str(path)))
    start = time.perf_counter()
    for i in range(n, n + k):
        system.append([log.events[i]], ids=[log.ids[i]])
    elapsed = time.perf_counter() - start
    pages = wal_pages(Path(f"{path}-wal"))
    system.close()

    with sqlite3.connect(path) as db:
        owners = {page: name for name, page in db.execute("SELECT name, pageno FROM dbstat")}
    by_tree = collections.Counter(owners.get(page, "(header or freelist)") for page in pages)
    print(
        f"{n:,} events, {k} single appends: {len(pages) / k:.1f} pages written per append, "
        f"{elapsed / k * 1e6:,.0f} us per append"
    )
    for name, count in by_tree.most_common():
        print(f"{count / k:6.1f}  {name}")


if __name__ == "__main__":
    main()
