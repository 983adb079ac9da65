"""A live `evolve serve` in a subprocess (127.0.0.1, a free port), and helpers shared by the reliability tests.

Every wait is bounded; the server is killed (SIGKILL) or stopped (SIGTERM) by its own pid, never by name.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from evolve.views.sql import TABLES
from tests.ports import free_port

TOKEN = "reliability-write-token-5f1c9a7e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SOURCES = [{"title": "reliability test", "url": "https://example.org/reliability"}]
CURATED = Path(__file__).resolve().parents[2] / "events"
#: Figures reported at the end of the pytest run (see conftest.py), one line each.
REPORT: list[str] = []


def report(line: str) -> None:
    REPORT.append(line)
    print(line, file=sys.stderr)


def footprint(org: str, effective: str = "2016-03-15") -> dict[str, Any]:
    return {
        "type": "FootprintDesignated",
        "effective": effective,
        "precision": "day",
        "sources": SOURCES,
        "organisation": org,
        "name": f"Org {org}",
    }


def leader(org: str, name: str, effective: str = "2017-01-01") -> dict[str, Any]:
    return {
        "type": "LeaderAppointed",
        "effective": effective,
        "precision": "day",
        "sources": SOURCES,
        "organisation": org,
        "leader": name,
    }


def batch(tag: str, size: int) -> list[dict[str, Any]]:
    """A batch that only makes sense whole: it creates organisation `tag`, then appoints `size - 1` leaders to it.
    Every event of the batch touches `tag`, so the log shows which batch each entry came from."""
    leaders = [leader(tag, f"Leader {i} of {tag}", f"2017-01-{i % 28 + 1:02d}") for i in range(size - 1)]
    return [footprint(tag), *leaders]


class LiveServer:
    """`python -m evolve.cli serve` on `url`, logging to files under `folder`."""

    def __init__(self, url: str, folder: Path, *, curated: bool = False, name: str = "serve") -> None:
        self.url = url
        self.folder = folder
        self.curated = curated
        self.name = name
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_path = folder / f"{name}.stderr"
        self.stdout_path = folder / f"{name}.stdout"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            events = str(CURATED) if self.curated else str(self.folder / "no-curated-history")
            env = {**os.environ, "EVOLVE_DATABASE_URL": self.url, "EVOLVE_API_TOKEN": TOKEN}
            with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "evolve.cli",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--events",
                        events,
                    ],
                    env=env,
                    stdout=out,
                    stderr=err,
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            self.kill()
        raise AssertionError(f"evolve serve did not come up; stderr:\n{self.stderr_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed by the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait for a graceful exit (SIGKILL after 20 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's JSON log lines (stderr); non-JSON lines are returned as {"raw": line}."""
        lines = []
        for raw in self.stderr_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                lines.append({"raw": raw})
        return lines


@contextmanager
def serving(url: str, folder: Path, **kwargs: Any) -> Iterator[LiveServer]:
    server = LiveServer(url, folder, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


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
