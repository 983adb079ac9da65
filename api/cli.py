"""The `evolve` console script: the core CLI (:mod:`evolve.cli`) plus the commands that need the
REST API, `serve` and `openapi`. The core never imports this package; this module extends it."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.app import contract
from api.server import run
from evolve import cli
from evolve.cli import REPO_EVENTS, DbOption, app, import_files, opened, out
from evolve.settings import Settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    db: DbOption = None,
    events: Annotated[Path, typer.Option(help="History imported first when the log is empty.")] = REPO_EVENTS,
) -> None:
    """Serve the REST API (imports the curated history into an empty log first)."""
    settings = Settings.from_env(db)
    with opened(db) as system:
        if system.position() == 0 and events.is_dir():
            done = import_files(system, events)
            out.print(f"imported {done.appended} curated events from {events}")
    token = os.environ.get("EVOLVE_API_TOKEN")
    if token:
        out.print("write token: taken from EVOLVE_API_TOKEN")
    else:
        token = secrets.token_urlsafe(32)
        out.print(f"write token (generated for this run; set EVOLVE_API_TOKEN to choose one): {token}", soft_wrap=True)
    out.print(f"serving on http://{host}:{port}/  (docs: http://{host}:{port}/schema)")
    run(settings, host=host, port=port, token=token)


@app.command()
def openapi() -> None:
    """Print the OpenAPI contract (YAML) generated from the app."""
    sys.stdout.write(contract())


def main(argv: list[str] | None = None) -> None:
    """The console script: every command, errors as one line (see :func:`evolve.cli.main`)."""
    cli.main(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
