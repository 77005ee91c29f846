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

from percorso.analytics.territory import AnalysisQuery, AnalyticsError
from percorso.app.cli import settings_of
from percorso.app.cli.journey import resolve_map

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
        "--until", "--as-of", formats=_FORMATS, help="Read events up to this date (UTC); default now."
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


def register(app: typer.Typer) -> None:
    pass
