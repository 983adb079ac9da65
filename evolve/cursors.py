"""Opaque cursors for paginated listings: what a page hands back to fetch the next one.

A cursor is base64 of ``{"k": listing, "a": the last item's key}``. It is checked on the way
back in: a cursor of another listing, or one this API could not have issued, is an error.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

import msgspec

from evolve.errors import InvalidQuery
from evolve.types import SLUG_PATTERN

Listing = Literal["organisations", "events", "policies"]


class _Cursor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    k: Listing
    a: str | int


def encode_cursor(kind: Listing, after: str | int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_Cursor(kind, after))).decode().rstrip("=")


def decode_cursor(kind: Listing, cursor: str | None) -> str | int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidQuery("`cursor` is not a cursor this API issued", "cursor") from None
    if decoded.k != kind:
        raise InvalidQuery("`cursor` belongs to another listing", "cursor")
    # A well-formed cursor can still be forged: its value must be one this API could have issued.
    after = decoded.a
    if kind == "events":
        valid = isinstance(after, int) and not isinstance(after, bool) and 0 <= after < 2**62
    else:
        valid = isinstance(after, str) and re.fullmatch(SLUG_PATTERN, after) is not None
    if not valid:
        raise InvalidQuery("`cursor` is not a cursor this API issued", "cursor")
    return after
