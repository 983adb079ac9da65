"""Counts of organisations by stage, kind and flag on a date."""

from __future__ import annotations

from litestar import Controller, get

from api import problems
from api.parameters import AsOf, KnownAt, System, moment
from evolve.answers import Stats


class StatsController(Controller):
    path = "/stats"
    tags = ["Statistics"]

    @get(operation_id="GetStats", summary="Counts by stage, kind and flag", sync_to_thread=True,
         responses=problems.responses(400))
    def get_stats(self, system: System, as_of: AsOf = None, known_at: KnownAt = None) -> Stats:
        """How many organisations existed on `as_of` (as known at `known_at`): health systems by stage, every
        organisation by kind, and how many carry each flag (e.g. `capped_expenditure`)."""
        return system.queries.stats(as_of, moment(known_at))
