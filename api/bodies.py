"""Parsing the write request: the JSON body into catalogue events, ``If-Match``, and the idempotency digest.

The body is decoded strictly by msgspec against evolve's own ``Event`` union
(no coercion: a float where pence are expected is an error), element by
element for a batch so that a fault is located as ``/<index>/<field>``.
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from evolve.catalogue import Event
from evolve.errors import EvolveError
from evolve.files import describe


class BodyInvalid(EvolveError):
    """The request body is not JSON, or does not decode into events (status 400 or 422)."""

    def __init__(self, message: str, pointer: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.status = status


class UnsupportedMediaType(EvolveError):
    """The request body is not ``application/json``."""


class HeaderInvalid(EvolveError):
    """A request header (e.g. ``If-Match``) is malformed."""

    def __init__(self, message: str, header: str) -> None:
        super().__init__(message)
        self.header = header


_LOCATION = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`")


def location(message: str) -> str | None:
    """The JSON pointer (``/a/2/b``) of msgspec's ``... - at `$.a[2].b``` suffix; an unknown field is included."""
    match = _LOCATION.search(message)
    path = match.group("path") if match else ""
    pointer = "".join(f"/{name or index}" for name, index in _PATH_PART.findall(path))
    unknown = _UNKNOWN_FIELD.match(message)
    if unknown:
        pointer += "/" + unknown.group("name").replace("~", "~0").replace("/", "~1")
    return pointer if (match or unknown) else None



#: The most events one request may carry.
MAX_BATCH = 1000

_event = msgspec.json.Decoder(Event)
_shape = msgspec.json.Decoder(list[msgspec.Raw] | dict[str, msgspec.Raw])
_IF_MATCH_ITEM = re.compile(r'^"?(?P<subject>[a-z0-9]+(?:-[a-z0-9]+)*):(?P<version>[0-9]{1,15})"?$')
IF_MATCH_FORMAT = '"<subject-id>:<version>"'


def check_media_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(f"send the events as `application/json`, not {media or 'no content type'!r}")


def _decode_one(raw: bytes, prefix: str) -> Event:
    try:
        event: Event = _event.decode(raw)
        return event
    except msgspec.ValidationError as exc:
        pointer = location(str(exc))
        raise BodyInvalid(describe(exc), prefix + pointer if pointer is not None else prefix or None) from None


def decode_events(body: bytes) -> tuple[list[Event], bool]:
    """The events in a request body and whether it was a batch (a JSON array)."""
    if not body.strip():
        raise BodyInvalid("the request body is empty: send one event object or an array of events", status=400)
    try:
        shape = _shape.decode(body)
    except msgspec.ValidationError:
        raise BodyInvalid("the body must be one event object or a JSON array of event objects", "") from None
    except msgspec.DecodeError as exc:
        raise BodyInvalid(f"the body is not valid JSON: {exc}", status=400) from None
    if isinstance(shape, dict):
        return [_decode_one(body, "")], False
    if not shape:
        raise BodyInvalid("a batch needs at least one event", "")
    if len(shape) > MAX_BATCH:
        raise BodyInvalid(f"a batch holds at most {MAX_BATCH} events, not {len(shape)}", "")
    return [_decode_one(bytes(raw), f"/{i}") for i, raw in enumerate(shape)], True


def parse_if_match(header: str | None) -> dict[str, int]:
    """``If-Match: "a:3", "b:0"`` -> ``{"a": 3, "b": 0}``."""
    if header is None:
        return {}
    expected: dict[str, int] = {}
    for item in header.split(","):
        match = _IF_MATCH_ITEM.match(item.strip())
        if match is None:
            raise HeaderInvalid(
                f"If-Match takes one or more comma-separated {IF_MATCH_FORMAT} values, "
                'e.g. "frimley-health-and-care:4"',
                "If-Match",
            )
        subject = match.group("subject")
        if subject in expected:
            raise HeaderInvalid(f"If-Match names {subject!r} twice", "If-Match")
        expected[subject] = int(match.group("version"))
    return expected


def request_digest(events: list[Event], batch: bool, expected: dict[str, int]) -> str:
    """sha256 of the canonical request: decoded events re-encoded with sorted keys, plus the preconditions."""
    payload = msgspec.json.encode(
        {"events": events if batch else events[0], "if_match": expected}, order="sorted"
    )
    return hashlib.sha256(payload).hexdigest()
