"""What the reliability tests share: the figures they report, whole batches of events, and reading a store
back after a run (the live server itself is tests/live_server.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from evolve.views.sql import TABLES
from tests.factories import footprint_body, leader_body

CURATED = Path(__file__).resolve().parents[2] / "events"
#: Figures reported at the end of the pytest run (see conftest.py), one line each.
REPORT: list[str] = []


def report(line: str) -> None:
    REPORT.append(line)
    print(line, file=sys.stderr)


def batch(tag: str, size: int) -> list[dict[str, Any]]:
    """A batch that only makes sense whole: it creates organisation `tag`, then appoints `size - 1` leaders to it.
    Every event of the batch touches `tag`, so the log shows which batch each entry came from."""
    leaders = [leader_body(tag, f"Leader {i} of {tag}", f"2017-01-{i % 28 + 1:02d}") for i in range(size - 1)]
    return [footprint_body(tag), *leaders]


@contextmanager
def opened(url: str) -> Iterator[Evolve]:
    system = Evolve(Settings(database_url=url))
    try:
        yield system
    finally:
        system.close()


def projection_rows(system: Evolve) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, in a stable order."""
    out = {}
    with system.view.reader() as read:
        for table in TABLES:
            rows = read.rows(f"SELECT * FROM {table}")  # table names are constants
            out[table] = sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows), key=repr
            )
    return out


def log_by_subject(system: Evolve) -> dict[str, list[str]]:
    """Event ids in the log, grouped by the first subject each touches, in log order."""
    grouped: dict[str, list[str]] = {}
    for record in system.store.iter_records():
        grouped.setdefault(record.subjects[0] if record.subjects else "", []).append(str(record.id))
    return grouped


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]
