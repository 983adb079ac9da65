"""Tabular event files: one event per row, for bulk facts read from lookup tables.

A table is ``<name>.csv`` beside ``<name>.sources.yaml``, read through the same catalogue and rules
as a YAML event file, so a reviewer can check one fact (a row) against its source (a key) in one
place:

- ``id``: the row's stable name, unique in the table; the event id derives from
  ``<name>.csv#<id>``, so re-importing appends nothing and a row keeps its id wherever it moves.
- ``type``, ``effective``, ``precision``, then the event type's own fields. A nested field is
  written with dots (``population.count``, ``scope.organisations``); a list field ends in ``[]``
  (``members[]``) and separates its items with ``;``. An empty cell leaves the field out; ``null``
  sets it to null (a restatement that clears a code).
- ``sources``: keys of ``<name>.sources.yaml`` separated by ``;``; that file maps each key to a
  source (``title``, ``url`` or ``seed``, and a ``quote``).
- ``note``, optional, as in a YAML event file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import msgspec
import yaml

from evolve.catalogue import Event, Source
from evolve.errors import InvalidEvent
from evolve.yaml_loader import SafeLoader

SUFFIX = ".csv"
SOURCES_SUFFIX = ".sources.yaml"


def rows(path: Path, describe: Any) -> list[tuple[str, Event]]:
    """(row id, event) for every row of the table at `path`; any fault names the file and line."""
    sources = _sources(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidEvent(f"{path}: cannot read the table: {exc}") from None
    out: list[tuple[str, Event]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=2):
        where = f"{path.name} line {number}"
        row_id = (line.get("id") or "").strip()
        if not row_id or row_id in seen:
            raise InvalidEvent(f"{where}: every row needs an `id` of its own (got {row_id!r})")
        seen.add(row_id)
        raw = _event(line, sources, where)
        try:
            event = msgspec.convert(raw, Event, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidEvent(f"{where} ({row_id}): {describe(exc)}") from None
        out.append((row_id, event))
    return out


def _event(line: dict[str, Any], sources: dict[str, Source], where: str) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for column, cell in line.items():
        if column in (None, "id", "sources") or cell is None or cell.strip() == "":
            continue
        value: Any = cell.strip()
        if column.endswith("[]"):
            column, value = column[:-2], [item.strip() for item in value.split(";") if item.strip()]
        elif value == "null":
            value = None
        target = raw
        *parents, leaf = column.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    keys = [k.strip() for k in (line.get("sources") or "").split(";") if k.strip()]
    unknown = [k for k in keys if k not in sources]
    if unknown:
        raise InvalidEvent(f"{where}: source {unknown[0]!r} is not in the table's sources file")
    raw["sources"] = [msgspec.to_builtins(sources[k]) for k in keys]
    return raw


def _sources(path: Path) -> dict[str, Source]:
    sidecar = path.with_name(path.name.removesuffix(SUFFIX) + SOURCES_SUFFIX)
    try:
        raw = yaml.load(sidecar.read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - a SafeLoader
    except OSError:
        raise InvalidEvent(f"{path}: a table needs its sources file, {sidecar.name}") from None
    except yaml.YAMLError as exc:
        raise InvalidEvent(f"{sidecar}: not valid YAML: {exc}") from None
    try:
        return msgspec.convert(raw, dict[str, Source])
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"{sidecar}: {exc}") from None
