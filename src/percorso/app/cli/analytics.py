"""`percorso funnel | paths | retention | mine | kpis | attribution`, `percorso gaps handoffs`.

Each command builds its analysis's typed query from the flags, runs it where
the warehouse is (this process, or a running server) and prints a table, or
with `--json` the same JSON as `/api/analytics/{name}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from percorso.analytics.attribution import AttributionQuery, AttributionResult
from percorso.analytics.territory import AnalysisQuery, AnalyticsError
from percorso.app.cli import settings_of
from percorso.app.cli.journey import MapOpt, resolve_map

# No markup: step names and rules are the user's text and may hold brackets.
out = Console(highlight=False, soft_wrap=True, markup=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (as the API).")]
_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
SinceOpt = Annotated[
    datetime | None,
    typer.Option("--since", formats=_FORMATS, help="Read events from this date (UTC)."),
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option(
        "--until",
        "--as-of",
        formats=_FORMATS,
        help="Read events up to this date (UTC); default now.",
    ),
]


def build(model: type[AnalysisQuery], **fields: Any) -> AnalysisQuery:
    """The query from the flags given (None = the query's default), or a clear error."""
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "query"
        raise AnalyticsError(f"{where}: {problem['msg']}") from exc


def run(ctx: typer.Context, name: str, query: AnalysisQuery, ref: str | None) -> BaseModel:
    from percorso.collect.sink import open_sink

    source = resolve_map(ctx, ref)
    source.load()
    with open_sink(settings_of(ctx)) as sink:
        return sink.analytics.run(name, query, source)


def dump(result: BaseModel) -> None:
    print(orjson.dumps(result.model_dump(mode="json", by_alias=True)).decode())


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def duration(seconds: float | None) -> str:
    """Seconds as the largest sensible unit: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def attribution(
    ctx: typer.Context,
    conversion: Annotated[str, typer.Argument(help="The conversion step, e.g. order_completed.")],
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="first_touch, last_touch, linear, time_decay, position_based, markov "
            "(repeat; default all).",
        ),
    ] = None,
    level: Annotated[str, typer.Option(help="Credit channels or touchpoints.")] = "channel",
    lookback: Annotated[str, typer.Option(help="Touches counted before a conversion.")] = "30d",
    half_life: Annotated[str, typer.Option(help="time_decay's half-life.")] = "7d",
    position: Annotated[
        str | None, typer.Option(help="position_based: first,last shares, e.g. 0.4,0.4.")
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Channels that count as touches (repeat)."),
    ] = None,
    value: Annotated[
        str | None, typer.Option(help="The conversion's value, e.g. properties.total.")
    ] = None,
    first_only: Annotated[
        bool, typer.Option("--first-only", help="Only each profile's first conversion.")
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attribution: which channels (or touchpoints) earn the credit for a conversion."""
    weights = None
    if position is not None:
        parts = position.split(",")
        if len(parts) != 2:
            raise AnalyticsError(f'--position "{position}": write two shares such as 0.4,0.4')
        weights = parts
    query = build(
        AttributionQuery,
        conversion=conversion,
        models=model,
        level=level,
        lookback=lookback,
        half_life=half_life,
        position_weights=weights,
        channels=channel,
        value=value,
        all_conversions=not first_only,
        since=since,
        until=until,
    )
    result = run(ctx, "attribution", query, ref)
    assert isinstance(result, AttributionResult)
    if as_json:
        dump(result)
        return
    out.print(
        f"{result.conversions:,} conversions of {result.conversion}, "
        f"{result.touched:,} with a touch"
        + ("" if result.value is None else f", value {result.value:,.2f}")
    )
    names = [c.name for c in result.models[0].credits] if result.models else []
    table = Table(result.level, *[m.model for m in result.models])
    by_model = {m.model: {c.name: c for c in m.credits} for m in result.models}
    for name in names:
        table.add_row(name, *[f"{by_model[m.model][name].conversions:,.2f}" for m in result.models])
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("attribution")(attribution)
