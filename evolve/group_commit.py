"""Group commit: writers that arrive while a commit is under way share the next one.

A commit costs a transaction, a write-ahead-log flush and the projection's fixed work, whatever
it carries; single appends from concurrent requests each paid all of that in turn. Here the
writers of one process queue up; the first in the queue is the leader and commits itself and
those queued behind it (as many as :data:`fits` allows) in one go, then hands each its own
outcome and the queue to the next leader. A lone writer leads at once: nothing waits for
company. The shape is LevelDB's writer queue.

The queue knows nothing of the log: :meth:`GroupCommit.submit` is given the function that
commits a group and returns one outcome per request, a value or the exception to raise.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class _Slot(Generic[Request, Result]):
    __slots__ = ("done", "outcome", "request")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.done = False
        self.outcome: Result | BaseException | None = None


class GroupCommit(Generic[Request, Result]):
    """A queue of writers in which the first commits for everyone behind it.

    `commit` gets the requests of a group, in arrival order, and returns their outcomes in the
    same order; it runs outside the queue's lock, so writers keep queueing meanwhile, and one
    at a time. `fits(group, request)` says whether `request` may join `group` (the leader's own
    request always leads).

    `delay` is a commit delay, as PostgreSQL's ``commit_delay`` with ``commit_siblings``: a leader
    that saw more writers busy within the last `recent` seconds than are queued waits for them, at
    most `delay` seconds. Without it, writers fall into two cohorts that take turns (those released
    by one commit queue up while the next is under way), each group half what it could be. A lone
    writer never waits."""

    def __init__(
        self,
        commit: Callable[[list[Request]], Sequence[Result | BaseException]],
        fits: Callable[[list[Request], Request], bool],
        *,
        delay: float = 0.0,
        recent: float = 0.01,
    ) -> None:
        self._commit = commit
        self._fits = fits
        self.delay = delay
        self._recent = recent
        self._queue: deque[_Slot[Request, Result]] = deque()
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)  # for the queued: an outcome, or a turn to lead
        self._arrival = threading.Condition(self._lock)  # for a delaying leader: someone queued
        self._writers: dict[int, float] = {}  # thread -> when it last submitted

    @property
    def queued(self) -> int:
        """Requests in the queue: the group being committed and those waiting for the next."""
        with self._lock:
            return len(self._queue)

    def submit(self, request: Request) -> Result:
        """Commit `request`, alone or with others; its value, or raise its exception."""
        slot: _Slot[Request, Result] = _Slot(request)
        with self._lock:
            self._queue.append(slot)
            self._writers[threading.get_ident()] = time.monotonic()
            self._arrival.notify()
            while not slot.done and self._queue[0] is not slot:
                self._turn.wait()
            if not slot.done:
                self._gather()
                group = self._take()
        if not slot.done:
            self._lead(group)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]  # done, so a Result

    def _gather(self) -> None:
        """The commit delay (see the class): wait, at most `delay`, while fewer are queued than
        the writers busy of late."""
        if self.delay <= 0:
            return
        now = time.monotonic()
        for writer in [w for w, at in self._writers.items() if now - at > self._recent]:
            del self._writers[writer]
        deadline = now + self.delay
        while len(self._queue) < len(self._writers) and (remaining := deadline - time.monotonic()) > 0:
            self._arrival.wait(remaining)

    def _take(self) -> list[_Slot[Request, Result]]:
        """The leader's group: the queue's front (the leader) and those behind it that fit."""
        group = [self._queue[0]]
        requests = [group[0].request]
        for slot in list(self._queue)[1:]:
            if not self._fits(requests, slot.request):
                break
            group.append(slot)
            requests.append(slot.request)
        return group

    def _lead(self, group: list[_Slot[Request, Result]]) -> None:
        try:
            outcomes = list(self._commit([s.request for s in group]))
            if len(outcomes) != len(group):
                raise RuntimeError(f"a group commit gave {len(outcomes)} outcomes for {len(group)} requests")
        except BaseException as exc:  # handed to every caller of the group, the leader too
            outcomes = [exc] * len(group)
        with self._lock:
            for slot, outcome in zip(group, outcomes, strict=True):
                slot.outcome, slot.done = outcome, True
                self._queue.popleft()
            self._turn.notify_all()
