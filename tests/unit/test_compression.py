"""The log's compressor (evolve/compression.py): lossless, a third of the size, and readable for ever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import zstandard

from evolve import compression, log_dictionary
from evolve.bootstrap import Evolve
from evolve.settings import Settings
from evolve.store import EventStore
from tests.factories import event, footprint

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_a_state_decompresses_to_what_was_compressed() -> None:
    compressor = compression.LogCompressor()
    for data in (b"{}", b'{"event":{"name":"\xc3\xa9"}}', b"{" + bytes(range(256)) * 40):
        packed = compressor.compress(data)
        assert packed.startswith(compression.MAGIC)
        assert compressor.decompress(packed) == data


def test_the_curated_log_compresses_to_under_a_third() -> None:
    # zstd alone, without a dictionary that fits these small states, leaves about 60 %.
    states = log_dictionary.curated_states(EVENTS)
    compressor = compression.LogCompressor()
    assert sum(len(compressor.compress(s)) for s in states) < sum(map(len, states)) / 3


def test_a_row_written_before_compression_reads_as_it_is() -> None:
    assert compression.LogCompressor().decompress(b'{"position":1}') == b'{"position":1}'


def test_a_frame_of_an_unknown_dictionary_is_refused_by_name() -> None:
    other = zstandard.ZstdCompressor(dict_data=zstandard.train_dictionary(1024, [b'{"a":%d}' % i for i in range(500)]))
    with pytest.raises(ValueError, match=r"compressed with dictionary \d+, which this evolve does not have"):
        compression.LogCompressor().decompress(other.compress(b'{"a":1}'))


def test_no_dictionary_is_ever_changed() -> None:
    # Log rows compressed with a dictionary can only be read with it, and the log is never
    # rewritten: a better dictionary is appended to DICTIONARIES (python -m evolve.log_dictionary),
    # and its digest appended here. Never change or remove one.
    assert compression.digests() == ["107672081da9b762"]


def test_a_log_written_uncompressed_stays_readable_and_goes_on_compressed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    env = {**Settings(database_url=url).eventsourcing_env(), "COMPRESSOR_TOPIC": ""}
    old = EventStore(env)
    old.append([footprint("dorset")])
    old.close()
    system = Evolve(Settings(database_url=url))
    try:
        system.append([event("LeaderAppointed", organisation="dorset", leader="A. Person")])
        assert [r.event.type for r in system.store.read()] == ["FootprintDesignated", "LeaderAppointed"]
        assert system.verify().broken_at is None
        assert system.queries.state("dorset").leader is not None
    finally:
        system.close()
    with sqlite3.connect(f"{tmp_path}/old.db") as db:
        states = [bytes(row[0]) for row in db.execute("SELECT state FROM stored_events ORDER BY rowid")]
    assert states[0].startswith(b"{") and states[-1].startswith(compression.MAGIC)
