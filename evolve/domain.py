"""The write model: the eventsourcing domain events that make up the store.

evolve's log is one append-only sequence (the ``Log`` stream: its version *is*
the log position, so positions are gap-free and unique by the store's own
primary key). Every subject the log speaks of, an organisation, a policy or
an event id, has a ``Subject`` stream whose version counts the entries that
touched it; optimistic concurrency per subject falls out of the same primary
key. An append writes the log entry and its subject events in one atomic
insert.

These streams hold no state beyond their version, so the store never replays
them: it reads the head of a stream with one indexed select and builds the
next event directly (see ``evolve.store``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import DomainEvent

from evolve.catalogue import Event
from evolve.types import SubjectKind

NAMESPACE = uuid5(NAMESPACE_URL, "https://evolve.nhs-policy.invalid/")
LOG_ID = uuid5(NAMESPACE, "log")
GENESIS_HASH = "0" * 64


def subject_id(slug: str) -> UUID:
    """The stream id of an organisation or policy slug (one namespace for both)."""
    return uuid5(NAMESPACE, f"subject/{slug}")


def file_event_id(name: str) -> UUID:
    """A stable event id for a curated data file, so re-importing is idempotent."""
    return uuid5(NAMESPACE, f"events/{name}")


class Log:
    """The log stream."""

    @dataclass(frozen=True)
    class Recorded(DomainEvent):
        """One policy event entered the log at position `originator_version`."""

        event_id: UUID
        event: Event
        subjects: list[str]
        hash: str


class Subject:
    """A stream per subject; its version is the number of entries that touched it."""

    @dataclass(frozen=True)
    class Registered(DomainEvent):
        kind: SubjectKind
        event_id: UUID
        position: int

    @dataclass(frozen=True)
    class Touched(DomainEvent):
        kind: SubjectKind
        event_id: UUID
        position: int


class Request:
    """A stream per idempotency key: the first request with a key wins, retries replay it."""

    @dataclass(frozen=True)
    class Accepted(DomainEvent):
        digest: str
        event_ids: list[UUID]


def request_id(key: str) -> UUID:
    return uuid5(NAMESPACE, f"idempotency/{key}")


_canonical = msgspec.json.Encoder(order="sorted")


def chain_hash(previous: str, event_id: UUID, position: int, recorded_at: str, event: Event) -> str:
    """Tamper evidence: each entry's hash covers its content and the hash before it."""
    digest = hashlib.sha256()
    digest.update(previous.encode())
    digest.update(f"|{event_id}|{position}|{recorded_at}|".encode())
    digest.update(_canonical.encode(event))
    return digest.hexdigest()
