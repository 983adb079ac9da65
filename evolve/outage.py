"""Telling a store outage from a bug: which database errors mean "the database is not there now".

An operator stopping PostgreSQL, a killed connection, a lock held past the busy timeout, a full disk:
these are expected operations, and the answer is an honest "unavailable, retry" (or "full"), fast and
without a traceback, not a 500 and not a retry loop that hangs the client. The store and the API ask
this module; it only inspects exceptions (and their causes), so it knows no HTTP.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
from psycopg_pool import PoolTimeout

from evolve.errors import StoreFull, StoreUnavailable, first_line

#: SQLSTATE classes and codes of a connection that is gone or never came (08: connection exception;
#: 57P01..03: the server is shutting down or starting; 57014: our statement timeout cancelled it).
_GONE_CLASSES = ("08",)
_SERVER_GONE_CODES = {"57P01", "57P02", "57P03"}
_GONE_CODES = _SERVER_GONE_CODES | {"57014", "53300"}
_FULL_CODES = {"53100"}
_SQLITE_GONE = ("database is locked", "unable to open database", "disk i/o error")
_SQLITE_FULL = ("database or disk is full",)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _gone(code: str, codes: set[str]) -> bool:
    """No SQLSTATE (the client lost or never got a connection), a connection exception, or one of `codes`."""
    return not code or code.startswith(_GONE_CLASSES) or code in codes


def classify(exc: BaseException) -> StoreUnavailable | StoreFull | None:
    """The outage `exc` shows (as evolve's own error, keeping the database's one-line reason), or None."""
    for cause in _chain(exc):
        if isinstance(cause, (StoreUnavailable, StoreFull)):
            return cause
        if isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError)):
            code = cause.sqlstate or ""  # none: the client lost or never got a connection (a pool timeout)
            if code in _FULL_CODES:
                return StoreFull(f"the database is full: {first_line(cause)}")
            if _gone(code, _GONE_CODES):
                return StoreUnavailable(f"the database cannot be reached: {first_line(cause)}")
        if isinstance(cause, sqlite3.OperationalError):
            text = str(cause).lower()
            if text.startswith(_SQLITE_FULL):
                return StoreFull(f"the database is full: {first_line(cause)}")
            if text.startswith(_SQLITE_GONE):
                return StoreUnavailable(f"the database is not available: {first_line(cause)}")
    return None


def connection_broke(exc: BaseException) -> bool:
    """True if `exc` shows a connection that was handed out and then broke (the server closed it, or
    went away under it): worth one more try on a fresh connection. Not a pool timeout (the pool has
    already waited) and not a cancelled statement (it would only be slow again)."""
    for cause in _chain(exc):
        if isinstance(cause, PoolTimeout):
            return False
        if isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError)):
            return _gone(cause.sqlstate or "", _SERVER_GONE_CODES)
    return False
