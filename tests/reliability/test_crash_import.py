"""SIGKILL `evolve import` at random points: the log holds the whole batch or
none of it, and the projection resumes to exactly what a rebuild gives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evolve.bootstrap import Evolve
from evolve.settings import Settings
from tests.conftest import Databases

RUNS = int(os.environ.get("EVOLVE_TEST_CRASH_RUNS", "4"))
ORGS = 60
EVENTS = 1500


def write_history(folder: Path, seed: int) -> int:
    rng = random.Random(seed)
    lines = []
    for i in range(ORGS):
        lines.append(
            (
                f"2016-03-15-org-{i:03d}.yaml",
                f"type: FootprintDesignated\neffective: 2016-03-15\nprecision: day\n"
                f"organisation: org-{i}\nname: Org {i}\nsources: [{{title: t, seed: s.txt}}]\n",
            )
        )
    for n in range(EVENTS - ORGS):
        day = f"20{rng.randint(16, 22)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        org = f"org-{rng.randrange(ORGS)}"
        if rng.random() < 0.02:
            body = "type: PartnershipsFormed\nscope: {stage: footprint}\n"
        else:
            body = f"type: LeaderAppointed\norganisation: {org}\nleader: Leader {n}\n"
        lines.append(
            (f"{day}-e{n:05d}.yaml", f"{body}effective: {day}\nprecision: day\nsources: [{{title: t, seed: s.txt}}]\n")
        )
    for name, text in lines:
        (folder / name).write_text(text)
    return len(lines)


def tables(system: Evolve) -> list[tuple[Any, ...]]:
    with system.view.reader() as read:
        rows = read.rows("SELECT * FROM timeline_intervals ORDER BY org, valid_from, recorded_from_us")
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


@pytest.mark.parametrize("run", range(RUNS))
def test_killed_import_is_all_or_nothing_and_projection_resumes(databases: Databases, tmp_path: Path, run: int) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    total = write_history(folder, seed=run)
    url = databases.url(file=True)
    env = {**os.environ, "EVOLVE_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "import", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(random.Random(run).uniform(0.5, 4.0))
    process.send_signal(signal.SIGKILL)
    process.wait()

    system = Evolve(Settings(database_url=url))
    try:
        position = system.store.position()
        assert position in (0, total), f"a killed import left {position} of {total} events"
        system.catch_up()
        resumed = tables(system)
        system.rebuild()
        assert tables(system) == resumed
        assert system.store.verify().broken_at is None
        if position:
            assert len(system.queries.stats().by_kind) and system.queries.stats().total == ORGS
    finally:
        system.close()
