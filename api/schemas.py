"""Response types the API adds around evolve's own Structs.

Bodies are evolve's Structs (``OrganisationState``, ``EventRecord``, the
``Event`` union, the query pages); this module only holds the few shapes that
exist because of HTTP: a batch reply and the health report. Request parameters
are in :mod:`api.parameters`.
"""

from __future__ import annotations

import msgspec

from evolve.records import EventRecord


class AppendedEvents(msgspec.Struct, frozen=True, kw_only=True):
    """The records of a batch appended by ``POST /events``, in log order."""

    items: list[EventRecord]
