"""One rule book: `evolve validate` (no database) and `evolve import` (a real store) give every
batch of files the same verdict, in the same words (evolve.rules serves both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from api.cli import main
from evolve.files import event_id_for
from tests.conftest import Databases

SOURCE = [{"title": "A source", "url": "https://example.org/source"}]


def footprint(org: str, day: str = "2016-03-15") -> dict[str, Any]:
    return {"type": "FootprintDesignated", "effective": day, "precision": "day", "organisation": org,
            "name": f"Footprint {org}", "sources": SOURCE}


def policy(policy_id: str, day: str = "2016-01-01") -> dict[str, Any]:
    return {"type": "PolicyPublished", "effective": day, "precision": "day", "policy_id": policy_id,
            "title": "A policy", "publisher": "NHS England", "url": "https://example.org/p", "sources": SOURCE}


def leader(org: str, day: str = "2016-03-20") -> dict[str, Any]:
    return {"type": "LeaderAppointed", "effective": day, "precision": "day", "organisation": org,
            "leader": "A. Person", "sources": SOURCE}


def retract(target: str, day: str = "2016-04-01") -> dict[str, Any]:
    return {"type": "EventCorrected", "effective": day, "precision": "day", "corrects": target, "retract": True,
            "sources": SOURCE}


#: name -> (files in the batch, the message both paths give, or None for a batch both accept)
CASES: dict[str, tuple[dict[str, dict[str, Any]], str | None]] = {
    "accepted": (
        {"a-footprint.yaml": footprint("a"), "b-leader.yaml": leader("a"), "c-policy.yaml": policy("p")},
        None,
    ),
    "a merge must create a new id": (
        {
            "1-a.yaml": footprint("a"),
            "2-b.yaml": footprint("b"),
            "3-c.yaml": footprint("c"),
            "4-merge.yaml": {"type": "OrganisationsMerged", "effective": "2018-08-01", "precision": "month",
                             "merged": ["a", "b"], "into": "c", "name": "C", "sources": SOURCE},
        },
        "4-merge.yaml: 'c' already exists; a merge must create a new id",
    ),
    "an unknown organisation": (
        {"1-leader.yaml": leader("nowhere")},
        "1-leader.yaml: unknown organisation 'nowhere': no event in the log or this batch registers it",
    ),
    "a policy named as an organisation": (
        {"1-policy.yaml": policy("p"), "2-leader.yaml": leader("p")},
        "2-leader.yaml: 'p' names a policy, not an organisation",
    ),
    "an organisation cited as a policy": (
        {"1-a.yaml": footprint("a"), "2-b.yaml": {**footprint("b"), "policy": "a"}},
        "2-b.yaml: 'a' names an organisation, not a policy",
    ),
    "two kinds created for one id": (
        {"1-policy.yaml": policy("x"), "2-x.yaml": footprint("x")},
        "2-x.yaml: 'x' already names a policy",
    ),
    "a correction cannot be corrected": (
        {"1-a.yaml": footprint("a"), "2-leader.yaml": leader("a"), "3-fix.yaml": retract("2-leader.yaml"),
         "4-fix-the-fix.yaml": retract("3-fix.yaml", "2016-04-02")},
        "4-fix-the-fix.yaml: a correction cannot be corrected; correct the original event again",
    ),
    "a correction of an event nobody recorded": (
        {"1-a.yaml": footprint("a"), "2-fix.yaml": retract("0-missing.yaml")},
        f"2-fix.yaml: event {event_id_for('0-missing.yaml')} (in `corrects`) is not in the log",
    ),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", list(CASES))
def test_validate_and_import_agree(
    case: str, tmp_path: Path, databases: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    files, message = CASES[case]
    folder = tmp_path / "events"
    folder.mkdir()
    for name, event in files.items():
        (folder / name).write_text(yaml.safe_dump(event, sort_keys=False))
    db = databases.url(file=True)

    validated = run(capsys, "validate", str(folder))
    imported = run(capsys, "import", str(folder), "--db", db)

    if message is None:
        assert (validated[0], imported[0]) == (0, 0), (validated, imported)
        return
    assert validated[0] == imported[0] == 1
    assert validated[2].splitlines()[0] == f"error: {message}"
    assert imported[2].strip() == f"error: {message}"
    # Refused whole: the log is still empty.
    assert run(capsys, "list", "--json", "--db", db)[1].strip() == "[]"
