"""How complete the curated history is on a few dates: the coverage table of ``docs/history.md``.

A reader of the history should see at a glance what it can answer: on each date, how many health
systems have a code, a region, a population, a leader and members, and whether the log's CCG count
matches the count the lookup tables published. The figures are computed by projecting the event
files into the plain-object view (no database), so the table cannot drift from the files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from evolve.bootstrap import Evolve
from evolve.catalogue import Source
from evolve.files import EventFile
from evolve.settings import Settings
from evolve.types import Kind


class PublishedCount(NamedTuple):
    """A count of CCGs as published, with where it was published."""

    number: int
    source: Source


class CoverageRow(NamedTuple):
    day: dt.date
    systems: int
    code: int
    region: int
    population: int
    leader: int
    members: int
    ccgs: int
    published: PublishedCount


_ONS_2016 = Source(
    title="ONS: Clinical Commissioning Group (April 2016) to STP lookup in England (209 CCGs)",
    url="https://github.com/111Online/nhs111-ccg-service/blob/6cbb37a00fdeb6745755bfbecf71fa8d8568837d/NHS111.DataImport.CCG/CCGData.csv",
)
_ONS_2018 = Source(
    title="ONS: CCG (April 2018) codes and names, table SAPE21DT6b",
    url="https://github.com/The-Strategy-Unit/617_eol_project/blob/094bbdc5991f140c6ac70dcf399fc9056a8832dc/data/reference/population.csv",
    quote="At April 2018 there were 195 CCGs in England",
)
_ONS_2020 = Source(
    title="ONS: Clinical Commissioning Group to STPs (April 2020) Lookup in England (135 CCGs)",
    url="https://github.com/humaniverse/geographr/blob/985bb5985e8a704b1089a3ff74f5ce3dca98371a/data/lookup_ccg_stp.rda",
)
_NHSE_2022 = Source(
    title="NHS England: Integrated care in your area",
    url="https://www.england.nhs.uk/integratedcare/integrated-care-in-your-area/",
    quote="Clinical commissioning groups (CCGs) were closed down on 1 July 2022",
)

#: The dates of the coverage table, each with the CCG count published for it (the April table).
DATES: dict[dt.date, PublishedCount] = {
    dt.date(2016, 6, 1): PublishedCount(209, _ONS_2016),
    dt.date(2018, 6, 1): PublishedCount(195, _ONS_2018),
    dt.date(2020, 6, 1): PublishedCount(135, _ONS_2020),
    dt.date(2022, 7, 1): PublishedCount(0, _NHSE_2022),
}


def coverage(files: Sequence[EventFile]) -> list[CoverageRow]:
    """The coverage of these event files on each of :data:`DATES`."""
    system = Evolve(Settings(database_url="memory://"))
    try:
        system.import_loaded(files)
        out = []
        for day, published in DATES.items():
            states = list(system.queries.all_states(day, kind=Kind.HEALTH_SYSTEM))
            ccgs = system.queries.stats(day).by_kind.get(Kind.CCG.value, 0)
            out.append(
                CoverageRow(
                    day=day,
                    systems=len(states),
                    code=sum(1 for s in states if s.code),
                    region=sum(1 for s in states if s.region),
                    population=sum(1 for s in states if s.population),
                    leader=sum(1 for s in states if s.leader),
                    members=sum(1 for s in states if s.members),
                    ccgs=ccgs,
                    published=published,
                )
            )
        return out
    finally:
        system.close()
