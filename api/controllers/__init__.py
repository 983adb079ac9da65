"""One Litestar Controller per feature; handlers only parse, call evolve and return Structs."""

from __future__ import annotations

from api.controllers.events import EventController
from api.controllers.health import HealthController
from api.controllers.organisations import OrganisationController
from api.controllers.policies import PolicyController
from api.controllers.stats import StatsController

CONTROLLERS = [OrganisationController, StatsController, EventController, PolicyController, HealthController]

__all__ = ["CONTROLLERS"]
