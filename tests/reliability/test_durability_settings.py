"""The durability settings docs/reliability.md states, checked on the connections evolve actually uses.

SQLite: eventsourcing's datastore switches a file database to WAL and leaves `synchronous` at SQLite's
default, FULL (2): a committed transaction survives SIGKILL (WAL is in the OS page cache, replayed on open)
and power loss (the WAL is fsynced at each commit). PostgreSQL: the server's `fsync` and
`synchronous_commit` decide; they are reported (and should both be `on`).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Databases
from tests.reliability.support import opened, report


def test_sqlite_file_database_is_wal_with_synchronous_full(tmp_path: Path) -> None:
    with opened(str(tmp_path / "evolve.db")) as system:
        datastore = system.store.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
    assert journal == "wal"
    assert synchronous == 2, "synchronous is no longer FULL: update docs/reliability.md"
    report(f"durability[sqlite]: journal_mode={journal}, synchronous={synchronous} (FULL)")


def test_postgres_durability_settings_are_reported(databases: Databases) -> None:
    if databases.backend != "postgresql":
        return
    with opened(databases.url()) as system, system.view.reader() as read:
        settings = {name: read.rows(f"SHOW {name}")[0][0] for name in ("fsync", "synchronous_commit")}
    report(f"durability[postgresql]: {settings}")
    assert settings["fsync"] == "on"
