"""The timeline page: a human view of the API (`GET /` and `GET /timeline`).

The page is plain HTML rendered here, with the per-stage counts for the chosen date already in it
(readable without JavaScript), plus a small script (`/static/timeline.js`) that reads the same
public API (`/organisations`, `/stats`, `/events`, `/policies`) to redraw it when the date changes.
Everything is served by this app: no CDN, no web fonts, so it works offline.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from string import Template
from typing import Annotated

import anyio.to_thread
from litestar import Controller, MediaType, Response, get
from litestar.params import QueryParameter
from litestar.static_files import create_static_files_router

from api.parameters import System
from evolve import labels
from evolve.errors import InvalidQuery
from evolve.types import Stage

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: The slider's range: the period the curated history covers.
FIRST_DAY = dt.date(2014, 1, 1)
LAST_DAY = dt.date(2022, 12, 31)

_PAGE = Template((STATIC_DIR / "timeline.html").read_text(encoding="utf-8"))

#: `/static/...`: the page's script and style sheet (not part of the API contract).
static_files = create_static_files_router(
    path="/static", directories=[STATIC_DIR], include_in_schema=False, name="static", cache_control=None
)


def _legend(counts: dict[str, int]) -> str:
    items = []
    for stage in Stage:
        count = counts.get(stage.value, 0)
        items.append(
            f'<li class="stage stage-{stage.value}" data-stage="{stage.value}" data-count="{count}">'
            f'<span class="swatch" aria-hidden="true"></span>'
            f'<span class="label">{html.escape(labels.STAGES[stage].title)}</span>'
            f'<span class="count">{count}</span></li>'
        )
    return "\n        ".join(items)


def render(day: dt.date, counts: dict[str, int]) -> str:
    return _PAGE.substitute(
        day=day.isoformat(),
        first=FIRST_DAY.isoformat(),
        last=LAST_DAY.isoformat(),
        total=sum(counts.values()),
        legend=_legend(counts),
        labels=html.escape(json.dumps({s.value: labels.STAGES[s].title for s in Stage}), quote=True),
        short_labels=html.escape(json.dumps({s.value: labels.STAGES[s].short for s in Stage}), quote=True),
    )


class TimelineController(Controller):
    path = "/"
    include_in_schema = False

    @get(["/", "/timeline"], media_type=MediaType.HTML, cache_control=None)
    async def page(
        self,
        system: System,
        date: Annotated[dt.date | None, QueryParameter(description="The date to show (default: the last day).")] = None,
    ) -> Response[str]:
        """Every health system's stage on a date, and the policy events over time."""
        day = date or min(dt.datetime.now(dt.UTC).date(), LAST_DAY)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidQuery(f"`date` must be between {FIRST_DAY} and {LAST_DAY}", "date")
        stats = await anyio.to_thread.run_sync(system.queries.stats, day)
        return Response(render(day, stats.by_stage), media_type=MediaType.HTML)
