"""Small builders for events in tests (real catalogue Structs, decoded like any input)."""

from __future__ import annotations

from typing import Any

import msgspec

from evolve.catalogue import Event

SOURCE = [{"title": "test source", "seed": "000_test.txt"}]


def event(type_: str, effective: str = "2016-03-15", precision: str = "day", **fields: Any) -> Any:
    return msgspec.convert(
        {"type": type_, "effective": effective, "precision": precision, "sources": SOURCE, **fields}, Event
    )


def footprint(org: str, effective: str = "2016-03-15", **fields: Any) -> Any:
    return event("FootprintDesignated", effective, organisation=org, name=fields.pop("name", org.title()), **fields)
