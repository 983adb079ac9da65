"""Flat, spreadsheet-friendly rows of organisation states and events (CSV).

One definition of the columns serves the CLI export and the API's CSV
responses. Lists are joined with "; "; money is integer pence.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import msgspec

from evolve.answers import Stats
from evolve.records import EventRecord
from evolve.state import OrganisationState
from evolve.types import Flag, Kind, Stage

STATE_COLUMNS = (
    "id",
    "name",
    "kind",
    "code",
    "ods_code",
    "region",
    "parent",
    "stage",
    "stage_term",
    "leader",
    "leader_role",
    "leader_since",
    "population",
    "population_as_of",
    "members",
    "member_of",
    "sub_areas",
    "flags",
    "funding_total_pence",
    "milestones",
    "since",
    "as_of",
    "known_at",
    "last_event_id",
)
EVENT_COLUMNS = (
    "id",
    "position",
    "recorded_at",
    "type",
    "effective",
    "precision",
    "subjects",
    "policy",
    "sources",
    "hash",
)

SEPARATOR = "; "


def state_row(s: OrganisationState) -> dict[str, str]:
    return {
        "id": s.id,
        "name": s.name,
        "kind": s.kind.value,
        "code": s.code or "",
        "ods_code": s.ods_code or "",
        "region": s.region or "",
        "parent": s.parent or "",
        "stage": s.stage.value if s.stage else "",
        "stage_term": s.stage_term or "",
        "leader": s.leader.name if s.leader else "",
        "leader_role": (s.leader.role or "") if s.leader else "",
        "leader_since": s.leader.since.isoformat() if s.leader else "",
        "population": "" if s.population is None else str(s.population.count),
        "population_as_of": "" if s.population is None else s.population.as_of.isoformat(),
        "members": SEPARATOR.join(s.members),
        "member_of": SEPARATOR.join(s.member_of),
        "sub_areas": SEPARATOR.join(s.sub_areas),
        "flags": SEPARATOR.join(f.flag.value for f in s.flags),
        "funding_total_pence": str(sum(f.amount_pence for f in s.funding)),
        "milestones": SEPARATOR.join(f"{m.milestone.value} {m.date.isoformat()}" for m in s.milestones),
        "since": s.since.isoformat(),
        "as_of": s.as_of.isoformat(),
        "known_at": s.known_at.isoformat(),
        "last_event_id": s.last_event_id,
    }


def event_row(r: EventRecord) -> dict[str, str]:
    e = r.event
    return {
        "id": str(r.id),
        "position": str(r.position),
        "recorded_at": r.recorded_at.isoformat(),
        "type": e.type,
        "effective": e.effective.isoformat(),
        "precision": e.precision.value,
        "subjects": SEPARATOR.join(r.subjects),
        "policy": e.policy or "",
        "sources": SEPARATOR.join(s.url or s.seed or "" for s in e.sources),
        "hash": r.hash,
    }


def csv_lines(columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> Iterator[str]:
    """CSV text, a header then one line per row, produced lazily (for streaming)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def json_text(items: Iterable[msgspec.Struct]) -> str:
    return msgspec.json.encode(list(items)).decode()


#: A series point as one row: the date, the total, then each count under a dotted name.
SERIES_COLUMNS = (
    "as_of",
    "total",
    *(f"stage.{s.value}" for s in Stage),
    *(f"sub_area_stage.{s.value}" for s in Stage),
    *(f"kind.{k.value}" for k in Kind),
    *(f"flag.{f.value}" for f in Flag),
)


def series_row(point: Stats) -> dict[str, str]:
    row = {"as_of": point.as_of.isoformat(), "total": str(point.total)}
    for prefix, counts in (("stage", point.by_stage), ("sub_area_stage", point.sub_areas_by_stage),
                           ("kind", point.by_kind), ("flag", point.flags)):
        row.update({f"{prefix}.{name}": str(n) for name, n in counts.items()})
    return row
