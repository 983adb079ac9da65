"""Relation rows as runs: one row per stretch of valid time over which an organisation's state
names another (a member, its parent, its region) or holds a code or a flag.

An organisation's interval rows change whenever anything in its state does (a leader, a name, a
stage), but what it names changes far less often. Stored once per interval row, the relations
were copied into every version: the largest part of the view. Stored as runs, a rewrite of the
interval rows changes only the runs whose extent changed. At every record time the current runs
are the maximal stretches of adjacent current interval rows that name the same thing, so a point
read (a day at a record time) finds a run exactly where it found an interval row's copy.

:func:`settle` is the pure core: given what an organisation's rows were and are from a day on,
which runs close and which open. The SQL writer (:mod:`evolve.views.writer`) keeps them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from evolve.state import Status
from evolve.views.interface import Segment

#: (relation, related): what a state names, e.g. ("member", "nhs-derby-ccg") or ("flag", "capped").
Named = tuple[str, str]


class Run(NamedTuple):
    """A current relation row of one organisation, as the writer caches it."""

    relation: str
    related: str
    valid_from: dt.date
    valid_to: dt.date
    recorded_from_us: int


class Extent(NamedTuple):
    """A run's extent in valid time, before it has a record time."""

    relation: str
    related: str
    valid_from: dt.date
    valid_to: dt.date


def named(status: Status) -> list[Named]:
    """What one state names: members, parent, region, codes (upper-cased, as searched) and flags."""
    out = [("member", m) for m in status.members]
    out += [(relation, org) for relation, org in (("parent", status.parent), ("region", status.region)) if org]
    out += [(relation, code.upper()) for relation, code in (("code", status.code), ("ods_code", status.ods_code))
            if code]
    out += [("flag", flag) for flag in sorted({f.flag.value for f in status.flags})]
    return out


def extents(floor: dt.date, earlier: dict[Named, dt.date], segments: Iterable[Segment]) -> set[Extent]:
    """The runs that reach `floor` or later, from the current `segments` beginning on or after
    `floor` (by valid_from) and `earlier`: the runs that held on the day before `floor`, by their
    start (the interval rows before `floor` did not change, so neither did where those runs began)."""
    open_ = {key: Extent(*key, start, floor) for key, start in earlier.items()}
    out: set[Extent] = set()
    for segment in segments:
        for key in named(segment.decoded()):
            run = open_.get(key)
            if run is not None and run.valid_to == segment.valid_from:
                open_[key] = run._replace(valid_to=segment.valid_to)
                continue
            if run is not None:
                out.add(run)
            open_[key] = Extent(*key, segment.valid_from, segment.valid_to)
    out.update(open_.values())
    return out


def settle(floor: dt.date, old: Sequence[Run], segments: Sequence[Segment]) -> tuple[list[Run], list[Extent]]:
    """Which of the current runs `old` (every one ending on or after `floor`) close, and which
    extents open, now that the current interval rows from `floor` on are `segments` (the rows
    before `floor` unchanged). Runs that keep their extent are left alone."""
    earlier = {(r.relation, r.related): r.valid_from for r in old if r.valid_from < floor}
    wanted = extents(floor, earlier, (s for s in segments if s.valid_from >= floor))
    held = {Extent(r.relation, r.related, r.valid_from, r.valid_to): r for r in old}
    return [r for extent, r in held.items() if extent not in wanted], sorted(wanted - held.keys())
