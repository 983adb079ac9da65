"""One Litestar Controller per feature; handlers only parse, call evolve and return Structs."""

from __future__ import annotations

from litestar import Controller, Router

from api.controllers.diff import DiffController
from api.controllers.events import EventController, EventCsvController
from api.controllers.health import HealthController
from api.controllers.organisations import OrganisationController, OrganisationCsvController
from api.controllers.policies import PolicyController
from api.controllers.stats import StatsController
from api.controllers.stream import StreamController
from api.controllers.timeline import TimelineController, static_files

CONTROLLERS: list[type[Controller] | Router] = [
    OrganisationController,
    OrganisationCsvController,
    DiffController,
    StatsController,
    EventController,
    EventCsvController,
    StreamController,
    PolicyController,
    HealthController,
    TimelineController,
    static_files,
]

__all__ = ["CONTROLLERS"]
