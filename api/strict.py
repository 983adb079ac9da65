"""Strict query parameters: a typo must not silently change the answer.

``GET /organisations?asof=2017-01-01`` would otherwise answer for today with a 200. Every operation
accepts exactly the query parameters its OpenAPI entry documents (the contract is the one list, so
the check cannot drift from the docs); any other is a 400 problem naming it and listing the accepted
ones.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request

from evolve.errors import InvalidQuery

#: (path template, method) -> the query parameters that operation documents.
Accepted = dict[tuple[str, str], tuple[str, ...]]


class UnknownParameter(InvalidQuery):
    """The request names a query parameter its operation does not take."""

    def __init__(self, parameter: str, accepted: tuple[str, ...]) -> None:
        listed = ", ".join(f"`{a}`" for a in accepted) or "none"
        super().__init__(f"unknown query parameter `{parameter}`; this operation accepts: {listed}", parameter)
        self.accepted = list(accepted)


def accepted(spec: dict[str, Any]) -> Accepted:
    """The query parameters of every operation of the OpenAPI document `spec`."""
    out: Accepted = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            out[(path, method.upper())] = tuple(sorted(names))
    return out


def install(app: Litestar, spec: dict[str, Any]) -> None:
    """Give :func:`refuse_unknown` the operations of `app`'s finished OpenAPI document."""
    app.state.accepted_parameters = accepted(spec)


async def refuse_unknown(request: Request[Any, Any, Any]) -> None:
    """The app's ``before_request`` hook: a 400 problem for a query parameter the operation lacks."""
    table: Accepted = request.app.state.get("accepted_parameters", {})
    method = "GET" if request.method == "HEAD" else request.method
    allowed = table.get((request.scope.get("path_template", ""), method))
    if allowed is None:  # not a documented operation (docs pages, static files)
        return
    for name in request.query_params:
        if name not in allowed:
            raise UnknownParameter(name, allowed)
