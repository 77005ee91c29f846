"""`percorso stats [--json]`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from percorso.app.cli import settings_of

out = Console(highlight=False)


def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Totals of the store: events, failed events, sources, first and last event."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        result = sink.stats()
    if as_json:
        print(result.model_dump_json())
        return
    out.print(f"events: {result.events:,}   failed events: {result.failed_events:,}")
    out.print(f"from {result.first_ts or '-'} to {result.last_ts or '-'}")
    table = Table("source", "events")
    for row in result.by_source:
        table.add_row(row.source, f"{row.events:,}")
    out.print(table)
    table = Table("channel", "events")
    for ch in result.by_channel:
        table.add_row(ch.channel or "(unknown)", f"{ch.events:,}")
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
