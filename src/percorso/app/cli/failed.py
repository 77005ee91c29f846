"""`percorso failed list|export|replay`: the events that broke the spec, and their second chance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from percorso.app.cli import settings_of

failed_app = typer.Typer(
    help="Failed events: list them, export them to fix by hand, replay them.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)

SourceOpt = Annotated[str | None, typer.Option(help="Only this source.")]


@failed_app.command("list")
def list_failed(
    ctx: typer.Context,
    source: SourceOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The newest failed events with the reason each was refused."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        rows = sink.failed(source)
    rows = rows[:limit]
    if as_json:
        print(orjson.dumps([r.model_dump(mode="json") for r in rows]).decode())
        return
    table = Table("failure id", "received", "source", "message id", "reason")
    for row in rows:
        table.add_row(
            row.failure_id,
            f"{row.received_at:%Y-%m-%d %H:%M:%S}",
            row.source or "",
            row.message_id or "",
            row.reason,
        )
    out.print(table)


@failed_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="JSONL file to write: one failed event a line.", dir_okay=False)
    ],
    source: SourceOpt = None,
) -> None:
    """Write failed events to a JSONL file; fix the payloads, then `percorso failed replay --file`."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        rows = sink.failed(source)
    with file.open("wb") as handle:
        for row in rows:
            handle.write(
                orjson.dumps(
                    {
                        "failure_id": row.failure_id,
                        "source": row.source,
                        "reason": row.reason,
                        "payload": _payload(row.payload),
                    }
                )
                + b"\n"
            )
    out.print(f"wrote {len(rows)} failed event(s) to {file}")


def _payload(text: str | None) -> object:
    """The payload as JSON when it parses (easier to edit), else as the raw text."""
    try:
        return orjson.loads(text or "")
    except orjson.JSONDecodeError:
        return text


@failed_app.command("replay")
def replay(
    ctx: typer.Context,
    source: SourceOpt = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Corrected payloads, as written by `failed export`.", dir_okay=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Validate failed events again (corrected from --file if given); those that pass are stored."""
    from percorso.collect.replay import plan_replay, read_corrections
    from percorso.collect.sink import open_sink

    corrections = read_corrections(file) if file is not None else None
    with open_sink(settings_of(ctx)) as sink:
        rows = sink.failed(source)
        if corrections is not None:
            rows = [r for r in rows if r.failure_id in corrections]
        plan = plan_replay(rows, corrections)
        result = sink.write(plan.events, None, resolved_failures=plan.resolved)
    summary = {
        "replayed": len(plan.resolved),
        "stored": result.inserted,
        "duplicates": result.duplicates,
        "still_failing": [{"failure_id": f, "reason": r} for f, r in plan.still_failing],
    }
    if as_json:
        print(orjson.dumps(summary).decode())
        return
    out.print(
        f"replayed {len(plan.resolved)} failed event(s): {result.inserted} stored, "
        f"{result.duplicates} already there; {len(plan.still_failing)} still failing"
    )
    for failure, reason in plan.still_failing[:20]:
        out.print(f"  {failure}: {reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(failed_app, name="failed")
