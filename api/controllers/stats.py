"""Counts of organisations by stage, kind and flag on a date, and as a series over time."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from api import csv_responses, problems
from api.parameters import AsOf, KnownAt, SeriesFrom, SeriesStep, SeriesTo, System, moment
from evolve.answers import Series, Stats
from evolve.export import SERIES_COLUMNS, series_row


class StatsController(Controller):
    path = "/stats"
    tags = ["Statistics"]

    @get(operation_id="GetStats", summary="Counts by stage, kind and flag", sync_to_thread=True,
         responses=problems.responses(400))
    def get_stats(self, system: System, as_of: AsOf = None, known_at: KnownAt = None) -> Stats:
        """How many organisations existed on `as_of` (as known at `known_at`): health systems by stage, every
        organisation by kind, and how many carry each flag (e.g. `capped_expenditure`)."""
        return system.queries.stats(as_of, moment(known_at))

    @get(
        "/series",
        operation_id="GetStatsSeries",
        summary="Counts by stage, kind and flag over time",
        sync_to_thread=True,
        responses=problems.responses(400),
        operation_class=csv_responses.with_csv(SERIES_COLUMNS),
    )
    def get_series(
        self,
        request: Request[Any, Any, Any],
        system: System,
        start: SeriesFrom,
        to: SeriesTo,
        step: SeriesStep,
        known_at: KnownAt = None,
    ) -> Response[Series]:
        """The counts of `GET /stats` on `from`, then every `step` (the same day of each month, quarter or
        year) up to `to`, all as known at one `known_at`: the data of a chart of how the system evolved."""
        series = system.queries.series(start, to, step, moment(known_at))
        if csv_responses.wants_csv(request):
            rows = (series_row(point) for point in series.items)
            return csv_responses.csv_stream(SERIES_COLUMNS, rows, "series.csv")  # type: ignore[return-value]
        return Response(series, headers={"Vary": "Accept"})
