"""The projection's scenarios on the plain-object view: no database, so they run in milliseconds
(the same scenarios run on SQLite and PostgreSQL in tests/integration/test_projection_views.py)."""

from __future__ import annotations

import pytest

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from tests.projection_scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario_in_memory(scenario: Scenario) -> None:
    system = Evolve(Settings(database_url="memory://"))
    try:
        scenario(system)
    finally:
        system.close()
