"""`percorso demo [--customers N] [--seed S]`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from percorso.app.cli import settings_of
from percorso.demo.catalogue import COMPANY
from percorso.demo.generate import DEFAULT_PEOPLE
from percorso.demo.load import DEFAULT_SEED, check_size, load_demo

out = Console(highlight=False, soft_wrap=True)


def demo(
    ctx: typer.Context,
    customers: Annotated[
        int,
        typer.Option(
            help="People the demo company meets, from anonymous visitors to customers (~23 events each)."
        ),
    ] = DEFAULT_PEOPLE,
    seed: Annotated[
        int, typer.Option(help="Same seed and size, same events, byte for byte.")
    ] = DEFAULT_SEED,
) -> None:
    """Load Torrefazione Aurora, a demo company whose customers travel every channel."""
    check_size(customers, seed)
    settings = settings_of(ctx)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("people · {task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(COMPANY, total=customers, events=0)
        summary = load_demo(
            settings,
            people=customers,
            seed=seed,
            on_progress=lambda people, events: progress.update(
                task, completed=people, events=events
            ),
        )
    out.print(
        f"{COMPANY}: {summary.people:,} people ({summary.customers:,} customers), "
        f"{summary.events:,} events in {summary.seconds:.1f} s"
    )
    if summary.duplicates:
        out.print(
            f"{summary.duplicates:,} events were already in the store and were not added again"
        )
    out.print(f"truth for evaluations: {summary.truth_path} and {summary.people_path}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
