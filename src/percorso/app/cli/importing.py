"""`percorso import events|contacts|orders|subscribers|tickets FILE`.

Thin: options in, `ImportJob` + the kind's `prepare` (read and check, nothing
written), then one write through the sink, then the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichBar
from rich.table import Table

from percorso.app.cli import settings_of
from percorso.collect.importers import (
    EventColumns,
    Format,
    ImportJob,
    ImportKind,
    ImportOptions,
    ImportReport,
)
from percorso.collect.importers import contacts as contacts_import
from percorso.collect.importers import events as events_import
from percorso.collect.importers import orders as orders_import
from percorso.collect.importers import subscribers as subscribers_import
from percorso.collect.importers import tickets as tickets_import
from percorso.collect.importers.events import EventType
from percorso.collect.sink import open_sink
from percorso.warehouse.store import EventQuery

import_app = typer.Typer(
    help=(
        "Import files: event tables, CRM contacts, ERP orders, mailer subscribers, help desk tickets. "
        "/ Importa file: eventi, contatti CRM, ordini ERP, iscritti newsletter, ticket di assistenza."
    ),
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

FileArg = Annotated[
    Path, typer.Argument(help="CSV, JSON Lines, Parquet or Excel (.xlsx) file.", show_default=False)
]
SourceOpt = Annotated[
    str | None,
    typer.Option("--source", help="Source name stored on the events (default: the kind's)."),
]
FormatOpt = Annotated[
    Format | None, typer.Option("--format", help="File format, when the extension does not say.")
]
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help="Excel sheet to read (default: the first).")
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping", help='YAML file renaming columns: columns: {"Their name": our_name}.'
    ),
]
ZoneOpt = Annotated[
    str,
    typer.Option("--timezone", help="Zone of times written without an offset, e.g. Europe/Rome."),
]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Import the good rows; write bad ones to a rejects file."),
]
RejectsOpt = Annotated[
    Path | None, typer.Option("--rejects", help="Rejects file (default: FILE.rejects.csv).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
PhoneOpt = Annotated[
    str, typer.Option("--phone-prefix", help="Country code for phones without one.")
]


class _Bar:
    """`Progress` drawn with rich on stderr; silent when stderr is not a terminal."""

    def __init__(self, bar: RichBar) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def step(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, amount)


@contextmanager
def _progress() -> Iterator[_Bar]:
    bar = RichBar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        yield _Bar(bar)


def _run(
    ctx: typer.Context,
    kind: ImportKind,
    options: ImportOptions,
    as_json: bool,
    prepare: Callable[[ImportJob], pa.Table | EventQuery],
) -> None:
    settings = settings_of(ctx)
    with _progress() as progress, ImportJob(kind, options, progress) as job:
        events = prepare(job)
        with open_sink(settings) as sink:
            report = job.finish(events, sink)
    _print(report, as_json)


def _print(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print(report.model_dump_json())
        return
    detected = f" ({report.detected})" if report.detected else ""
    out.print(f"imported {', '.join(report.files)}{detected} as source '{report.source}'")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("rows read", f"{report.rows_read:,}")
    table.add_row("events stored", f"{report.stored:,}")
    table.add_row("duplicates skipped", f"{report.duplicates:,}")
    rejected = f"{report.rejected:,}"
    if report.rejects_files:
        rejected += "  → " + ", ".join(report.rejects_files)
    table.add_row("rejected rows", rejected)
    table.add_row("seconds", f"{report.seconds:.2f}")
    out.print(table)


def _options(
    source: str | None,
    file_format: Format | None,
    sheet: str | None,
    mapping: Path | None,
    timezone: str,
    skip_invalid: bool,
    rejects: Path | None,
    phone_prefix: str = "+39",
) -> ImportOptions:
    return ImportOptions(
        source=source,
        file_format=file_format,
        sheet=sheet,
        mapping=mapping,
        timezone=timezone,
        skip_invalid=skip_invalid,
        rejects=rejects,
        phone_prefix=phone_prefix,
    )


@import_app.command("events")
def events(
    ctx: typer.Context,
    file: FileArg,
    user_col: Annotated[
        str | None, typer.Option("--user-col", help="Column with the user id.")
    ] = None,
    anonymous_col: Annotated[
        str | None, typer.Option("--anonymous-col", help="Column with the anonymous (visitor) id.")
    ] = None,
    event_col: Annotated[
        str | None, typer.Option("--event-col", help="Column with the event name.")
    ] = None,
    time_col: Annotated[
        str | None, typer.Option("--time-col", help="Column with the event time.")
    ] = None,
    id_col: Annotated[
        str | None, typer.Option("--id-col", help="Column with a unique message id.")
    ] = None,
    event_type: Annotated[
        EventType, typer.Option("--type", help="Kind of event: track, identify, page or screen.")
    ] = "track",
    event_name: Annotated[
        str | None, typer.Option("--event-name", help="One event name for every row.")
    ] = None,
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    sheet: SheetOpt = None,
    mapping: MappingOpt = None,
    timezone: ZoneOpt = "UTC",
    skip_invalid: SkipOpt = False,
    rejects: RejectsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An events table: one row per event; other columns become properties."""
    spec = EventColumns(
        user=user_col,
        anonymous=anonymous_col,
        event=event_col,
        time=time_col,
        message_id=id_col,
        event_name=event_name,
        type=event_type,
    )
    options = _options(source, file_format, sheet, mapping, timezone, skip_invalid, rejects)
    _run(ctx, "events", options, as_json, lambda job: events_import.prepare(job, file, spec))


@import_app.command("contacts")
def contacts(
    ctx: typer.Context,
    file: FileArg,
    phone_prefix: PhoneOpt = "+39",
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    sheet: SheetOpt = None,
    mapping: MappingOpt = None,
    timezone: ZoneOpt = "UTC",
    skip_invalid: SkipOpt = False,
    rejects: RejectsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """CRM contacts (one identify each) and deal stage changes (deal_stage_changed)."""
    options = _options(
        source, file_format, sheet, mapping, timezone, skip_invalid, rejects, phone_prefix
    )
    _run(ctx, "contacts", options, as_json, lambda job: contacts_import.prepare(job, file))


@import_app.command("orders")
def orders(
    ctx: typer.Context,
    file: FileArg,
    lines: Annotated[
        Path | None,
        typer.Option("--lines", help="Order lines file (order id, sku, name, qty, price)."),
    ] = None,
    currency: Annotated[
        str, typer.Option("--currency", help="Currency of orders that do not say.")
    ] = "EUR",
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    sheet: SheetOpt = None,
    mapping: MappingOpt = None,
    timezone: ZoneOpt = "UTC",
    skip_invalid: SkipOpt = False,
    rejects: RejectsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """ERP orders (order_placed), with their lines from --lines or from a flat file."""
    options = _options(source, file_format, sheet, mapping, timezone, skip_invalid, rejects)
    _run(
        ctx,
        "orders",
        options,
        as_json,
        lambda job: orders_import.prepare(job, file, lines=lines, currency=currency),
    )


@import_app.command("subscribers")
def subscribers(
    ctx: typer.Context,
    file: FileArg,
    list_name: Annotated[
        str | None, typer.Option("--list", help="Name of the list or audience exported.")
    ] = None,
    phone_prefix: PhoneOpt = "+39",
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    sheet: SheetOpt = None,
    mapping: MappingOpt = None,
    timezone: ZoneOpt = "UTC",
    skip_invalid: SkipOpt = False,
    rejects: RejectsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mailer subscribers (Mailchimp, Brevo) or campaign activity (opens, clicks, bounces…)."""
    options = _options(
        source, file_format, sheet, mapping, timezone, skip_invalid, rejects, phone_prefix
    )
    _run(
        ctx,
        "subscribers",
        options,
        as_json,
        lambda job: subscribers_import.prepare(job, file, list_name=list_name),
    )


@import_app.command("tickets")
def tickets(
    ctx: typer.Context,
    file: FileArg,
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    sheet: SheetOpt = None,
    mapping: MappingOpt = None,
    timezone: ZoneOpt = "UTC",
    skip_invalid: SkipOpt = False,
    rejects: RejectsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Help desk tickets: ticket_opened and, once solved, ticket_closed."""
    options = _options(source, file_format, sheet, mapping, timezone, skip_invalid, rejects)
    _run(ctx, "tickets", options, as_json, lambda job: tickets_import.prepare(job, file))


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
