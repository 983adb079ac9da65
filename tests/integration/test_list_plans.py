"""A page of a list is read in the organisations' order from its kind's or its stage's index and stops
at its limit, instead of reading every row of the kind and sorting them (view layout 12).

SQLite plans without statistics, so its plan follows from the schema alone and can be pinned here;
PostgreSQL plans by its statistics (on a 100k-event view it uses the same indexes:
docs/performance.md), so it is not pinned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from evolve.types import Kind, Stage
from evolve.views.reader import SqlReader
from tests.factories import footprint


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The query plan of every list statement the readers run from now on."""
    found: list[list[str]] = []
    rows = SqlReader.rows

    def recording(self: SqlReader, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if "ORDER BY org" in statement:
            found.append([str(row[-1]) for row in rows(self, "EXPLAIN QUERY PLAN " + statement, params)])
        return rows(self, statement, params)

    monkeypatch.setattr(SqlReader, "rows", recording)
    return found


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"kind": Kind.HEALTH_SYSTEM}, "timeline_intervals_kind"),
        ({"stage": Stage.FOOTPRINT}, "timeline_intervals_stage"),
    ],
)
def test_a_page_is_read_in_order_from_its_index(
    tmp_path: Path, plans: list[list[str]], filters: dict[str, Any], index: str
) -> None:
    system = Evolve(Settings(database_url=str(tmp_path / "evolve.db")))
    try:
        system.append([footprint("a"), footprint("b"), footprint("c")])
        page = system.queries.organisations(footprint("a").effective, limit=2, **filters)
    finally:
        system.close()
    assert [s.id for s in page.items] == ["a", "b"]
    plan = plans[-1]
    assert any(f"USING INDEX {index}" in step for step in plan), plan
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
