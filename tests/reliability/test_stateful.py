"""Schemathesis stateful testing: sequences of calls that follow links from `POST /events` (and `GET /events`) to
`GET /events/{event_id}`, so appended events are read back by the id the reply gave.

Our OpenAPI document declares no links (Litestar does not generate them), so the links are added to a copy of
the document here: 201 of AppendEvents -> GetEvent with `$response.body#/id` (a single event) and
`$response.body#/items/0/id` (a batch); 200 of ListEvents -> GetEvent with `$response.body#/items/0/id`. Each
step is checked with schemathesis' checks (all but positive_data_acceptance, see validate_response); at the
end the log verifies. EVOLVE_TEST_STATEFUL_STEPS sets the budget (hypothesis max_examples, default 15).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import positive_data_acceptance

from api.app import create_app
from api.openapi import document as openapi_document
from evolve.bootstrap import Evolve
from evolve.settings import Settings
from tests.conftest import Databases
from tests.live_server import AUTH, TOKEN
from tests.reliability.support import CURATED, report

EXAMPLES = int(os.environ.get("EVOLVE_TEST_STATEFUL_STEPS", "15"))


def linked_document(app: Any) -> dict[str, Any]:
    document = copy.deepcopy(openapi_document(app))
    get_event = {"operationId": "GetEvent"}
    append = document["paths"]["/events"]["post"]["responses"]["201"]
    append["links"] = {
        "GetAppendedEvent": {**get_event, "parameters": {"event_id": "$response.body#/id"}},
        "GetFirstOfBatch": {**get_event, "parameters": {"event_id": "$response.body#/items/0/id"}},
    }
    listing = document["paths"]["/events"]["get"]["responses"]["200"]
    listing["links"] = {"GetListedEvent": {**get_event, "parameters": {"event_id": "$response.body#/items/0/id"}}}
    return document


@pytest.fixture(scope="module")
def stateful_system(databases: Databases) -> Iterator[Evolve]:
    system = Evolve(Settings(database_url=databases.url()))
    system.import_files(CURATED)
    system.project_on_append = True
    yield system
    system.close()


def test_stateful_append_then_read(stateful_system: Evolve) -> None:
    app = create_app(stateful_system, token=TOKEN)
    schema = schemathesis.openapi.from_dict(linked_document(app))
    schema.app = app
    machine = schema.as_state_machine()
    calls: list[str] = []

    class Linked(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": AUTH}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            calls.append(f"{case.method} {case.path} {response.status_code}")

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Every check but positive_data_acceptance: schema-valid requests that are invalid for reasons JSON
            # Schema cannot state (forged cursors, `from` after `to`, ...) are told apart in
            # tests/api/test_schemathesis.py; here a rejection only has to be a problem detail.
            case.validate_response(response, excluded_checks=[positive_data_acceptance], transport_kwargs=kwargs)
            if 400 <= response.status_code < 500:
                assert response.headers["content-type"][0].startswith("application/problem+json")

    before = stateful_system.store.position()
    run_state_machine_as_test(
        Linked,
        settings=settings(
            max_examples=EXAMPLES, deadline=None, stateful_step_count=6, suppress_health_check=list(HealthCheck)
        ),
    )
    followed = [c for c in calls if c.startswith("GET /events/{event_id}")]
    assert stateful_system.store.verify().broken_at is None
    report(
        f"stateful[{stateful_system.settings.backend}]: {len(calls)} calls in linked sequences, "
        f"{len(followed)} GET /events/{{id}} by link, {stateful_system.store.position() - before} events appended, "
        f"verify ok"
    )
