"""What `/stats` counts, as a store can count it: organisations by (kind, stage, sub-area) and by flag.

The SQL views count in the database (GROUP BY over the interval and relation rows) instead of
decoding every organisation's status in Python: with the soak's 11,000 organisations, decoding
was 20 -> 455 ms a call and took the whole server's latency with it (docs/reliability.md). The
plain-object view and the series count states with :func:`counts_of`, the same rule in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from evolve.state import Status


class Group(NamedTuple):
    kind: str
    stage: str | None
    sub_area: bool  # the state names a parent system


class Counts(NamedTuple):
    #: Organisations on the day, by their (kind, stage, sub-area).
    groups: Counter[Group]
    #: Organisations on the day holding each flag.
    flags: Counter[str]


def counts_of(states: Iterable[Status]) -> Counts:
    groups: Counter[Group] = Counter()
    flags: Counter[str] = Counter()
    for s in states:
        groups[Group(s.kind.value, s.stage.value if s.stage is not None else None, s.parent is not None)] += 1
        flags.update({f.flag.value for f in s.flags})
    return Counts(groups, flags)
