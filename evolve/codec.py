"""How a projected :class:`Status` is stored: its scalar part, and its lists by content.

An organisation's ``funding`` and ``milestones`` only grow, and every event
that touches it starts a new interval row. Stored whole, each row would
repeat the lists (kilobytes after a few years), so most of what a write
and a commit move would be copies. Instead a row holds the status without
its lists plus the content hash of the lists, and each distinct pair of
lists is stored once (``timeline_lists``). Rows compare equal exactly when
their statuses do.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import NamedTuple

import msgspec
from msgspec.structs import replace

from evolve.state import FundingRecord, MilestoneRecord, Status


class Lists(msgspec.Struct, frozen=True, kw_only=True):
    funding: list[FundingRecord]
    milestones: list[MilestoneRecord]


class Encoded(NamedTuple):
    """A status as stored: `scalar` JSON, and its lists' hash and JSON (both None when empty)."""

    scalar: bytes
    lists: str | None
    lists_data: bytes | None


_encoder = msgspec.json.Encoder()
_status_decoder = msgspec.json.Decoder(Status)
_lists_decoder = msgspec.json.Decoder(Lists)

#: Lists hashed recently, by the identity of the list objects. Folding shares
#: the same list objects between versions until a list changes, so a timeline
#: extended event by event hashes each distinct pair once. Entries keep their
#: lists alive, so an id is never reused while it is a key here.
_recent: dict[tuple[int, int], tuple[list[FundingRecord], list[MilestoneRecord], str, bytes]] = {}
_RECENT_LIMIT = 20_000
_lock = threading.Lock()


def encode(status: Status) -> Encoded:
    funding, milestones = status.funding, status.milestones
    if not funding and not milestones:
        return Encoded(_encoder.encode(status), None, None)
    key = (id(funding), id(milestones))
    hit = _recent.get(key)
    if hit is None or hit[0] is not funding or hit[1] is not milestones:
        data = _encoder.encode(Lists(funding=funding, milestones=milestones))
        hit = (funding, milestones, hashlib.blake2b(data, digest_size=16).hexdigest(), data)
        with _lock:
            if len(_recent) >= _RECENT_LIMIT:
                _recent.clear()
            _recent[key] = hit
    return Encoded(_encoder.encode(replace(status, funding=[], milestones=[])), hit[2], hit[3])


#: Statuses decoded recently, by their stored bytes. A stored row never changes, and a read of
#: every organisation's state (/stats, lists) decodes the same rows again and again: decoding
#: was most of the time of such a read. Statuses are frozen and their lists are shared, never
#: mutated (as `_recent` relies on too), so one decoded object serves every reader.
_decoded: dict[tuple[bytes, bytes | None], Status] = {}
_DECODED_LIMIT = 50_000


def decode(scalar: bytes, lists_data: bytes | None, unpack: Callable[[bytes], bytes] | None = None) -> Status:
    """The status of these bytes; `unpack` turns stored bytes into JSON (the cache is keyed by the
    stored bytes, so a cached row is not unpacked again)."""
    key = (scalar, lists_data)
    found = _decoded.get(key)
    if found is not None:
        return found
    status = _status_decoder.decode(unpack(scalar) if unpack is not None else scalar)
    if lists_data is not None:
        lists = _lists_decoder.decode(unpack(lists_data) if unpack is not None else lists_data)
        status = replace(status, funding=lists.funding, milestones=lists.milestones)
    with _lock:
        if len(_decoded) >= _DECODED_LIMIT:
            _decoded.clear()
        _decoded[key] = status
    return status
