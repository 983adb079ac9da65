"""Fixtures for the consumer-facing tests: a live `evolve serve` per module, and the curated app in-process.

The live server is a real subprocess (uvicorn on 127.0.0.1, a free port) over a SQLite file that holds the
curated history: the history is imported once per session into a template file, which each module copies.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from evolve.bootstrap import Evolve
from evolve.cli import import_events
from evolve.settings import Settings
from tests.api.conftest import curated, curated_app, curated_system
from tests.ports import free_port

__all__ = ["curated", "curated_app", "curated_system"]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "consumer-write-token-3b9e1d57"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SOURCES = [{"title": "consumer test", "url": "https://example.org/consumer-test"}]


def leader(org: str, name: str, effective: str = "2019-01-01") -> dict[str, Any]:
    """A valid event against the curated history: `name` leads `org` from `effective`."""
    return {
        "type": "LeaderAppointed",
        "effective": effective,
        "precision": "day",
        "sources": SOURCES,
        "organisation": org,
        "leader": name,
    }


@dataclass
class Server:
    """A running `evolve serve`; `stop()` sends SIGTERM to its pid and waits (bounded)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                raise AssertionError(f"the server did not stop within {timeout}s of SIGTERM") from None
        return self.process.returncode

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(db: Path, folder: Path) -> Server:
    port = free_port()
    log = folder / f"serve-{port}.log"
    env = {**os.environ, "EVOLVE_API_TOKEN": TOKEN, "EVOLVE_DATABASE_URL": str(db)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "evolve.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"evolve serve exited with {process.returncode}:\n{server.logs()}")
        try:
            if httpx.get(server.url + "/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"evolve serve did not answer within 30s:\n{server.logs()}")


@pytest.fixture(scope="session")
def curated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the curated history (imported once per session; copy it, never write it)."""
    path = tmp_path_factory.mktemp("curated") / "evolve.db"
    system = Evolve(Settings(database_url=str(path)))
    try:
        import_events(system, EVENTS, progress=False)
    finally:
        system.close()
    return path


def copy_db(template: Path, folder: Path) -> Path:
    target = folder / "evolve.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture(scope="module")
def live(curated_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`evolve serve` over a private copy of the curated history, for the whole module."""
    folder = tmp_path_factory.mktemp("live")
    server = start_server(copy_db(curated_db, folder), folder)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
