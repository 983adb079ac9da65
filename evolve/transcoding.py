"""How the store's events become bytes: eventsourcing's JSON format, written and read by msgspec.

eventsourcing's ``JSONTranscoder`` writes each domain event as JSON in which a
value of a registered type is boxed as ``{"_type_": name, "_data_": ...}``
(UUIDs as hex, datetimes as ISO text, catalogue events as their fields). It
walks every object through Python hooks. :class:`MsgspecTranscoder` writes
the same format with msgspec, and :func:`decode_recorded` reads a log entry
straight into typed values; both stay readable by the stock transcoder
(tests check the round trips).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding

from evolve.catalogue import BaseEvent, Event


class StructTranscoding(Transcoding):
    """A catalogue Struct inside eventsourcing's JSON, as its plain fields."""

    def __init__(self, cls: type[BaseEvent]) -> None:
        self.type = cls
        self.name = f"evolve.{cls.__struct_config__.tag}"

    def encode(self, obj: Any) -> Any:
        return msgspec.to_builtins(obj)

    def decode(self, data: Any) -> Any:
        return msgspec.convert(data, self.type)


class MsgspecTranscoder(JSONTranscoder):
    """Encodes like ``JSONTranscoder`` (same boxes, same decoder), at msgspec's speed.

    Only the containers and the boxed values are walked in Python; a catalogue
    event, the bulk of a log entry, is encoded by msgspec from the Struct.
    """

    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder()

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(self._boxed(obj))

    def _boxed(self, value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float)):
            return value
        kind = type(value)
        if kind is dict:
            return {key: self._boxed(item) for key, item in value.items()}
        if kind in (list, tuple):
            return [self._boxed(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is None:
            return self._encode_obj(value)  # raises eventsourcing's own "not serializable" error
        if isinstance(transcoding, StructTranscoding):
            return {"_type_": transcoding.name, "_data_": value}
        return {"_type_": transcoding.name, "_data_": self._boxed(transcoding.encode(value))}


class _Stamp(msgspec.Struct):
    data: dt.datetime = msgspec.field(name="_data_")


class _Id(msgspec.Struct):
    data: UUID = msgspec.field(name="_data_")


class _Boxed(msgspec.Struct):
    data: Event = msgspec.field(name="_data_")


class RecordedState(msgspec.Struct):
    """The stored state of a ``Log.Recorded`` (see ``evolve.domain``)."""

    timestamp: _Stamp
    event_id: _Id
    event: _Boxed
    subjects: list[str]
    hash: str


decode_recorded = msgspec.json.Decoder(RecordedState).decode
