"""Liveness: is the store reachable, and is the projection up to date?"""

from __future__ import annotations

from litestar import Controller, get

from api import problems
from api.parameters import System
from api.schemas import Health


class HealthController(Controller):
    path = "/health"
    tags = ["Health"]

    @get(operation_id="GetHealth", summary="Service health", sync_to_thread=True,
         responses=problems.responses(400, 503))
    def health(self, system: System) -> Health:
        """`status` is `ok` when the database answers; `position` is the log head (0 for an empty log).

        503 (problem) when the database cannot be reached."""
        return Health(status="ok", position=system.position())
