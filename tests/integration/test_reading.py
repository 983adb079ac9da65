"""Diff, export and verify over the curated history and over a tampered log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from evolve.bootstrap import Evolve
from evolve.export import STATE_COLUMNS, csv_lines, state_row

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def history(system: Evolve) -> Evolve:
    system.import_files(EVENTS)
    return system


def test_diff_of_a_first_wave_acs_shows_each_step_with_its_cause(history: Evolve) -> None:
    diff = history.queries.diff(dt.date(2017, 1, 1), dt.date(2018, 6, 1), "frimley-health-and-care")
    steps = [
        (t.date, next(c.after for c in t.changes if c.field == "stage"))
        for t in diff.items
        if any(c.field == "stage" for c in t.changes)
    ]
    assert steps == [(dt.date(2017, 3, 31), "partnership"), (dt.date(2017, 6, 15), "acs"), (dt.date(2018, 2, 2), "ics")]
    for transition in diff.items:
        cause = history.queries.event(transition.event_id)  # every change links to a real event
        assert cause.event.effective == transition.date


def test_diff_across_all_organisations_reports_merges_and_endings(history: Evolve) -> None:
    diff = history.queries.diff(dt.date(2018, 7, 1), dt.date(2018, 8, 31))
    ended = {t.organisation for t in diff.items if any(c.field == "exists" and c.after is False for c in t.changes)}
    started = {t.organisation for t in diff.items if any(c.field == "exists" and c.after is True for c in t.changes)}
    assert started == {"north-east-and-north-cumbria"}
    assert ended == {
        "durham-darlington-teesside-hambleton-richmondshire-and-whitby",
        "northumberland-tyne-and-wear-and-north-durham",
    }
    # The Cumbria ICS lives on inside the merged STP: its parent is set, it does not end.
    cumbria = [t for t in diff.items if t.organisation == "west-north-and-east-cumbria"]
    assert [(c.field, c.after) for t in cumbria for c in t.changes if c.field == "parent"] == [
        ("parent", "north-east-and-north-cumbria")
    ]


def test_csv_export_round_trips_the_states(history: Evolve) -> None:
    states = list(history.queries.all_states(dt.date(2017, 7, 1)))
    text = "".join(csv_lines(STATE_COLUMNS, (state_row(s) for s in states)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [s.id for s in states]
    assert rows == [state_row(s) for s in states]
    frimley = next(r for r in rows if r["id"] == "frimley-health-and-care")
    assert (frimley["stage"], frimley["code"]) == ("acs", "E54000034")


def test_verify_passes_then_finds_a_row_edited_in_the_database(history: Evolve) -> None:
    result = history.store.verify()
    assert result.broken_at is None and result.checked == history.store.position()
    datastore = history.store.recorder.datastore
    table = "stored_events" if history.settings.backend == "sqlite" else f'"{datastore.schema}".evolve_events'
    ph = "?" if history.settings.backend == "sqlite" else "%s"
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"SELECT state FROM {table} WHERE topic LIKE {ph} AND originator_version = 30", ("%Log.Recorded",)
        )
        row = cursor.fetchone()
        compressor = history.store.mapper.compressor
        assert compressor is not None  # the log's rows are compressed (evolve.compression)
        state = compressor.decompress(bytes(row["state"] if isinstance(row, dict) else row[0]))
        edited = re.sub(rb"(\d)(\d\d\d-\d\d-\d\d)", lambda m: (b"1" if m[1] != b"1" else b"2") + m[2], state, count=1)
        assert edited != state
        cursor.execute(
            f"UPDATE {table} SET state = {ph} WHERE topic LIKE {ph} AND originator_version = 30",
            (compressor.compress(edited), "%Log.Recorded"),
        )
    result = history.store.verify()
    assert result.broken_at == 30 and result.checked == 29
