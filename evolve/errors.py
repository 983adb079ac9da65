"""Domain errors: one hierarchy, so every entry point maps them the same way."""

from __future__ import annotations


class EvolveError(Exception):
    """Base of every error evolve raises on purpose; its message is for users."""


class InvalidEvent(EvolveError):
    """An event (or batch) breaks a rule; nothing was appended.

    `pointer` locates the fault (a JSON pointer such as ``/2/scope``) when known.
    """

    def __init__(self, message: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.pointer = pointer


class InvalidQuery(EvolveError):
    """A query parameter is out of range or malformed (e.g. a forged cursor).

    `parameter` names it (``cursor``, ``known_at``) so a client knows what to fix.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class UnknownSubject(InvalidEvent):
    """An event names an organisation, policy or event the log has never recorded."""


class ConflictError(EvolveError):
    """The log changed under the writer: an expected subject version did not hold."""

    def __init__(
        self, message: str, subject: str | None = None, expected: int | None = None, actual: int | None = None
    ):
        super().__init__(message)
        self.subject = subject
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(ConflictError):
    """An idempotency key came back with a different request than the one it first carried."""


class NotFound(EvolveError):
    """No such organisation, event or policy (at the requested time)."""


class StoreUnavailable(EvolveError):
    """The database cannot be reached or opened (or is locked past the busy timeout): retry later.

    The message holds the database's own reason (for the log and the CLI); `public` is what a client
    of the API may be told (it names no host, user or internal)."""

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public


class StoreFull(EvolveError):
    """The database has no room for the write (disk or size limit full); nothing was written."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name if it has none): a driver's reason
    without its multi-line context, for one-line errors."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
