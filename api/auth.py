"""Bearer-token authentication for writes (reads are public).

The write token is held by the app (``app.state.write_token``) and compared in
constant time. Neither the expected nor the presented token ever appears in a
response body or a log line.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme

SCHEME = "bearerAuth"
#: The OpenAPI security requirement for a write operation.
SECURITY: list[dict[str, list[str]]] = [{SCHEME: []}]
COMPONENTS = Components(
    security_schemes={
        SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="The API's write token (`EVOLVE_API_TOKEN`). Only writes need it; reads are public.",
        )
    }
)
_CHALLENGE = 'Bearer realm="evolve"'


def presented_token(header: str | None) -> str:
    """The token in an ``Authorization: Bearer <token>`` header; 401 if absent or malformed."""
    if not header:
        raise NotAuthorizedException(
            "this operation needs `Authorization: Bearer <token>`", headers={"WWW-Authenticate": _CHALLENGE}
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise NotAuthorizedException(
            "malformed Authorization header: expected `Bearer <token>`",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_request"'},
        )
    return token


def require_write_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Route guard: the request must carry the app's write token."""
    token = presented_token(connection.headers.get("authorization"))
    expected: str = connection.app.state.write_token
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise PermissionDeniedException(
            "the bearer token is not valid for writes",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
