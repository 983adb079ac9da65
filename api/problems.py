"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every error the API returns is ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and ``instance``, plus an extension where it
helps a client fix the request: ``pointer`` (a JSON pointer into the body),
``parameter`` (a query, path or header parameter name), ``errors`` (the
parameter faults Litestar found) or ``subject``/``expected``/``actual`` for a
failed precondition. Domain errors (:mod:`evolve.errors`), Litestar's HTTP
exceptions and anything unexpected all go through :func:`to_problem`; an
unexpected error is a 500 whose detail never leaks internals.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from api.bodies import BodyInvalid, HeaderInvalid, UnsupportedMediaType
from api.strict import UnknownParameter
from evolve.errors import (
    ConflictError,
    EvolveError,
    IdempotencyKeyReused,
    InvalidEvent,
    InvalidQuery,
    NotFound,
    StoreFull,
    StoreUnavailable,
    UnknownSubject,
)
from evolve.outage import classify as outage_of

MEDIA_TYPE = "application/problem+json"
#: Seconds a client should wait before retrying while the store is unavailable.
RETRY_AFTER = "1"


class Outages:
    """One warning per outage, not a traceback per request: the first failure after a quiet spell
    of :data:`QUIET_S` seconds is logged; the rest are counted into the next warning."""

    QUIET_S = 30.0

    def __init__(self) -> None:
        self._last = -self.QUIET_S
        self._missed = 0
        self._lock = threading.Lock()

    def seen(self, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.QUIET_S:
                self._missed += 1
                self._last = now
                return
            missed, self._missed, self._last = self._missed, 0, now
        log.warning("store unavailable: %s%s", reason, f" ({missed} more requests refused before)" if missed else "")


OUTAGES = Outages()
TYPE_BASE = "urn:evolve:problem:"
log = logging.getLogger("evolve.api")


class ParameterError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One fault in a request parameter or body field."""

    message: str
    key: str | None = None
    source: str | None = None


class _Problem(ProblemDetailsException):
    """A problem detail rendered as :class:`Problem`, with ``instance`` set to the request path."""

    def to_response(self, request: Request[Any, Any, Any]) -> Response[Any]:
        body = Problem(
            type=self.type_ or "about:blank",
            title=self.title or "Error",
            status=self.status_code,
            detail=self.detail or None,
            instance=request.url.path,
            **(self.extra if isinstance(self.extra, dict) else {}),
        )
        headers = {**(self.headers or {}), "Cache-Control": "no-store"}
        return Response(body, status_code=self.status_code, media_type=MEDIA_TYPE, headers=headers)


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem detail (``application/problem+json``)."""

    type: str = msgspec.field(default="about:blank")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    errors: list[ParameterError] | None = None
    subject: str | None = None
    expected: int | None = None
    actual: int | None = None
    accepted: list[str] | None = None


def _problem(
    status: int, slug: str, title: str, detail: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> ProblemDetailsException:
    return _Problem(
        type_=f"{TYPE_BASE}{slug}",
        title=title,
        status_code=status,
        detail=detail or title,
        headers=headers,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _from_domain(exc: EvolveError) -> ProblemDetailsException:
    match exc:
        case UnknownParameter():
            return _problem(
                400, "unknown-parameter", "Unknown query parameter", str(exc), parameter=exc.parameter,
                accepted=exc.accepted,
            )
        case InvalidQuery():
            return _problem(400, "invalid-parameter", "Invalid query parameter", str(exc), parameter=exc.parameter)
        case BodyInvalid(status=400):
            return _problem(400, "malformed-body", "Malformed request body", str(exc), pointer=exc.pointer)
        case BodyInvalid():
            return _problem(422, "invalid-event", "Invalid event", str(exc), pointer=exc.pointer)
        case UnknownSubject():
            return _problem(409, "unknown-subject", "Event refers to an unknown subject", str(exc), pointer=exc.pointer)
        case InvalidEvent():
            # Raised by the store after decoding: the event clashes with what the log holds.
            return _problem(
                409, "event-conflicts-with-log", "Event conflicts with the log", str(exc), pointer=exc.pointer
            )
        case IdempotencyKeyReused():
            return _problem(409, "idempotency-key-reused", "Idempotency-Key reused", str(exc))
        case ConflictError(subject=str()):
            return _problem(
                412,
                "precondition-failed",
                "Subject version does not match If-Match",
                str(exc),
                subject=exc.subject,
                expected=exc.expected,
                actual=exc.actual,
            )
        case ConflictError():
            return _problem(409, "write-conflict", "Write conflict", str(exc))
        case NotFound():
            return _problem(404, "not-found", "Not found", str(exc))
        case UnsupportedMediaType():
            return _problem(415, "unsupported-media-type", "Unsupported media type", str(exc))
        case HeaderInvalid():
            return _problem(400, "invalid-header", "Invalid header", str(exc), parameter=exc.header)
        case StoreUnavailable():
            OUTAGES.seen(str(exc))
            detail = f"{exc.public or 'the database cannot be reached'}; retry later"
            return _problem(503, "store-unavailable", "Store unavailable", detail, {"Retry-After": RETRY_AFTER})
        case StoreFull():
            OUTAGES.seen(str(exc))
            return _problem(507, "store-full", "Store full", "no room for the write; nothing was written")
    return _problem(400, "bad-request", "Bad request", str(exc))


def _from_http(exc: HTTPException) -> ProblemDetailsException:
    headers = dict(exc.headers or {})
    match exc:
        case ValidationException():
            errors = [_parameter_error(e) for e in exc.extra] if isinstance(exc.extra, list) else []
            detail = "; ".join(f"{e.key}: {e.message}" if e.key else e.message for e in errors) or str(exc.detail)
            return _problem(400, "invalid-parameter", "Invalid request parameter", detail, headers, errors=errors)
        case NotAuthorizedException():
            headers.setdefault("WWW-Authenticate", 'Bearer realm="evolve"')
            return _problem(401, "unauthorized", "Authentication required", exc.detail, headers)
        case PermissionDeniedException():
            headers.setdefault("WWW-Authenticate", 'Bearer realm="evolve", error="invalid_token"')
            return _problem(403, "forbidden", "Forbidden", exc.detail, headers)
        case NotFoundException():
            return _problem(404, "not-found", "Not found", "no such resource", headers)
        case MethodNotAllowedException():
            return _problem(405, "method-not-allowed", "Method not allowed", exc.detail, headers)
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        return _problem(
            413, "payload-too-large", "Payload too large", "the request body exceeds the size limit", headers
        )
    if exc.status_code >= 500:
        log.error("server error %s: %s", exc.status_code, exc.detail)
        return _problem(exc.status_code, "server-error", "Server error", "an unexpected error occurred", headers)
    slug = re.sub(r"[^a-z0-9]+", "-", str(exc.detail).lower()).strip("-") or "error"
    return _problem(exc.status_code, slug, str(exc.detail), headers=headers)


def _parameter_error(raw: Any) -> ParameterError:
    if not isinstance(raw, dict):
        return ParameterError(message=str(raw))
    key, source = raw.get("key"), raw.get("source")
    return ParameterError(
        message=str(raw.get("message", "invalid value")),
        # Python names of renamed parameters (`type_`, `from_`) back to their public names.
        key=_PUBLIC_NAMES.get(str(key), str(key)) if key is not None else None,
        source=str(getattr(source, "value", source)) if source is not None else None,
    )


_PUBLIC_NAMES = {"type_": "type", "from_": "from", "org_id": "id", "policy_id": "id", "event_id": "id",
                 "idempotency_key": "Idempotency-Key"}


def _from_unexpected(exc: Exception) -> ProblemDetailsException:
    log.exception("unexpected error", exc_info=exc)
    return _problem(500, "server-error", "Server error", "an unexpected error occurred")


def to_problem(exc: Exception) -> ProblemDetailsException:
    """The single mapping from any exception to a problem detail."""
    if isinstance(exc, _Problem):
        return exc
    if isinstance(exc, EvolveError):
        return _from_domain(exc)
    outage = outage_of(exc)  # a database error that means "not there now" (or "full"), not a bug
    if outage is not None:
        return _from_domain(outage)
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):
        # msgspec gives up on JSON nested deeper than it recurses (e.g. 10 000 `[`): the client's fault, not a 500.
        return _problem(400, "malformed-body", "Malformed request body", "the JSON body is nested too deeply")
    return _from_unexpected(exc)


def plugin() -> ProblemDetailsPlugin:
    """Litestar's problem-details plugin, with every error class routed through :func:`to_problem`."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                EvolveError: to_problem,
                HTTPException: to_problem,
                Exception: to_problem,
            },
        )
    )


_DESCRIPTIONS = {
    400: "Bad request: a malformed or unknown query parameter, header or JSON body (`parameter`/`errors` say which; "
    "for an unknown parameter `accepted` lists the ones the operation takes).",
    401: "No bearer token, or a malformed `Authorization` header.",
    403: "The bearer token is not the API's write token.",
    404: "No such resource (or the organisation did not exist on `as_of`).",
    409: "Conflict: the event clashes with the log (unknown subject, id already used), "
    "an `Idempotency-Key` was reused for another request, or the store gave up on a write conflict.",
    412: "An `If-Match` precondition did not hold (`subject`, `expected`, `actual` say which).",
    413: "The request body is larger than the limit.",
    415: "The request body is not `application/json`.",
    422: "The body is JSON but not a valid event or batch (`pointer` locates the fault, e.g. `/2/scope`).",
    503: "The database cannot be reached (stopped, restarting, or locked past the busy timeout): retry after "
    "`Retry-After` seconds.",
    507: "The database has no room for the write; nothing was written.",
}


def responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries for the given problem statuses."""
    return {
        code: ResponseSpec(
            data_container=Problem, description=_DESCRIPTIONS[code], media_type=MEDIA_TYPE, generate_examples=False
        )
        for code in codes
    }
