"""Relation runs (evolve/views/runs.py): which runs close and open when interval rows change."""

from __future__ import annotations

import datetime as dt

from evolve.state import Status
from evolve.types import END_OF_TIME, Kind
from evolve.views.interface import Segment
from evolve.views.runs import Extent, Run, named, settle

D = dt.date


def system(since: dt.date, members: list[str], name: str = "A system", code: str | None = None) -> Status:
    return Status(id="sys", name=name, kind=Kind.HEALTH_SYSTEM, members=members, code=code, since=since,
                  last_event_id="e")


def segment(valid_from: dt.date, valid_to: dt.date, state: Status) -> Segment:
    return Segment(valid_from, valid_to, 0, b"", None, None, state)


def test_a_state_names_its_members_parent_region_codes_and_flags() -> None:
    state = Status(id="x", name="X", kind=Kind.HEALTH_SYSTEM, members=["a", "b"], parent="p", region="r",
                   code="e54000051", ods_code="qyg", since=D(2016, 1, 1), last_event_id="e")
    assert named(state) == [("member", "a"), ("member", "b"), ("parent", "p"), ("region", "r"),
                            ("code", "E54000051"), ("ods_code", "QYG")]


def test_a_new_interval_row_that_names_the_same_leaves_the_run_alone() -> None:
    # A rename on 2018-01-01 splits the interval row; membership of `a` runs on unbroken.
    old = [Run("member", "a", D(2016, 1, 1), END_OF_TIME, 1)]
    rows = [segment(D(2016, 1, 1), D(2018, 1, 1), system(D(2016, 1, 1), ["a"])),
            segment(D(2018, 1, 1), END_OF_TIME, system(D(2018, 1, 1), ["a"], name="Renamed"))]
    assert settle(D(2016, 1, 1), old, rows) == ([], [])


def test_a_member_joining_later_closes_nothing_that_began_before() -> None:
    old = [Run("member", "a", D(2016, 1, 1), END_OF_TIME, 1)]
    rows = [segment(D(2016, 1, 1), D(2018, 1, 1), system(D(2016, 1, 1), ["a"])),
            segment(D(2018, 1, 1), END_OF_TIME, system(D(2018, 1, 1), ["a", "b"]))]
    closed, opened = settle(D(2016, 1, 1), old, rows)
    assert (closed, opened) == ([], [Extent("member", "b", D(2018, 1, 1), END_OF_TIME)])


def test_a_run_that_began_before_the_floor_keeps_its_start() -> None:
    # Rows before 2018 did not change; `a` leaves on 2020-01-01 (the rewrite began at 2018).
    old = [Run("member", "a", D(2016, 1, 1), END_OF_TIME, 1)]
    rows = [segment(D(2018, 1, 1), D(2020, 1, 1), system(D(2018, 1, 1), ["a"])),
            segment(D(2020, 1, 1), END_OF_TIME, system(D(2020, 1, 1), []))]
    closed, opened = settle(D(2018, 1, 1), old, rows)
    assert closed == old
    assert opened == [Extent("member", "a", D(2016, 1, 1), D(2020, 1, 1))]


def test_a_run_ending_at_the_floor_is_extended_when_the_next_row_names_the_same() -> None:
    old = [Run("member", "a", D(2016, 1, 1), D(2018, 1, 1), 1)]
    rows = [segment(D(2018, 1, 1), END_OF_TIME, system(D(2018, 1, 1), ["a"]))]
    closed, opened = settle(D(2018, 1, 1), old, rows)
    assert (closed, opened) == (old, [Extent("member", "a", D(2016, 1, 1), END_OF_TIME)])


def test_a_gap_in_the_timeline_breaks_a_run() -> None:
    rows = [segment(D(2016, 1, 1), D(2017, 1, 1), system(D(2016, 1, 1), ["a"])),
            segment(D(2018, 1, 1), END_OF_TIME, system(D(2018, 1, 1), ["a"]))]
    closed, opened = settle(D(2016, 1, 1), [], rows)
    assert closed == []
    assert opened == [Extent("member", "a", D(2016, 1, 1), D(2017, 1, 1)),
                      Extent("member", "a", D(2018, 1, 1), END_OF_TIME)]


def test_a_row_between_that_does_not_name_it_breaks_a_run() -> None:
    rows = [segment(D(2016, 1, 1), D(2017, 1, 1), system(D(2016, 1, 1), ["a"])),
            segment(D(2017, 1, 1), D(2018, 1, 1), system(D(2017, 1, 1), [])),
            segment(D(2018, 1, 1), END_OF_TIME, system(D(2018, 1, 1), ["a"]))]
    assert settle(D(2016, 1, 1), [], rows)[1] == [Extent("member", "a", D(2016, 1, 1), D(2017, 1, 1)),
                                                   Extent("member", "a", D(2018, 1, 1), END_OF_TIME)]


def test_runs_ending_before_the_floor_are_not_asked_about_and_a_dissolution_closes_the_rest() -> None:
    # The organisation ends on 2019-01-01: its last row is closed and no row follows.
    old = [Run("member", "a", D(2016, 1, 1), END_OF_TIME, 1), Run("code", "E1", D(2017, 1, 1), END_OF_TIME, 1)]
    rows: list[Segment] = []
    closed, opened = settle(D(2019, 1, 1), old, rows)
    assert closed == old
    assert opened == [Extent("code", "E1", D(2017, 1, 1), D(2019, 1, 1)),
                      Extent("member", "a", D(2016, 1, 1), D(2019, 1, 1))]
