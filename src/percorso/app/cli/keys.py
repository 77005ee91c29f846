"""`percorso keys create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from percorso.app.cli import settings_of
from percorso.govern.keys import KeyService, Role
from percorso.operational.db import Database

keys_app = typer.Typer(
    help="API keys: a write key per source, read and admin keys for the API.", no_args_is_help=True
)
out = Console(highlight=False)


def _service(ctx: typer.Context) -> KeyService:
    settings = settings_of(ctx)
    db = Database(settings.resolved_database_url)
    db.migrate()
    return KeyService(db)


@keys_app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option(help="write (collect events), read (query) or admin.")],
    source: Annotated[
        str | None, typer.Option(help="Source the write key sends as, e.g. sito-web.")
    ] = None,
) -> None:
    """Create a key; its secret is printed alone on the last line (shown once)."""
    key, secret = _service(ctx).create(role, source)
    out.print(
        f"created {key.role} key #{key.id}" + (f" for source '{key.source}'" if key.source else "")
    )
    print(secret)


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """List keys (never their secrets)."""
    table = Table("id", "prefix", "role", "source", "created", "revoked")
    for key in _service(ctx).list():
        table.add_row(
            str(key.id),
            key.prefix + "…",
            key.role,
            key.source or "",
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def revoke(
    ctx: typer.Context, key_id: Annotated[int, typer.Argument(help="Id from `percorso keys list`.")]
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    key = _service(ctx).revoke(key_id)
    out.print(f"revoked key #{key.id} ({key.prefix}…)")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
