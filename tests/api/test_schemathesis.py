"""Property-based conformance: schemathesis over every operation of the app's schema, with all checks.

The schema is the app's own (identical to the committed openapi.yaml, see
test_openapi_sync.py). Requests go to an app holding the curated history (per
backend), so GETs hit real ids; POST /events is fuzzed with the valid write
token (the `ignored_auth` check also sends it without). Examples per
operation are capped to keep the run short on 2 cores.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar

from api.openapi import document as openapi_document
from evolve.catalogue import Event
from evolve.cursors import decode_cursor
from evolve.errors import InvalidQuery
from evolve.series import Step, points
from tests.api.conftest import AUTH, schema_app

#: Hypothesis examples per operation (on top of schemathesis' explicit and coverage cases); raise it for a deeper
#: local run, e.g. EVOLVE_API_FUZZ_EXAMPLES=300.
MAX_EXAMPLES = int(os.environ.get("EVOLVE_API_FUZZ_EXAMPLES", "40"))
#: Requests sent per operation, reported at the end of the module (run pytest with -s to see it).
SENT: Counter[str] = Counter()


class _CurrentApp:
    """The ASGI app under test, swapped per backend by a fixture (the schema is loaded once, at import)."""

    app: Litestar | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the curated_app fixture did not run"
        await self.app(scope, receive, send)


CURRENT = _CurrentApp()
schema = schemathesis.openapi.from_dict(openapi_document(schema_app()))
schema.app = CURRENT




_LISTINGS = {"/organisations": "organisations", "/events": "events", "/policies": "policies"}


def _too_many_points(query: dict[str, Any]) -> bool:
    """A series whose `from`..`to` at `step` has more points than the bound (a 400 by design)."""
    try:
        points(dt.date.fromisoformat(query["from"]), dt.date.fromisoformat(query["to"]), Step(query["step"]))
    except (KeyError, TypeError, ValueError):
        return False  # not this rule: the schema already refuses it, or it is valid
    except InvalidQuery:
        return True
    return False


def _beyond_the_schema(case: schemathesis.Case) -> bool:
    """Schema-valid requests that are invalid for reasons JSON Schema cannot state.

    A cursor is opaque: only the ones the app issued are valid. `from` must not be after `to`, and a
    series has at most 1,000 points. Some
    catalogue rules compare sibling fields (`into` is not one of `merged`; a system is not its own
    member; a financial year's two parts). And JSON Schema's `integer` admits `1.0`, which evolve
    refuses on purpose (money is never a float; the catalogue has no float field). The app must reject
    these with a problem; they are not held to `positive_data_acceptance`."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return False
    query = case.query or {}
    if isinstance(query.get("from"), str) and isinstance(query.get("to"), str) and query["from"] > query["to"]:
        return True
    if case.path == "/stats/series" and _too_many_points(query):
        return True
    if _has_float(case.body):
        return True
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and case.path in _LISTINGS:
        try:
            decode_cursor(_LISTINGS[case.path], cursor)
        except InvalidQuery:
            return True
    events = case.body if isinstance(case.body, list) else [case.body]
    return any(_sibling_rule_broken(e) for e in events)


def _has_float(node: Any) -> bool:
    if isinstance(node, float):
        return True
    if isinstance(node, dict):
        return any(_has_float(v) for v in node.values())
    return isinstance(node, list) and any(_has_float(v) for v in node)


def _sibling_rule_broken(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    try:
        msgspec.convert(event, Event)
    except msgspec.ValidationError as exc:
        # The catalogue's own cross-field rules (`__post_init__`: `into` among `merged`, a system its own
        # member, `2017/19`); msgspec's messages for what JSON Schema states begin with its own words.
        return not str(exc).startswith(MSGSPEC_OWN)
    return False


MSGSPEC_OWN = ("Expected", "Object missing", "Object contains unknown field", "Invalid enum value", "Invalid value")


@pytest.fixture(autouse=True)
def _route_to_curated_app(curated_app: Litestar) -> None:
    CURRENT.app = curated_app


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {len(SENT)} operations, {SENT.total()} cases", file=sys.stderr)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    SENT[case.operation.label] += 1
    if _beyond_the_schema(case):
        response = case.call(headers=AUTH)
        assert response.status_code in (400, 422), response.text
        assert "application/problem+json" in str(response.headers.get("content-type"))
        return
    case.call_and_validate(headers=AUTH)
