"""The realistic workload: the curated history's kinds and mix, scaled up in organisations.

The curated log (`events/`, about 1,300 entries: systems, CCGs and trusts with memberships, mergers
and dissolutions, restatements, leaders, regions, a handful of broadcasts over eight years) is
copied as many times as the size needs. Copy `k` renames every organisation it names (`<id>-c<k>`)
and gets its own event ids; policies and broadcasts stay in copy 0 only, so every copy cites the
same policies and a broadcast still meets every system in its scope, as a real one would (one
"all CCGs are dissolved", not one per copy). The copies are interleaved entry by entry, so the log
stays in the curated order of dates and causes; a size that is not a whole number of copies ends
part-way through the last round of copies, which is a prefix of the history for each.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.generator import END, Organisation, SyntheticLog

CURATED = Path(__file__).resolve().parents[1] / "events"
NAMESPACE = uuid.UUID("0b8f1c55-6a5e-4d4e-9a39-2d2b0f6f3c11")
POLICY_FIELDS = ("policy", "policy_id", "policies")


@cache
def _curated() -> tuple[list[Any], list[uuid.UUID]]:
    from evolve import files

    loaded = files.load(CURATED)
    return [f.event for f in loaded], [f.id for f in loaded]


def _is_shared(event: Any) -> bool:
    """Entries kept once for all copies: policies, and broadcasts (scoped by stage or kind)."""
    if type(event).__name__ == "PolicyPublished":
        return True
    scope = getattr(event, "scope_or_none", None)
    return scope is not None and scope.is_broadcast


def _rename(value: Any, orgs: frozenset[str], suffix: str, key: str = "") -> Any:
    if isinstance(value, str):
        return f"{value}{suffix}" if value in orgs and key not in POLICY_FIELDS else value
    if isinstance(value, list):
        return [_rename(v, orgs, suffix, key) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "sources" else _rename(v, orgs, suffix, k)) for k, v in value.items()}
    return value


def _creators_first(pairs: list[tuple[Any, uuid.UUID]]) -> list[tuple[Any, uuid.UUID]]:
    """The curated entries with the first creator of each policy or organisation moved up to just
    before the first entry that requires it.

    The curated files may cite a policy a few entries before publishing it (one file is one batch,
    and a batch may hold both). Copied ~770 times and interleaved, the two land in different import
    batches, and the store refuses a reference to what the log does not hold yet."""
    first: dict[str, int] = {}
    for index, (event, _) in enumerate(pairs):
        for slug in event.created():
            first.setdefault(slug, index)
    out: list[tuple[Any, uuid.UUID]] = []
    placed: set[int] = set()

    def place(index: int) -> None:
        if index in placed:
            return
        placed.add(index)
        for slug, _kind in pairs[index][0].required():
            if slug in first:
                place(first[slug])
        out.append(pairs[index])

    for index in range(len(pairs)):
        place(index)
    return out


def generate_realistic(n: int, seed: int = 0) -> SyntheticLog:
    """`n` entries of the curated history, copied and interleaved (see the module docstring).
    `seed` only names the run: the workload is the history itself."""
    from evolve.catalogue import Event

    events, ids = _curated()
    policies = {e.policy_id for e in events if type(e).__name__ == "PolicyPublished"}
    orgs = frozenset(s for e in events for s in e.subjects()) - policies
    per_copy = _creators_first(list(zip(events, ids, strict=True)))
    own = [(e, i) for e, i in per_copy if not _is_shared(e)]
    copies = 1 + max(0, -(-(n - len(per_copy)) // len(own))) if own else 1
    out_events: list[Any] = []
    out_ids: list[uuid.UUID] = []
    counts: Counter[str] = Counter()
    starts: dict[str, dt.date] = {}
    broadcasts = 0
    for event, event_id in per_copy:
        for k in range(copies):
            if k > 0 and _is_shared(event):
                continue
            if len(out_events) >= n:
                break
            if k == 0:
                copy, copy_id = event, event_id
            else:
                raw = _rename(msgspec.to_builtins(event), orgs, f"-c{k}")
                copy = msgspec.convert(raw, Event)
                copy_id = uuid.uuid5(NAMESPACE, f"{event_id}-{k}")
            out_events.append(copy)
            out_ids.append(copy_id)
            counts[type(copy).__name__] += 1
            broadcasts += _is_shared(copy) and type(copy).__name__ != "PolicyPublished"
            for org in copy.subjects():
                if org not in policies and (org not in starts or copy.effective < starts[org]):
                    starts[org] = copy.effective
    organisations = [Organisation(org, "curated", day, org) for org, day in sorted(starts.items()) if day < END]
    return SyntheticLog(seed, out_events, out_ids, organisations, counts=counts, broadcasts=broadcasts)
