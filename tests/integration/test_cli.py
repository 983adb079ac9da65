"""The CLI: real commands on a real database; errors are one line and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from tests.conftest import Databases

EVENTS = Path(__file__).resolve().parents[2] / "events"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(databases: Databases) -> str:
    return databases.url(file=True)


@pytest.fixture(scope="module")
def imported(databases: Databases) -> str:
    """A database holding the curated history, imported once per module and backend by `evolve import`
    (the import itself is tested below); the tests that share it only read it, or rebuild its view."""
    url = databases.url(file=True)
    try:
        main(["import", str(EVENTS), "--db", url])
    except SystemExit as exc:
        assert not exc.code, f"evolve import failed with {exc.code}"
    return url


def test_import_then_state_shows_a_real_footprint(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "import", str(EVENTS), "--db", db)
    assert code == 0 and "imported" in out
    code, out, _ = run(capsys, "state", "frimley-health-and-care", "--as-of", "2016-06-01", "--json", "--db", db)
    state = json.loads(out)
    assert code == 0
    assert (state["stage"], state["code"], state["as_of"]) == ("footprint", "E54000034", "2016-06-01")
    code, out, _ = run(capsys, "import", str(EVENTS), "--db", db)
    assert code == 0 and "imported 0 events" in out


def test_a_bad_file_imports_nothing(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    good = tmp_path / "2016-03-15-a.yaml"
    good.write_text(
        "type: FootprintDesignated\neffective: 2016-03-15\nprecision: day\norganisation: a\nname: A\n"
        "sources: [{title: t, seed: s.txt}]\n"
    )
    (tmp_path / "2016-03-16-b.yaml").write_text(
        "type: LeaderAppointed\neffective: 2016-02-30\nprecision: day\norganisation: a\nleader: L\n"
        "sources: [{title: t, seed: s.txt}]\n"
    )
    code, _, err = run(capsys, "import", str(tmp_path), "--db", db)
    assert code == 1
    assert err.count("\n") == 1 and "2016-03-16-b.yaml" in err and "$.effective" in err
    code, out, _ = run(capsys, "list", "--json", "--db", db)
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["state", "nowhere"], 1, "no organisation 'nowhere'"),
        (["state", "x", "--as-of", "2017-02-30"], 2, "not a valid date"),
        (["state", "x", "--known-at", "2020-01-01"], 2, "needs a time zone"),
        (["state"], 2, "Missing argument"),
        (["list", "--stage", "nope"], 2, "--stage"),
        (["frobnicate"], 2, "No such command"),
        (["import", "/nonexistent/events"], 1, "no such file or directory"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], db: str, args: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, *args, "--db", db)
    assert got == code
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert out == ""


def test_rebuild_gives_the_same_answers(capsys: pytest.CaptureFixture[str], imported: str) -> None:
    db = imported
    _, before, _ = run(capsys, "list", "--as-of", "2019-01-01", "--json", "--db", db)
    code, out, _ = run(capsys, "rebuild", "--db", db)
    assert code == 0 and "rebuilt" in out
    _, after, _ = run(capsys, "list", "--as-of", "2019-01-01", "--json", "--db", db)
    strip = lambda text: [{k: v for k, v in s.items() if k != "known_at"} for s in json.loads(text)]  # noqa: E731
    assert strip(after) == strip(before) and len(strip(before)) > 40


def test_history_and_validate(capsys: pytest.CaptureFixture[str], imported: str) -> None:
    code, out, _ = run(capsys, "history", "dorset", "--json", "--db", imported)
    stages = [i["state"]["stage"] for i in json.loads(out)["items"]]
    assert code == 0 and stages[0] == "footprint" and "acs" in stages and "ics" in stages
    code, out, _ = run(capsys, "validate", str(EVENTS))
    assert code == 0 and out.startswith("ok:")


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ["import", "validate", "state", "list", "lookup", "history", "rebuild", "serve", "openapi"]:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "Usage:" in out


def test_lookup_by_code(capsys: pytest.CaptureFixture[str], imported: str) -> None:
    code, out, _ = run(capsys, "lookup", "e54000034", "--as-of", "2017-07-01", "--json", "--db", imported)
    assert code == 0 and [s["id"] for s in json.loads(out)] == ["frimley-health-and-care"]
    code, out, _ = run(capsys, "lookup", "14L", "--as-of", "2016-01-01", "--db", imported)
    assert code == 0 and "0 holding 14L" in out
