"""Liveness: is the store reachable, and is the projection up to date?"""

from __future__ import annotations

from litestar import Controller, get

from api import problems
from api.parameters import System
from evolve.bootstrap import Health


class HealthController(Controller):
    path = "/health"
    tags = ["Health"]

    @get(operation_id="GetHealth", summary="Service health", sync_to_thread=True,
         responses=problems.responses(400, 503))
    def health(self, system: System) -> Health:
        """`status` is `ok` when the database answers; `position` is the log head (0 for an empty log).

        503 (problem, with `Retry-After`) when the log store or the view cannot be reached; the detail
        names which."""
        return system.health()
