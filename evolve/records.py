"""An event as the log holds it: the client's event plus what the store assigned."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import msgspec

from evolve.catalogue import Event


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored event. `event` is exactly what was appended; the rest is the store's."""

    id: UUID
    position: int
    recorded_at: dt.datetime
    subjects: list[str]
    hash: str
    event: Event

    @property
    def type(self) -> str:
        return self.event.type


def micros(moment: dt.datetime) -> int:
    """Record time as the view keeps it: integer microseconds since the epoch (``*_us`` names)."""
    return int(moment.timestamp() * 1_000_000)
