"""The writer queue of group commit, with a fake commit: who leads, who is carried, who hears what."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from evolve.group_commit import GroupCommit


class Ledger:
    """A commit that records each group, and can hold its first commit until others queue up."""

    def __init__(self, hold_until_queued: int = 0) -> None:
        self.groups: list[list[str]] = []
        self.hold_until_queued = hold_until_queued
        self.inside = 0
        self.overlapped = False
        self.queue: GroupCommit[str, str] | None = None
        self.started = threading.Event()

    def commit(self, group: list[str]) -> Sequence[str | BaseException]:
        self.inside += 1
        self.overlapped |= self.inside > 1
        self.groups.append(group)
        if len(self.groups) == 1 and self.hold_until_queued:
            self.started.set()
            assert self.queue is not None
            deadline = time.monotonic() + 10
            while self.queue.queued < self.hold_until_queued and time.monotonic() < deadline:
                time.sleep(0.001)
        self.inside -= 1
        return [ValueError(r) if r.startswith("bad") else f"done {r}" for r in group]


def run(queue: GroupCommit[str, str], requests: list[str], ledger: Ledger) -> dict[str, str]:
    """Submit the first request, and once its commit is under way the rest, each from its own thread."""
    heard: dict[str, str] = {}

    def submit(request: str) -> None:
        try:
            heard[request] = queue.submit(request)
        except ValueError as exc:
            heard[request] = f"raised {exc}"

    first = threading.Thread(target=submit, args=(requests[0],))
    first.start()
    assert ledger.started.wait(10)
    others = [threading.Thread(target=submit, args=(r,)) for r in requests[1:]]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(10)
    return heard


Fits = Callable[[list[str], str], bool]


def held(requests: int, fits: Fits = lambda group, r: True) -> tuple[Ledger, GroupCommit[str, str]]:
    """A queue whose first commit waits until `requests` are queued."""
    ledger = Ledger(hold_until_queued=requests)
    queue: GroupCommit[str, str] = GroupCommit(ledger.commit, fits)
    ledger.queue = queue
    return ledger, queue


def test_a_lone_writer_commits_at_once() -> None:
    ledger = Ledger()
    queue: GroupCommit[str, str] = GroupCommit(ledger.commit, lambda group, r: True)
    assert queue.submit("a") == "done a"
    assert ledger.groups == [["a"]]
    assert queue.queued == 0


def test_writers_queued_behind_a_commit_share_the_next_one() -> None:
    ledger, queue = held(8)
    requests = [f"r{i}" for i in range(8)]
    heard = run(queue, requests, ledger)
    assert heard == {r: f"done {r}" for r in requests}
    assert [len(g) for g in ledger.groups] == [1, 7]
    assert sorted(ledger.groups[1]) == sorted(requests[1:])
    assert not ledger.overlapped  # one commit at a time
    assert queue.queued == 0


def test_each_writer_hears_its_own_outcome() -> None:
    ledger, queue = held(4)
    heard = run(queue, ["r0", "r1", "bad r2", "r3"], ledger)
    assert heard == {"r0": "done r0", "r1": "done r1", "bad r2": "raised bad r2", "r3": "done r3"}


def test_a_group_takes_only_what_fits() -> None:
    ledger, queue = held(8, fits=lambda group, r: len(group) < 3)
    heard = run(queue, [f"r{i}" for i in range(8)], ledger)
    assert len(heard) == 8
    assert [len(g) for g in ledger.groups] == [1, 3, 3, 1]


def test_a_commit_that_fails_fails_its_whole_group_and_the_queue_goes_on() -> None:
    calls: list[list[str]] = []

    def commit(group: list[str]) -> Sequence[str | BaseException]:
        calls.append(group)
        if len(calls) == 1:
            raise RuntimeError("disk gone")
        return [f"done {r}" for r in group]

    queue: GroupCommit[str, str] = GroupCommit(commit, lambda group, r: True)
    with pytest.raises(RuntimeError, match="disk gone"):
        queue.submit("a")
    assert queue.submit("b") == "done b"
    assert queue.queued == 0


def test_too_few_outcomes_is_an_error_for_the_group_not_a_hang() -> None:
    queue: GroupCommit[str, str] = GroupCommit(lambda group: [], lambda group, r: True)
    with pytest.raises(RuntimeError, match="0 outcomes for 1 requests"):
        queue.submit("a")
    assert queue.queued == 0


def test_a_commit_delay_waits_for_a_writer_busy_of_late() -> None:
    ledger = Ledger()
    queue: GroupCommit[str, str] = GroupCommit(ledger.commit, lambda group, r: True, delay=30.0, recent=60.0)
    wrote, go = threading.Event(), threading.Event()

    def b() -> None:  # one writer thread: it writes, and writes again a little later
        queue.submit("b1")
        wrote.set()
        go.wait(10)
        time.sleep(0.05)
        queue.submit("b2")

    other = threading.Thread(target=b)
    other.start()
    assert wrote.wait(10)
    go.set()
    started = time.monotonic()
    assert queue.submit("a1") == "done a1"  # a leads, and waits for b rather than committing alone
    other.join(10)
    assert ledger.groups == [["b1"], ["a1", "b2"]]
    assert time.monotonic() - started < 15  # b's arrival ended the wait, not the delay


def test_a_lone_writer_is_never_delayed() -> None:
    ledger = Ledger()
    queue: GroupCommit[str, str] = GroupCommit(ledger.commit, lambda group, r: True, delay=30.0, recent=60.0)
    started = time.monotonic()
    for i in range(3):
        queue.submit(f"a{i}")
    assert time.monotonic() - started < 15  # far from one delay, let alone three
    assert ledger.groups == [["a0"], ["a1"], ["a2"]]


def test_a_writer_gone_quiet_is_not_waited_for() -> None:
    ledger = Ledger()
    queue: GroupCommit[str, str] = GroupCommit(ledger.commit, lambda group, r: True, delay=30.0, recent=0.05)
    other = threading.Thread(target=queue.submit, args=("b1",))
    other.start()
    other.join()
    time.sleep(0.1)  # longer than `recent`: b no longer counts as busy
    started = time.monotonic()
    queue.submit("a1")
    assert time.monotonic() - started < 15
