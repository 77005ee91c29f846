"""The `percorso` command line.

Every command gets its `Settings` from the root callback (`--home`), calls into
a capability, and prints. Errors a user can fix exit 2 with one clear line; a
busy or unreachable store exits 75 (try again); no traceback reaches the user.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from percorso.config import Settings
from percorso.errors import TransientError, UserError

app = typer.Typer(
    name="percorso",
    help="Percorso: customer journeys from every signal. / Percorsi cliente da ogni segnale.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USAGE = 2
EXIT_TEMPFAIL = 75


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Folder of the embedded stores (default $PERCORSO_HOME or ./.percorso).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    try:
        settings = Settings() if home is None else Settings(home=home)
    except ValidationError as exc:
        raise UserError(
            f"invalid PERCORSO_* setting: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}"
        ) from exc
    ctx.obj = settings


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


_registered = False


def _register() -> None:
    # Imported here so that each command module can import `app` helpers above;
    # once only, so that calling main() again in one process adds nothing.
    global _registered
    if _registered:
        return
    _registered = True
    from percorso.app.cli import (
        analytics,
        demo,
        failed,
        importing,
        journey,
        keys,
        profiles,
        serve,
        stats,
    )

    for module in (analytics, demo, failed, importing, journey, keys, profiles, serve, stats):
        module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turn our errors into one line and an exit code."""
    _register()
    try:
        # Standalone mode: Typer reports usage errors itself and exits 2.
        app(args=argv)
    except UserError as exc:
        # Escaped: a message quotes the user's input, which may hold brackets.
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(EXIT_USAGE)
    except TransientError as exc:
        err.print(f"[bold yellow]try again:[/] {escape(str(exc))}")
        sys.exit(EXIT_TEMPFAIL)
