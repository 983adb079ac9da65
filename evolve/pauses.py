"""Batches without the cyclic garbage collector's pauses.

A bulk append or a rebuild batch allocates millions of short-lived objects while the writer's and the
store's caches grow, so the collector ran full collections over every long-lived object again and
again: 26 s of a realistic 100k import on SQLite that took 89 s (generation 2: 23 s in 42 passes, the
longest 1.2 s). At 1M on PostgreSQL one such pause outlasted the server's idle-in-transaction timeout
(eventsourcing's 5 s), and the server ended the append's connection. Nothing a batch makes needs the
collector: its objects are freed by reference counting as they go out of use. So the collector waits
until the batch is done, and then runs as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def without_collector_pauses() -> Iterator[None]:
    """Run the block with the cyclic collector off, then turn it on again if it was on. Threads may
    nest this: the first to leave turns it on, and a block entered while it was off leaves it off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
