"""Small builders for events in tests: catalogue Structs (decoded like any input), or plain JSON request bodies.

The bodies are dicts so that tests can break them on purpose before sending them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from evolve.catalogue import Event

SOURCE = [{"title": "test source", "seed": "000_test.txt"}]
#: What an API writer cites: a public URL (seed documents belong to the curated history).
URL_SOURCE = [{"title": "test source", "url": "https://example.org/source"}]


def event(type_: str, effective: str = "2016-03-15", precision: str = "day", **fields: Any) -> Any:
    return msgspec.convert(
        {"type": type_, "effective": effective, "precision": precision, "sources": SOURCE, **fields}, Event
    )


def footprint(org: str, effective: str = "2016-03-15", **fields: Any) -> Any:
    return event("FootprintDesignated", effective, organisation=org, name=fields.pop("name", org.title()), **fields)


def event_body(type_: str, effective: str = "2016-03-15", **fields: Any) -> dict[str, Any]:
    return {"type": type_, "effective": effective, "precision": "day", "sources": URL_SOURCE, **fields}


def footprint_body(org: str, effective: str = "2016-03-15", **fields: Any) -> dict[str, Any]:
    name = fields.pop("name", org.title())
    return event_body("FootprintDesignated", effective, organisation=org, name=name, **fields)


def leader_body(org: str, name: str, effective: str = "2019-01-01") -> dict[str, Any]:
    return event_body("LeaderAppointed", effective, organisation=org, leader=name)
