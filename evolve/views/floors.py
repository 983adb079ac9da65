"""A transaction's cache of each organisation's stored rows from a floor day on.

A refold reads an organisation's rows from the day its change begins; a later refold in the same
transaction may begin earlier. The cache then reads only the rows below its floor: those above it
were read already, and the transaction changes only rows it has read (through the list the cache
hands out), so what it holds stays what storage plus this transaction's changes hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

_T = TypeVar("_T")


class FloorCache(Generic[_T]):
    """`org` -> (floor, rows): every stored row of `org` from `floor` on; rows read by extending the
    floor downwards go before those held (for rows kept by date, the order stays by date)."""

    def __init__(self, read: Callable[[str, dt.date, dt.date | None], list[_T]]) -> None:
        self._read = read
        self._held: dict[str, tuple[dt.date, list[_T]]] = {}

    def __contains__(self, org: object) -> bool:
        return org in self._held

    def rows(self, org: str, day: dt.date) -> list[_T]:
        """The cached list (callers may change it in place) of `org`'s rows, holding at least those
        from `day` on; extending it downwards reads just the rows below the old floor."""
        held = self._held.get(org)
        if held is not None and held[0] <= day:
            return held[1]
        rows = self._read(org, day, held[0] if held is not None else None)
        if held is not None:
            rows += held[1]
        self._held[org] = (day, rows)
        return rows

    def held(self, org: str) -> list[_T]:
        """The cached list of `org`'s rows, from whatever floor they were read (`org` must be held)."""
        return self._held[org][1]

    def fill(self, floors: Mapping[str, dt.date], found: Mapping[str, list[_T]]) -> None:
        """Take rows read in bulk elsewhere: `found[org]` is every row of `org` from `floors[org]` on."""
        self._held.update((org, (day, found[org])) for org, day in floors.items())

    def keep(self, org: str, wanted: Callable[[_T], bool]) -> None:
        """Drop the cached rows of `org` that are not `wanted` (storage dropped them too)."""
        held = self._held.get(org)
        if held is not None:
            self._held[org] = (held[0], [row for row in held[1] if wanted(row)])
