"""Training a dictionary for the log's compressor (:mod:`evolve.compression`) on the curated history.

    python -m evolve.log_dictionary events evolve/log-2.zdict

A new dictionary is added to :data:`evolve.compression.DICTIONARIES` (the last one writes); none
is ever replaced, since log rows compressed with it need it to be read.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

import zstandard

from evolve.bootstrap import Evolve
from evolve.compression import DICTIONARY_BYTES, LEVEL, LogCompressor
from evolve.settings import Settings


def curated_states(path: Path) -> list[bytes]:
    """The states eventsourcing stores for the event files at `path` (as JSON: the samples a
    dictionary learns from), imported into a fresh SQLite log in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        system = Evolve(Settings(database_url=f"sqlite:///{tmp}/train.db"))
        try:
            system.import_files(path)
        finally:
            system.close()
        with sqlite3.connect(f"{tmp}/train.db") as db:
            rows = db.execute("SELECT state FROM stored_events ORDER BY rowid").fetchall()
    return [LogCompressor().decompress(bytes(row[0])) for row in rows]


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m evolve.log_dictionary EVENTS_DIR OUT.zdict")
    samples: list[bytes | bytearray | memoryview] = [*curated_states(Path(argv[0]))]
    data = zstandard.train_dictionary(DICTIONARY_BYTES, samples, level=LEVEL, threads=1).as_bytes()
    Path(argv[1]).write_bytes(data)
    print(f"{argv[1]}: {len(data)} bytes from {len(samples)} states")


if __name__ == "__main__":
    main(sys.argv[1:])
