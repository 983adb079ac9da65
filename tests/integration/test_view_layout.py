"""A view made by another table layout is dropped and projected again from the log."""

from __future__ import annotations

from collections.abc import Callable

from evolve.bootstrap import Evolve
from evolve.views.sql import LAYOUT_VERSION
from tests.factories import event, footprint


def intervals(system: Evolve) -> list[tuple[object, ...]]:
    with system.view.reader() as read:
        rows = read.rows("SELECT org, valid_from, valid_to, status, lists FROM timeline_intervals ORDER BY 1, 2")
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


def test_an_outdated_layout_is_rebuilt_from_the_log(make_system: Callable[..., Evolve]) -> None:
    system = make_system(file=True)
    system.append([footprint("a"), footprint("b")])
    system.append(
        [event("FundingAllocated", scope={"organisations": ["a"]}, fund="f", financial_year="2017/18", amount_pence=5)]
    )
    before = intervals(system)
    url = system.settings.database_url
    with system.view.reader() as read:
        sql = read.sql  # the store's dialect; readers are read-only
    with system.view.datastore.transaction(commit=True) as cursor:
        cursor.execute(sql("UPDATE timeline_layout SET version = ?"), (LAYOUT_VERSION - 1,))
        cursor.execute(sql("DELETE FROM timeline_intervals"))  # what an old layout could not serve
    system.close()

    reopened = make_system(url)
    assert intervals(reopened) == before
    assert reopened.queries.state("a", footprint("a").effective).funding[0].amount_pence == 5
    with reopened.view.reader() as read:
        assert [tuple(r) for r in read.rows("SELECT version FROM timeline_layout")] == [(LAYOUT_VERSION,)]


def test_a_current_layout_is_left_alone(make_system: Callable[..., Evolve]) -> None:
    system = make_system(file=True)
    system.append([footprint("a")])
    url = system.settings.database_url
    system.close()
    assert not make_system(url).view.upgrade()
