"""Fixtures for the consumer-facing tests: a live `evolve serve` per module, and the curated app in-process.

The live server is a real subprocess (uvicorn on 127.0.0.1, a free port) over a SQLite file that holds the
curated history: the history is imported once per session into a template file, which each module copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from tests.api.conftest import curated, curated_app, curated_system
from tests.live_server import LiveServer, serving

__all__ = ["curated", "curated_app", "curated_system"]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def curated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the curated history (imported once per session; copy it, never write it)."""
    path = tmp_path_factory.mktemp("curated") / "evolve.db"
    system = Evolve(Settings(database_url=str(path)))
    try:
        system.import_files(EVENTS)
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
def live(curated_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`evolve serve` over a private copy of the curated history, for the whole module."""
    folder = tmp_path_factory.mktemp("live")
    with serving(str(copy_db(curated_db, folder)), folder) as server:
        yield server


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
