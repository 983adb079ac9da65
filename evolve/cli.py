"""The `evolve` command line. Each command is a thin call into `Evolve`.

Errors print one line on stderr (``error: ...``) and exit non-zero:
1 for a refused operation, 2 for a malformed command line.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evolve import files, labels
from evolve.bootstrap import Evolve, Imported, state_problems
from evolve.errors import EvolveError
from evolve.settings import Settings
from evolve.state import OrganisationState
from evolve.types import Kind, Stage

app = typer.Typer(
    name="evolve",
    help="An event-sourced, bitemporal log of NHS England's local health system policy (2014-2022).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

try:  # typer >= 0.29 vendors click; older releases use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

REPO_EVENTS = Path(__file__).resolve().parent.parent / "events"

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default: $EVOLVE_DATABASE_URL or ./evolve.db)."),
]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Valid time: a date, YYYY-MM-DD (default: today).")]
KnownAt = Annotated[
    str | None,
    typer.Option("--known-at", help="Record time: what the log knew then, ISO timestamp with zone (default: now)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class UserError(Exception):
    """A bad command line value: reported in one line, exit 2."""


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    raise SystemExit(code)


def parse_day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} {value!r} is not a valid date (YYYY-MM-DD)") from None


def parse_moment(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} {value!r} is not an ISO timestamp (e.g. 2025-01-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise UserError(f"{name} {value!r} needs a time zone (e.g. 2025-01-01T00:00:00Z)")
    return moment


@contextmanager
def opened(db: str | None) -> Iterator[Evolve]:
    system = Evolve(Settings.from_env(db))
    try:
        yield system
    finally:
        system.close()


def progress_bar() -> Progress:
    """Progress on stderr, shown only on a terminal; each task says what it counts."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=not err.is_terminal,
        disable=not err.is_terminal,
    )


def import_files(system: Evolve, path: Path) -> Imported:
    """`Evolve.import_files`, with a progress bar for reading."""
    with progress_bar() as bar:
        reading = bar.add_task("reading events", total=None)
        return system.import_files(path, read=lambda done, total: bar.update(reading, completed=done, total=total))


def project(system: Evolve, label: str, rebuild: bool = False) -> int:
    with progress_bar() as bar:
        task = bar.add_task(label, total=system.position())
        if rebuild:
            return system.rebuild(progress=lambda n: bar.advance(task, n))
        bar.update(task, completed=system.queries.projected_entries())
        return system.catch_up(progress=lambda n: bar.advance(task, n))


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="An event file, or a directory of them (searched recursively).")],
    db: DbOption = None,
) -> None:
    """Append the events in PATH to the log, all or nothing; files already imported are skipped."""
    with opened(db) as system:
        done = import_files(system, path)
    out.print(f"imported {done.appended} events ({done.present} already in the log); log position {done.position}")


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="An event file or a directory of them.")],
    seeds: Annotated[
        Path | None, typer.Option(help="Directory of seed documents that `seed:` sources must name.")
    ] = None,
) -> None:
    """Check event files without touching a database: decoding, ids, references, sources, and the
    state rules (every organisation an event names exists on its date, ...), as an import would."""
    loaded = files.load(path)
    problems = files.check_references(loaded, seeds=seeds) or state_problems(loaded)
    if problems:
        for problem in problems[:-1]:
            err.print(f"error: {problem}", markup=False, soft_wrap=True)
        fail(problems[-1])
    out.print(f"ok: {len(loaded)} events")


@app.command()
def state(
    org: Annotated[str, typer.Argument(help="Organisation id, e.g. frimley-health-and-care.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    json: Json = False,
    db: DbOption = None,
) -> None:
    """Show one organisation's state on a date, as the log knew it at a time."""
    with opened(db) as system:
        result = system.queries.state(org, parse_day(as_of, "--as-of"), parse_moment(known_at, "--known-at"))
    if json:
        print_json(result)
        return
    table = Table(show_header=False, title=f"{result.name} on {result.as_of.isoformat()}")
    for key, value in _summary(result).items():
        table.add_row(key, value)
    out.print(table)


def _summary(s: OrganisationState) -> dict[str, str]:
    funding = sum(f.amount_pence for f in s.funding)
    return {
        "id": s.id,
        "kind": s.kind.value,
        "stage": f"{s.stage.value} ({s.stage_term})" if s.stage else "-",
        "since": s.since.isoformat(),
        "code": s.code or "-",
        "ods code": s.ods_code or "-",
        "region": s.region or "-",
        "parent": s.parent or "-",
        "leader": labels.leader_text(s.leader) if s.leader else "-",
        "population": labels.population_text(s.population) if s.population else "-",
        "members": ", ".join(s.members) or "-",
        "member of": ", ".join(s.member_of) or "-",
        "sub-areas": ", ".join(s.sub_areas) or "-",
        "flags": "; ".join(labels.flag_text(f) for f in s.flags) or "-",
        "funding": f"£{funding / 100:,.2f} in {len(s.funding)} allocations" if s.funding else "-",
        "milestones": ", ".join(f"{m.milestone.value} {m.date.isoformat()}" for m in s.milestones) or "-",
        "last event": s.last_event_id,
        "known at": s.known_at.isoformat(),
    }


@app.command("list")
def list_(
    as_of: AsOf = None,
    known_at: KnownAt = None,
    stage: Annotated[Stage | None, typer.Option(help="Only health systems at this stage.")] = None,
    kind: Annotated[Kind | None, typer.Option(help="Only organisations of this kind.")] = None,
    q: Annotated[str | None, typer.Option(help="Name or id contains this text (case-insensitive).")] = None,
    json: Json = False,
    db: DbOption = None,
) -> None:
    """List organisations as of a date, with optional filters."""
    _listing(db, as_of, known_at, json, "organisations", kind=kind, stage=stage, q=q)


@app.command()
def lookup(
    code: Annotated[str, typer.Argument(help="An ONS code (E54000034, E38000217) or an ODS code (QYG, 10C).")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    json: Json = False,
    db: DbOption = None,
) -> None:
    """Which organisation held a code on a date (exact, case-insensitive; none is not an error)."""
    _listing(db, as_of, known_at, json, f"holding {code}", code=code)


def _listing(
    db: str | None, as_of: str | None, known_at: str | None, json: bool, what: str, **filters: Any
) -> None:
    """The states matching `filters` on a date, as JSON or a table (``list`` and ``lookup``)."""
    with opened(db) as system:
        day, moment = parse_day(as_of, "--as-of"), parse_moment(known_at, "--known-at")
        items = list(system.queries.all_states(day, moment, **filters))
    if json:
        print_json(items)
        return
    table = Table("id", "name", "kind", "stage", "code", "ods code", "since", title=f"{len(items)} {what}")
    for s in items:
        stage = s.stage.value if s.stage else "-"
        table.add_row(s.id, s.name, s.kind.value, stage, s.code or "-", s.ods_code or "-", s.since.isoformat())
    out.print(table)


def print_json(value: object) -> None:
    """One JSON document on stdout, never wrapped or marked up."""
    out.print(msgspec.json.encode(value).decode(), markup=False, soft_wrap=True)


@app.command()
def history(
    org: Annotated[str, typer.Argument(help="Organisation id.")],
    known_at: KnownAt = None,
    json: Json = False,
    db: DbOption = None,
) -> None:
    """Show an organisation's history as intervals of valid time."""
    with opened(db) as system:
        result = system.queries.history(org, parse_moment(known_at, "--known-at"))
    if json:
        print_json(result)
        return
    columns = ("from", "to", "name", "code", "stage", "leader", "members", "flags", "event")
    table = Table(*columns, title=f"history of {org}")
    for i in result.items:
        s = i.state
        table.add_row(
            i.valid_from.isoformat(),
            i.valid_to.isoformat() if i.valid_to else "…",
            s.name,
            s.code or "-",
            s.stage.value if s.stage else "-",
            s.leader.name if s.leader else "-",
            str(len(s.members)),
            ", ".join(f.flag.value for f in s.flags) or "-",
            i.event_id,
        )
    out.print(table)


@app.command()
def export(
    as_of: AsOf = None,
    known_at: KnownAt = None,
    format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",  # noqa: A002
    db: DbOption = None,
) -> None:
    """Print every organisation's state on a date, as CSV (one row each) or JSON."""
    from evolve.export import STATE_COLUMNS, csv_lines, json_text, state_row

    if format not in ("csv", "json"):
        raise UserError(f"--format must be csv or json, not {format!r}")
    with opened(db) as system:
        states = list(system.queries.all_states(parse_day(as_of, "--as-of"), parse_moment(known_at, "--known-at")))
    if format == "json":
        sys.stdout.write(json_text(states) + "\n")
    else:
        sys.stdout.writelines(csv_lines(STATE_COLUMNS, (state_row(s) for s in states)))


@app.command()
def diff(
    start: Annotated[str, typer.Option("--from", help="Start date (exclusive), YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="End date (inclusive), YYYY-MM-DD.")],
    org: Annotated[str | None, typer.Argument(help="One organisation (default: all).")] = None,
    known_at: KnownAt = None,
    json: Json = False,
    db: DbOption = None,
) -> None:
    """What changed between two dates, each change with the event that caused it."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    assert first is not None and last is not None
    with opened(db) as system:
        result = system.queries.diff(first, last, org, parse_moment(known_at, "--known-at"))
    if json:
        print_json(result)
        return
    table = Table("date", "organisation", "changes", "event", title=f"changes after {first} up to {last}")
    for t in result.items:
        text = "; ".join(f"{c.field}: {c.before} → {c.after}" for c in t.changes)
        table.add_row(t.date.isoformat(), t.organisation, text, t.event_id or "-")
    out.print(table)


@app.command()
def verify(db: DbOption = None) -> None:
    """Check the hash chain of the whole log; report the first broken position."""
    with opened(db) as system:
        result = system.verify()
    if result.broken_at is not None:
        fail(f"log broken at position {result.broken_at}: {result.reason} ({result.checked} entries checked)")
    out.print(f"ok: {result.checked} entries, hash chain intact (head {result.head_hash[:16]}…)")


@app.command()
def rebuild(db: DbOption = None) -> None:
    """Drop the projection and rebuild it from the log."""
    with opened(db) as system:
        done = project(system, "rebuilding", rebuild=True)
        out.print(f"rebuilt the projection from {done} log entries")


@app.command("history-doc")
def history_doc(
    check: Annotated[bool, typer.Option("--check", help="Only check that the file is current; exit 1 if not.")] = False,
    events: Annotated[Path, typer.Option(help="Directory of event files.")] = REPO_EVENTS,
    target: Annotated[Path, typer.Option("--out", help="Markdown file.")] = REPO_EVENTS.parent / "docs" / "history.md",
) -> None:
    """Regenerate docs/history.md, the Markdown timeline of the event files."""
    from evolve import history_doc as doc

    if check and not doc.is_current(events, target):
        fail(f"{target} is out of date: run `evolve history-doc`")
    changed = False if check else doc.write(events, target)
    out.print(f"{target}: {'written' if changed else 'current'}", markup=False)


@app.command("project")
def project_command(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep running, projecting new entries as they arrive.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when following.", min=0.05)] = 0.5,
    db: DbOption = None,
) -> None:
    """Bring the projection up to date with the log (once, or continuously with --follow).

    Several projectors may run against one database: they take turns, and each
    log entry is projected exactly once (tracking records commit with the rows).
    """
    with opened(db) as system:
        done = system.catch_up()
        out.print(f"projected {done} entries; log position {system.position()}")
        while follow:
            time.sleep(interval)
            done = system.catch_up()
            if done:
                out.print(f"projected {done} entries; log position {system.position()}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every expected failure into one line.

    The console script is :func:`api.cli.main`, which adds the commands that need the REST
    API (`serve`, `openapi`) to this same app before it runs.
    """
    command: Any = typer.main.get_command(app)
    try:
        command.main(args=argv if argv is not None else sys.argv[1:], prog_name="evolve", standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        fail("aborted", 130)
    except click_exceptions.ClickException as exc:
        fail(exc.format_message().replace("\n", " "), 2)
    except UserError as exc:
        fail(str(exc), 2)
    except EvolveError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    main()
