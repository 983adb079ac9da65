"""Reliability tests: `slow` ones (the 60 s load run, long crash loops) only run when asked for, and the figures
each test measured (runs, kills, requests, losses, p99) are printed at the end of the session.

pyproject's `addopts` has no `-m "not slow"`, so this hook deselects `slow` items unless a marker
expression was given (`pytest -m slow`, `pytest -m "slow or not slow"`) or EVOLVE_TEST_SLOW=1 is set.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability.support import REPORT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.option.markexpr or os.environ.get("EVOLVE_TEST_SLOW") == "1":
        return
    kept, slow = [], []
    for item in items:
        (slow if item.get_closest_marker("slow") is not None else kept).append(item)
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("reliability figures")
        for line in REPORT:
            terminalreporter.write_line(line)
