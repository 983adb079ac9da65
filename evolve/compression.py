"""The log's compressor: eventsourcing passes every stored event's state through it.

A log entry's state is JSON of a few hundred bytes (an event and its sources; a subject stream's
touch), too small for a compressor alone to find its repetition, but against a dictionary
trained on evolve's own log it shrinks to about a third (issue 16, ``bytes_per_event``:
measured in docs/performance.md). eventsourcing's mapper calls :class:`LogCompressor` on every
write and read (``COMPRESSOR_TOPIC``, set by :class:`evolve.store.EventStore`); the store's fast reader
calls :meth:`LogCompressor.decompress` itself.

The log is the only truth and is never rewritten, so a dictionary that compressed any row must
stay readable for ever. Each frame names its dictionary (zstd's dictionary id), and
:data:`DICTIONARIES` keeps every dictionary ever used: a better one is added beside the others
and becomes the one that writes; none is ever changed or removed (a test pins their digests).
A state that is not a zstd frame (a log written before its rows were compressed) is read as it
is: JSON never begins with zstd's magic number.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from pathlib import Path

import zstandard
from eventsourcing.persistence import Compressor

#: Every dictionary the log was ever written with, oldest first; the last one writes.
DICTIONARIES = (Path(__file__).with_name("log-1.zdict"),)
DICTIONARY_BYTES = 32 * 1024
LEVEL = 3
MAGIC = b"\x28\xb5\x2f\xfd"

_local = threading.local()


def digests() -> list[str]:
    """Each dictionary's digest, pinned by a test: a changed dictionary would leave rows unreadable."""
    return [hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest() for path in DICTIONARIES]


@functools.cache
def _dictionaries() -> dict[int, zstandard.ZstdCompressionDict]:
    found = {}
    for path in DICTIONARIES:
        dictionary = zstandard.ZstdCompressionDict(path.read_bytes())
        found[dictionary.dict_id()] = dictionary
    return found


@functools.cache
def _writing() -> zstandard.ZstdCompressionDict:
    dictionary = list(_dictionaries().values())[-1]  # the newest
    dictionary.precompute_compress(level=LEVEL)
    return dictionary


class LogCompressor(Compressor):
    """zstd against the newest of :data:`DICTIONARIES`; reads any of them, and plain JSON."""

    def compress(self, data: bytes) -> bytes:
        compressor: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
        if compressor is None:  # compressors are not safe to share between threads
            compressor = _local.compressor = zstandard.ZstdCompressor(
                dict_data=_writing(), write_checksum=False, write_content_size=True, write_dict_id=True
            )
        return compressor.compress(data)

    def decompress(self, data: bytes) -> bytes:
        if not data.startswith(MAGIC):
            return data  # written before the log was compressed
        dict_id = zstandard.get_frame_parameters(data).dict_id
        decompressors: dict[int, zstandard.ZstdDecompressor] = _local.__dict__.setdefault("decompressors", {})
        decompressor = decompressors.get(dict_id)
        if decompressor is None:
            dictionary = _dictionaries().get(dict_id)
            if dictionary is None:
                raise ValueError(f"a log row was compressed with dictionary {dict_id}, which this evolve does not have")
            decompressor = decompressors[dict_id] = zstandard.ZstdDecompressor(dict_data=dictionary)
        return decompressor.decompress(data)
