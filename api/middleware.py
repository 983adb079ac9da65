"""ASGI middleware: conditional GETs and a correct ``Allow`` on OPTIONS.

Conditional GETs: a strong ``ETag`` (hash of the body) and ``If-None-Match`` -> 304.
Streamed responses (no ``Content-Length``: the event stream, CSV) are passed through as they come.
The middleware buffers the body of a successful GET, hashes it and sets
``ETag`` plus ``Cache-Control: no-cache`` (clients may cache but revalidate);
when the request's ``If-None-Match`` names that tag the body is dropped and
the status becomes 304 Not Modified.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, tag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


def etag_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or cast("dict[str, Any]", scope)["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        if_none_match = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None
        )
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                # Streamed bodies (no Content-Length: SSE, CSV) pass through unbuffered, without an ETag.
                streamed = not any(k.lower() == b"content-length" for k, _ in message.get("headers", []))
                if message["status"] != 200 or streamed:
                    start["passthrough"] = True
                    await send(message)
                return
            if start.get("passthrough") or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            tag = etag_for(body)
            headers = MutableScopeHeaders(cast("Any", start))
            headers["etag"] = tag
            if "cache-control" not in headers:
                headers["cache-control"] = "no-cache"
            if if_none_match is not None and _matches(if_none_match, tag):
                start["status"] = 304
                del headers["content-length"]
                del headers["content-type"]
                body = b""
            await send({"type": "http.response.start", "status": start["status"], "headers": start["headers"]})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, buffered)

    return middleware


def allow_middleware(app: ASGIApp) -> ASGIApp:
    """List every method of the path in ``Allow`` on OPTIONS.

    Litestar's automatic OPTIONS handler is bound to the first route built for
    a path, so for ``/events`` (GET and POST) it would list only one of them.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or cast("dict[str, Any]", scope)["method"] != "OPTIONS":
            await app(scope, receive, send)
            return
        methods = scope["app"].route_handler_method_map.get(scope.get("path_template", ""), {})

        async def fixed(message: Message) -> None:
            if message["type"] == "http.response.start" and methods:
                headers = MutableScopeHeaders(message)
                if "allow" in headers:
                    headers["allow"] = ", ".join(sorted(methods))
            await send(message)

        await app(scope, receive, fixed)

    return middleware
