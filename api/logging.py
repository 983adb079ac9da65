"""Structured logs: one JSON object per line, each tagged with the request it belongs to.

* :func:`request_context` is ASGI middleware placed outermost (around Litestar's
  whole handler, so 404s, 405s and CORS refusals are seen too). It takes the
  client's ``X-Request-ID`` if it is short and made of safe characters
  (:data:`REQUEST_ID`), otherwise generates one, echoes it in the response's
  ``X-Request-ID`` header, holds it in a context variable for every log line
  emitted while the request is handled (worker threads included: anyio copies
  the context), and logs one access line per request: method, path (never the
  query string), status and duration in milliseconds.
* :func:`log_config` is the ``logging.config.dictConfig`` for the server
  (uvicorn's own loggers included); :func:`configure_logging` applies it.
  uvicorn's access log is switched off: the access line above replaces it,
  without the query string and with the request id.
* Nothing logs headers. As a second line of defence the formatter masks
  anything shaped like a bearer credential (``Bearer <token>``,
  ``Authorization: ...``) before a line is written.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import logging.config
import re
import time
import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

#: Accepted incoming request ids: 1..64 characters from a safe set (no spaces, quotes or control characters).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = "x-request-id"
ACCESS_LOGGER = "evolve.access"
#: Longest path written to an access line (a hostile client may send megabytes of path).
MAX_LOGGED_PATH = 512

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("evolve_request_id", default=None)
access_log = logging.getLogger(ACCESS_LOGGER)

_SECRET = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?|bearer\s+)[^\s\"',;]+"
)


def current_request_id() -> str | None:
    """The id of the request being handled in this context (None outside a request)."""
    return _request_id.get()


def accepted_request_id(raw: bytes | None) -> str:
    """The client's ``X-Request-ID`` if it is acceptable, else a fresh one."""
    if raw is not None:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if REQUEST_ID.match(text):
            return text
    return uuid.uuid4().hex


def redact(text: str) -> str:
    """Mask bearer credentials in a log message."""
    return _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


#: LogRecord attributes that are not extras (uvicorn's `color_message` is its message with ANSI colours).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, ``request_id``, extras, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text)
        return json.dumps(entry, default=str, ensure_ascii=False)


def request_context(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: request id in, request id out, one access line per HTTP request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = accepted_request_id(raw)
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders(message)[HEADER] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            path = scope.get("path", "")
            access_log.info(
                "%s %s %s",
                scope.get("method", ""),
                path[:MAX_LOGGED_PATH],
                status,
                extra={
                    "method": scope.get("method", ""),
                    "path": path[:MAX_LOGGED_PATH],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            _request_id.reset(token)

    return middleware


def log_config(level: str = "INFO") -> dict[str, Any]:
    """dictConfig for the server: JSON lines on stderr; uvicorn's errors kept, its access log off."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Replaced by evolve.access (no query string, with the request id).
            "uvicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            "litestar": {"level": level, "handlers": [], "propagate": True},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Apply :func:`log_config` to this process."""
    logging.config.dictConfig(log_config(level))
