"""How the view's JSON blobs are stored: compressed with Zstandard and a dictionary.

Every interval row holds a whole status and every entry row its record and current version,
as JSON: most of the view's bytes, and mostly the same keys, enum values and phrases again and
again. Each blob alone is too small for a compressor to find that repetition (a status of
~560 bytes shrinks to ~350), but against a dictionary trained on evolve's own history it
shrinks to ~190 (issue 16, ``bytes_per_event``; docs/performance.md).

The dictionary (``blobs.zdict``, beside this module) is trained on the curated history's
projected blobs by ``python -m evolve.views.blobs events/`` and is part of the view's layout:
rows packed with one dictionary cannot be read with another, so a new dictionary comes with a
new :data:`evolve.views.sql.LAYOUT_VERSION` (a test holds the two together), and the view is
projected again from the log, which is not compressed. Only the view is; the log stays as
eventsourcing wrote it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import sys
import threading
from pathlib import Path

import msgspec
import zstandard

DICTIONARY_PATH = Path(__file__).with_name("blobs.zdict")
#: Bigger dictionaries compress a little better and compress more slowly (measured in issue 16).
DICTIONARY_BYTES = 32 * 1024
LEVEL = 3

#: Compressors and decompressors are not safe to share between threads: one of each per thread.
_local = threading.local()


def digest() -> str:
    """The dictionary's digest, pinned to the layout version by a test."""
    return hashlib.blake2b(DICTIONARY_PATH.read_bytes(), digest_size=8).hexdigest()


@functools.cache
def _dictionary() -> zstandard.ZstdCompressionDict:
    dictionary = zstandard.ZstdCompressionDict(DICTIONARY_PATH.read_bytes())
    dictionary.precompute_compress(level=LEVEL)
    return dictionary


def pack(data: bytes) -> bytes:
    compressor: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            dict_data=_dictionary(), write_checksum=False, write_content_size=True, write_dict_id=False
        )
    return compressor.compress(data)


def unpack(data: bytes) -> bytes:
    decompressor: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor(dict_data=_dictionary())
    return decompressor.decompress(data)


def train(samples: list[bytes | bytearray | memoryview], size: int = DICTIONARY_BYTES) -> bytes:
    """A dictionary for these blobs (zstd's trainer; deterministic for the same samples)."""
    return zstandard.train_dictionary(size, samples, level=LEVEL, threads=1).as_bytes()


def curated_samples(path: Path) -> list[bytes | bytearray | memoryview]:
    """The JSON blobs the view stores for the event files at `path`, folded in memory (no
    database): each record, each current version and policy, each status as known now and its
    lists."""
    from eventsourcing.persistence import Tracking

    from evolve import codec, files, rules
    from evolve.projection import project_batch
    from evolve.records import EventRecord
    from evolve.views.memory import MemoryTimelineView

    loaded = files.load(path)
    checked = rules.check_batch([f.event for f in loaded], [f.id for f in loaded], rules.EmptyLog())
    now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # fixed, so the same files train the same dictionary
    records = [
        EventRecord(id=f.id, position=i, recorded_at=now, subjects=subjects, hash="", event=f.event)
        for i, (f, subjects) in enumerate(zip(loaded, checked.subjects, strict=True), 1)
    ]
    view = MemoryTimelineView()
    with view.transaction(Tracking("blobs", len(records))) as writer:
        project_batch(writer, records)
    encode = msgspec.json.Encoder().encode
    samples: list[bytes | bytearray | memoryview] = [encode(r) for r in records]
    samples += [encode(r.event) for r in records]
    with view.reader() as reader:
        known = reader.latest_recorded_us() or 0
        for spans in reader.timelines(known, dt.date.min, dt.date.max).values():
            for span in spans:
                scalar, _, lists = codec.encode(span.state)
                samples += [scalar, *([lists] if lists is not None else [])]
    return samples


def main(argv: list[str]) -> None:
    """``python -m evolve.views.blobs EVENTS_DIR``: train the dictionary again and write it."""
    samples = curated_samples(Path(argv[0] if argv else "events"))
    DICTIONARY_PATH.write_bytes(train(samples))
    print(f"{DICTIONARY_PATH}: {DICTIONARY_PATH.stat().st_size} bytes from {len(samples)} blobs, digest {digest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
