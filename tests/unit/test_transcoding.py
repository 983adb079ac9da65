"""The msgspec transcoder writes eventsourcing's JSON format: the stock transcoder reads it back."""

from __future__ import annotations

import datetime as dt
import json
from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder

from evolve.store import EventStore
from evolve.transcoding import MsgspecTranscoder
from tests.factories import event, footprint


def transcoders() -> tuple[MsgspecTranscoder, JSONTranscoder]:
    store = EventStore({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fast = store.construct_transcoder()
    stock = JSONTranscoder()
    store.register_transcodings(stock)
    assert isinstance(fast, MsgspecTranscoder)
    return fast, stock


def test_encodings_match_the_stock_transcoder() -> None:
    fast, stock = transcoders()
    corrected = event("EventCorrected", corrects=str(uuid4()), retract=True)
    state = {
        "timestamp": dt.datetime(2026, 11, 26, 0, 17, 58, 694084, tzinfo=dt.UTC),
        "event_id": uuid4(),
        "event": footprint("north-east-and-cumbria", name="North East and Cumbria \u2013 \u00fc", members=["a", "b"]),
        "subjects": ["north-east-and-cumbria"],
        "nested": {"ids": [uuid4(), uuid4()], "events": [corrected]},
        "hash": "0" * 64,
        "n": 3,
        "flag": True,
        "none": None,
    }
    encoded = fast.encode(state)
    assert json.loads(encoded) == json.loads(stock.encode(state))
    assert stock.decode(encoded) == state
    assert fast.decode(encoded) == state
