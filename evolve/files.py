"""Event data files, decoded into the catalogue Structs: one event per YAML file, or one per row
of a table (:mod:`evolve.tables`, for bulk facts from lookup tables).

A file's name is its identity: the event id is derived from the file name (without extension),
or from the table's name and the row's `id`, so importing the same directory twice appends
nothing new. In a file, ``corrects`` may name the corrected event's file
(``corrects: 2016-03-15-footprint-frimley.yaml``) instead of its UUID.
"""

from __future__ import annotations

import datetime as dt
import graphlib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from uuid import UUID

import msgspec
import yaml

from evolve import rules, tables
from evolve.catalogue import EVENT_TYPE_NAMES, Event, EventCorrected, OrganisationsDissolved, OrganisationsMerged
from evolve.domain import file_event_id
from evolve.errors import InvalidEvent
from evolve.yaml_loader import EventFileLoader

SUFFIXES = (".yaml", ".yml")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class EventFile(msgspec.Struct, frozen=True):
    name: str
    id: UUID
    event: Event


def event_id_for(name: str) -> UUID:
    return file_event_id(Path(name).stem)


def load_table(path: Path) -> list[EventFile]:
    """The events of a table, each named ``<table>.csv#<row id>``."""
    if not NAME_PATTERN.match(path.name):
        raise InvalidEvent(f"{path}: file names use lowercase letters, digits, '.', '-' and '_' only")
    stem = path.name.removesuffix(tables.SUFFIX)
    return [
        EventFile(name=f"{path.name}#{row_id}", id=file_event_id(f"{stem}#{row_id}"), event=event)
        for row_id, event in tables.rows(path, describe)
    ]


def load_file(path: Path) -> EventFile:
    """Decode one event file; any fault is an InvalidEvent naming the file."""
    if path.suffix not in SUFFIXES:
        raise InvalidEvent(f"{path}: not an event file (expected {' or '.join(SUFFIXES)})")
    if not NAME_PATTERN.match(path.name):
        raise InvalidEvent(f"{path}: file names use lowercase letters, digits, '.', '-' and '_' only")
    try:
        raw = yaml.load(path.read_bytes(), Loader=EventFileLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise InvalidEvent(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidEvent(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent(f"{path}: an event file holds one mapping (type, effective, ...)")
    corrects = raw.get("corrects")
    if isinstance(corrects, str) and corrects.endswith(SUFFIXES):
        raw["corrects"] = str(event_id_for(corrects))
    try:
        event = msgspec.convert(raw, Event)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"{path}: {describe(exc)}") from None
    return EventFile(name=path.name, id=event_id_for(path.name), event=event)


def event_paths(path: Path) -> list[Path]:
    """The event files and tables at `path` (a file, or a directory searched recursively)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InvalidEvent(f"{path}: no such file or directory")
    wanted = (*SUFFIXES, tables.SUFFIX)
    found = (p for p in path.rglob("*") if p.suffix in wanted and not p.name.endswith(tables.SOURCES_SUFFIX))
    return sorted(p for p in found if p.is_file())


def load(path: Path, progress: Callable[[int, int], None] | None = None) -> list[EventFile]:
    """All events at `path`, in log order: by effective date, then file name.

    `progress` is told (files read, files in all) as reading goes.
    """
    paths = event_paths(path)
    files: list[EventFile] = []
    for done, p in enumerate(paths, 1):
        files += load_table(p) if p.suffix == tables.SUFFIX else [load_file(p)]
        if progress is not None:
            progress(done, len(paths))
    check_unique(files)
    return in_log_order(files)


def in_log_order(files: Iterable[EventFile]) -> list[EventFile]:
    """The order files enter the log: by effective date; on one day, an event that creates an
    organisation before the events that name it, and those before the event that ends it; else by
    file name. (The log folds same-day events in log order, so this order is what they mean.)"""
    by_day: dict[dt.date, list[EventFile]] = {}
    for f in files:
        by_day.setdefault(f.event.effective, []).append(f)
    ordered: list[EventFile] = []
    for day in sorted(by_day):
        ordered += _day_order(sorted(by_day[day], key=lambda f: f.name))
    return ordered


def _day_order(group: list[EventFile]) -> list[EventFile]:
    by_name = {f.name: f for f in group}
    created = {org: f.name for f in group for org in f.event.created()}
    ended = {org: f.name for f in group for org in _ends(f.event)}
    before: dict[str, set[str]] = {f.name: set() for f in group}
    for f in group:
        for org in f.event.subjects():
            if created.get(org, f.name) != f.name:
                before[f.name].add(created[org])
            if ended.get(org, f.name) != f.name:
                before[ended[org]].add(f.name)
    sorter = graphlib.TopologicalSorter(before)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return group  # contradictory files: file names decide, and the rules will say what is wrong
    ordered = []
    while sorter.is_active():
        for name in sorted(sorter.get_ready()):
            ordered.append(by_name[name])
            sorter.done(name)
    return ordered


def _ends(event: Event) -> list[str]:
    inner = event.replacement if isinstance(event, EventCorrected) else event
    if isinstance(inner, OrganisationsMerged):
        return list(inner.merged)
    if isinstance(inner, OrganisationsDissolved):
        return list(inner.scope.organisations or [])
    return []


def located(error: InvalidEvent, batch: Sequence[EventFile]) -> InvalidEvent:
    """A store's refusal of a batch of files, told by file: ``<name>: <message>``.

    The store locates a fault by the event's index in the batch (``/3/corrects``); the
    index becomes the file's name and the rest stays the pointer inside the event.
    """
    if len(batch) == 1:
        index, inner = 0, error.pointer
    else:
        match = re.fullmatch(r"/(\d+)(/.*)?", error.pointer or "")
        if match is None or int(match.group(1)) >= len(batch):
            return error
        index, inner = int(match.group(1)), match.group(2)
    return type(error)(f"{batch[index].name}: {error}", inner or None)


def check_unique(files: Sequence[EventFile]) -> None:
    seen: dict[UUID, str] = {}
    for f in files:
        if f.id in seen:
            raise InvalidEvent(f"{f.name}: same event id as {seen[f.id]} (file names must differ before the extension)")
        seen[f.id] = f.name


def check_references(files: Iterable[EventFile], seeds: Path | None = None) -> list[str]:
    """Problems the store would refuse these files for, found without a store (the rule book
    of :mod:`evolve.rules`, the files being the whole log), and seed names that do not exist."""
    files = list(files)
    checked = rules.check_batch([f.event for f in files], [f.id for f in files], rules.EmptyLog())
    problems = [f"{files[p.at].name}: {p.message}" for p in checked.problems]
    if seeds is not None:
        for f in files:
            events = [
                f.event,
                *([f.event.replacement] if isinstance(f.event, EventCorrected) and f.event.replacement else []),
            ]
            for event in events:
                for source in event.sources:
                    if source.seed is not None and not (seeds / source.seed).is_file():
                        problems.append(f"{f.name}: seed {source.seed!r} is not in {seeds}")
    return problems


def describe(exc: msgspec.ValidationError) -> str:
    """msgspec's message, with the unknown-type case made explicit."""
    text = str(exc)
    match = re.match(r"Invalid value '(.*)' - at `(\$(\.replacement)?\.type)`", text)
    if match:
        nested = match.group(3) is not None
        names = [n for n in EVENT_TYPE_NAMES if not (nested and n == "EventCorrected")]
        return f"unknown event type {match.group(1)!r} at `{match.group(2)}` (one of: {', '.join(names)})"
    return text
