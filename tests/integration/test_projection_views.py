"""The projection's scenarios (tests/projection_scenarios.py) on the SQL views."""

from __future__ import annotations

import pytest

from evolve.bootstrap import Evolve
from tests.projection_scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario_on_sql(scenario: Scenario, system: Evolve) -> None:
    scenario(system)
