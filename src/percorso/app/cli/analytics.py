"""`percorso funnel | paths | retention | mine | kpis | attribution`, `percorso gaps handoffs`.

Each command builds its analysis's typed query from the flags, runs it where
the warehouse is (this process, or a running server) and prints a table, or
with `--json` the same JSON as `/api/analytics/{name}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from percorso.analytics.attribution import AttributionResult
from percorso.analytics.cohorts import RetentionResult
from percorso.analytics.funnels import FunnelResult, FunnelStep
from percorso.analytics.handoffs import HandoffResult
from percorso.analytics.kpis import KpiResult
from percorso.analytics.mining import MineResult
from percorso.analytics.paths import PathResult
from percorso.analytics.service import analysis
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalysisQuery, AnalyticsError
from percorso.app.cli import settings_of
from percorso.app.cli.journey import DATE_FORMATS, MapOpt, gaps_app, pct, resolve_map

# No markup: step names and rules are the user's text and may hold brackets.
out = Console(highlight=False, soft_wrap=True, markup=False)
R = TypeVar("R", bound=BaseModel)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (as the API).")]
SinceOpt = Annotated[
    datetime | None,
    typer.Option("--since", formats=DATE_FORMATS, help="Read events from this date (UTC)."),
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option(
        "--until",
        "--as-of",
        formats=DATE_FORMATS,
        help="Read events up to this date (UTC); default now.",
    ),
]


def build(model: type[AnalysisQuery], command: Any = None, **fields: Any) -> AnalysisQuery:
    """The query from the flags given (None = the query's default), or a clear error that
    names the flag or argument of `command` the bad value came from."""
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        loc = [str(part) for part in problem["loc"]]
        message = problem["msg"].removeprefix("Value error, ")
        if not loc:
            raise AnalyticsError(message) from exc
        loc[0] = _flag(command, loc[0])
        raise AnalyticsError(f"{'.'.join(loc)}: {message}") from exc


def _flag(command: Any, field: str) -> str:
    """How the command line (a Click command) spells the query's `field`: its option
    (--max-steps) or its argument (STEPS); the field's own name when no parameter has it."""
    for param in command.params if command is not None else ():
        if param.name == field:
            if param.param_type_name == "option":
                return str(max(param.opts, key=len))
            return str(param.name).upper()
    return field


def answer(
    ctx: typer.Context,
    name: str,
    result_type: type[R],
    ref: str | None,
    as_json: bool,
    **flags: Any,
) -> R | None:
    """Run analysis `name` on the query the flags make, where the warehouse is (this process
    or a running server); with `--json` print its JSON and return None (nothing left to show)."""
    from percorso.collect.sink import open_sink

    query = build(analysis(name).query, ctx.command, **flags)
    source = resolve_map(ctx, ref)
    source.load()
    with open_sink(settings_of(ctx)) as sink:
        result = sink.analytics.run(name, query, source)
    assert isinstance(result, result_type)
    if as_json:
        print(orjson.dumps(result.model_dump(mode="json", by_alias=True)).decode())
        return None
    return result


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
    result = answer(
        ctx,
        "attribution",
        AttributionResult,
        ref,
        as_json,
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
    if result is None:
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


def _groups(values: list[str] | None) -> dict[str, list[str]] | None:
    if not values:
        return None
    groups: dict[str, list[str]] = {}
    for text in values:
        name, sep, members = text.partition("=")
        if not sep or not name.strip() or not members.strip():
            raise AnalyticsError(
                f'--group "{text}": write NAME=A,B such as shop=cart_viewed,checkout'
            )
        groups[name.strip()] = [m.strip() for m in members.split(",") if m.strip()]
    return groups


def paths(
    ctx: typer.Context,
    level: Annotated[
        str, typer.Option(help="A node is an event, a touchpoint or a phase of the map.")
    ] = "event",
    after: Annotated[str | None, typer.Option(help="Paths from this step on.")] = None,
    before: Annotated[str | None, typer.Option(help="Paths up to this step.")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out this node (repeat).")
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Merge nodes into one: NAME=A,B (repeat)."),
    ] = None,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Collapse repeats (A, A, B is A, B).")
    ] = False,
    max_steps: Annotated[int | None, typer.Option(help="Keep the first N steps.")] = None,
    min_count: Annotated[int | None, typer.Option(help="Edges seen at least N times.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most N edges.")] = None,
    top_paths: Annotated[int | None, typer.Option(help="The N most frequent paths.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Paths: which step follows which (the directly-follows graph), and the commonest paths."""
    result = answer(
        ctx,
        "paths",
        PathResult,
        ref,
        as_json,
        level=level,
        after=None if after is None else Step.parse(after),
        before=None if before is None else Step.parse(before),
        exclude=exclude or None,
        group=_groups(group),
        collapse_repeats=collapse or None,
        max_steps=max_steps,
        min_count=min_count,
        limit_edges=limit,
        top_paths=top_paths,
        since=since,
        until=until,
    )
    if result is None:
        return
    out.print(f"{result.profiles:,} profiles, {result.events:,} steps")
    table = Table("from", "to", "count", "median", "p90")
    for edge in result.edges[:30]:
        table.add_row(
            edge.from_,
            edge.to,
            f"{edge.count:,}",
            duration(edge.median_seconds),
            duration(edge.p90_seconds),
        )
    out.print(table)
    if len(result.edges) > 30:
        out.print(f"… {len(result.edges) - 30:,} more edges (--json prints them all)")
    variants = Table("path", "profiles", "share")
    for variant in result.variants:
        variants.add_row(" → ".join(variant.path), f"{variant.profiles:,}", pct(variant.share))
    out.print(variants)


def mine(
    ctx: typer.Context,
    level: Annotated[str, typer.Option(help="Touchpoints or phases of the map.")] = "touchpoint",
    persona: Annotated[str | None, typer.Option(help="Only this persona's journeys.")] = None,
    min_share: Annotated[
        float | None, typer.Option(help="Report transitions with at least this share.")
    ] = None,
    top: Annotated[int | None, typer.Option(help="How many of each list.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The journey mined from the data against the map: fit, undesigned moves, skipped phases."""
    result = answer(
        ctx,
        "mine",
        MineResult,
        ref,
        as_json,
        level=level,
        persona=persona,
        min_share=min_share,
        top=top,
        since=since,
        until=until,
    )
    if result is None:
        return
    out.print(
        f"{result.profiles:,} journeys: {pct(result.fitness)} fit the map "
        f"({result.fitting:,}); {pct(result.edge_fitness)} of "
        f"{result.transitions:,} transitions are designed"
    )
    undesigned = Table("undesigned move", "profiles", "transitions")
    for edge in result.undesigned:
        undesigned.add_row(
            f"{edge.source} → {edge.target}", f"{edge.profiles:,}", f"{edge.transitions:,}"
        )
    out.print(undesigned)
    skipped = Table("phase", "went past it", "skipped it", "share")
    for phase in result.skipped_phases:
        skipped.add_row(phase.phase, f"{phase.went_past:,}", f"{phase.skipped:,}", pct(phase.share))
    out.print(skipped)
    personas = Table("persona", "journeys", "fit", "designed transitions")
    for p in result.personas:
        personas.add_row(p.persona, f"{p.profiles:,}", pct(p.fitness), pct(p.edge_fitness))
    out.print(personas)
    if result.unused_touchpoints:
        out.print("touchpoints nobody used: " + ", ".join(result.unused_touchpoints))


def handoffs(
    ctx: typer.Context,
    by: Annotated[str, typer.Option(help="channel, device or department.")] = "channel",
    level: Annotated[
        str, typer.Option(help="The map's touches (touchpoint) or every event.")
    ] = "touchpoint",
    window: Annotated[
        str | None, typer.Option(help="The journey goes on if anything follows within this.")
    ] = None,
    top: Annotated[int | None, typer.Option(help="How many hand-offs to list.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand-off gaps: where crossing channel, device or department loses people."""
    result = answer(
        ctx,
        "handoffs",
        HandoffResult,
        ref,
        as_json,
        by=by,
        level=level,
        window=window,
        top=top,
        since=since,
        until=until,
    )
    if result is None:
        return
    table = Table(
        "hand-off", "people", "went on", "staying goes on", "lost", "hours", "lost went to"
    )
    for h in result.handoffs:
        table.add_row(
            f"{h.source} → {h.target}",
            f"{h.profiles:,}",
            pct(h.continued_share),
            pct(h.baseline_share),
            f"{h.lost:,.0f}",
            "-" if h.median_hours is None else f"{h.median_hours:,.1f}",
            ", ".join(f"{d.value} ({d.profiles})" for d in h.went[:3]),
        )
    out.print(table)
    stops = Table(result.by, "people", "stopped there", "share")
    for stop in result.stops:
        stops.add_row(stop.value, f"{stop.profiles:,}", f"{stop.stopped:,}", pct(stop.share))
    out.print(stops)


def retention(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="day, week (from Monday) or month.")] = "week",
    cohort: Annotated[
        str | None,
        typer.Option(help="Cohorts by the first event of this step; default first seen."),
    ] = None,
    returning: Annotated[
        str | None,
        typer.Option("--return", help="What counts as coming back; default any event."),
    ] = None,
    periods: Annotated[int | None, typer.Option(help="Periods after the cohort's.")] = None,
    by: Annotated[str | None, typer.Option(help="A curve per value of this breakdown.")] = None,
    no_lifecycle: Annotated[
        bool, typer.Option("--no-lifecycle", help="Skip new/returning/resurrecting/dormant.")
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cohorts and retention: who comes back, period after period, and the lifecycle."""
    result = answer(
        ctx,
        "retention",
        RetentionResult,
        ref,
        as_json,
        period=period,
        cohort=None if cohort is None else Step.parse(cohort),
        returning=None if returning is None else Step.parse(returning),
        periods=periods,
        by=by,
        lifecycle=False if no_lifecycle else None,
        since=since,
        until=until,
    )
    if result is None:
        return
    width = max((len(c.retention) for c in result.cohorts), default=0)
    table = Table("cohort", "size", *[str(k) for k in range(width)])
    for c in result.cohorts:
        label = f"{c.cohort}" + ("" if c.group is None else f" {c.group}")
        table.add_row(label, f"{c.size:,}", *[pct(r) for r in c.retention])
    table.add_row("average", f"{result.overall.size:,}", *[pct(r) for r in result.overall.average])
    out.print(table)
    if result.lifecycle:
        life = Table(result.period, "new", "returning", "resurrecting", "dormant")
        for p in result.lifecycle:
            life.add_row(
                f"{p.period}",
                f"{p.new:,}",
                f"{p.returning:,}",
                f"{p.resurrecting:,}",
                f"{p.dormant:,}",
            )
        out.print(life)


def kpis(
    ctx: typer.Context,
    kpi: Annotated[
        list[str] | None, typer.Option("--kpi", help="A KPI id (repeat); default all.")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Split by phase, touchpoint, persona or period.")
    ] = None,
    period: Annotated[str | None, typer.Option(help="With --by period: day, week, month.")] = None,
    lang: Annotated[str, typer.Option(help="Names in it or en.")] = "it",
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """KPIs (bounce rate, NPS, CSAT, retention, CLV…), each defined once (docs/kpis.md)."""
    if lang not in ("it", "en"):
        raise AnalyticsError(f'--lang "{lang}": write it or en')
    result = answer(
        ctx,
        "kpis",
        KpiResult,
        ref,
        as_json,
        kpis=kpi,
        by=by,
        period=period,
        since=since,
        until=until,
    )
    if result is None:
        return
    table = Table("KPI", "value", "numerator", "denominator")
    for k in result.kpis:
        name = k.label.it if lang == "it" else k.label.en
        table.add_row(
            name, _kpi_value(k.value, k.unit), f"{k.numerator:,.0f}", f"{k.denominator:,.0f}"
        )
        for g in k.groups or []:
            table.add_row(
                f"  {g.group}",
                _kpi_value(g.value, k.unit),
                f"{g.numerator:,.0f}",
                f"{g.denominator:,.0f}",
            )
    out.print(table)


def _kpi_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return pct(value)
    if unit == "minutes":
        return duration(value * 60)
    if unit == "currency":
        return f"€ {value:,.2f}"
    return f"{value:,.1f}"


def funnel(
    ctx: typer.Context,
    steps: Annotated[
        list[str],
        typer.Argument(
            help='The steps in order: an event, touchpoint:ID, "X where RULE", ?X for optional.'
        ),
    ],
    window: Annotated[
        str | None, typer.Option(help="Conversion window from step 1, e.g. 7d, 12h.")
    ] = None,
    order: Annotated[str | None, typer.Option(help="ordered, strict or unordered.")] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Break down by channel, device, persona, first_touch, properties.X…"),
    ] = None,
    trend: Annotated[
        str | None, typer.Option(help="Conversion per day, week or month of entry.")
    ] = None,
    dropped_at: Annotated[
        int | None, typer.Option(help="List the profiles that dropped at this step (1-based).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many dropped profiles.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Funnels: how many people go through the steps in order, within a window, and how fast."""
    result = answer(
        ctx,
        "funnel",
        FunnelResult,
        ref,
        as_json,
        steps=[Step.parse(text) for text in steps],
        window=window,
        order=order,
        by=by,
        trend=trend,
        dropped_at=dropped_at,
        limit=limit,
        since=since,
        until=until,
    )
    if result is None:
        return
    _funnel_table(result.steps, "")
    for group in result.breakdown or []:
        _funnel_table(group.steps, f"{result.by} = {group.value}")
    if result.trend:
        table = Table("period", "entered", "converted", "conversion")
        for point in result.trend:
            table.add_row(
                f"{point.period}",
                f"{point.entered:,}",
                f"{point.converted:,}",
                pct(point.conversion),
            )
        out.print(table)
    if result.dropped_profiles is not None:
        out.print(f"dropped at step {result.dropped_at}: {len(result.dropped_profiles):,} profiles")
        for profile_id in result.dropped_profiles:
            out.print(profile_id)


def _funnel_table(steps: list[FunnelStep], title: str) -> None:
    table = Table("step", "profiles", "from start", "from previous", "dropped", "median", "p90")
    if title:
        table.title = title
    for step in steps:
        table.add_row(
            step.step,
            f"{step.profiles:,}",
            pct(step.conversion_from_start),
            pct(step.conversion_from_previous),
            f"{step.dropped:,}",
            duration(step.median_seconds_from_previous),
            duration(step.p90_seconds_from_previous),
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("funnel")(funnel)
    app.command("retention")(retention)
    app.command("kpis")(kpis)
    app.command("mine")(mine)
    gaps_app.command("handoffs")(handoffs)
    app.command("paths")(paths)
    app.command("attribution")(attribution)
