"""`percorso map validate|render|apply|diff|versions|show`, `percorso stages`, `percorso gaps integrations`.

Maps and their versions live in the operational database, which the CLI
opens itself; measuring reads the warehouse, through the server when one runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from percorso.app.cli import settings_of
from percorso.errors import UserError
from percorso.journey.lifecycle import StagesReport
from percorso.journey.model import read_map_file
from percorso.journey.service import MapCatalog, MapSource
from percorso.operational.db import Database

map_app = typer.Typer(
    help="The journey map as code: validate, apply, diff, render.", no_args_is_help=True
)
gaps_app = typer.Typer(help="Gaps between the map and the territory.", no_args_is_help=True)
# No markup: labels, notes and rules are the user's text and may hold brackets.
out = Console(highlight=False, soft_wrap=True, markup=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
# Dates on the command line, read as UTC.
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
AsOfOpt = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=DATE_FORMATS,
        help="Measure as of this date (UTC), e.g. 2026-01-31; default now.",
    ),
]
MapOpt = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="A map file or a stored version number; default the active map "
        "(the last applied, or the default map).",
    ),
]


def _dump(value: object) -> None:
    print(orjson.dumps(value).decode())


def _catalog(ctx: typer.Context) -> MapCatalog:
    database = Database(settings_of(ctx).resolved_database_url)
    database.migrate()
    return MapCatalog(database)


def _file(path: Path) -> MapSource:
    return MapSource(text=read_map_file(path), label=str(path))


def resolve_map(ctx: typer.Context, ref: str | None) -> MapSource:
    """A map file, a stored version number (`3` or `v3`), or the active map."""
    catalog = _catalog(ctx)
    if ref is None:
        return catalog.active()
    number = ref.lower().removeprefix("v")
    if number.isdigit() and not Path(ref).exists():
        return catalog.get(int(number))
    return _file(Path(ref))


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@map_app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="The map's YAML file.")]) -> None:
    """Check a map: every key, every rule, every reference; exit 2 with file, line and key if wrong."""
    source = _file(path)
    m = source.load()
    out.print(
        f"{path}: valid — {len(m.phases)} phases, {len(m.stages)} stages, {len(m.personas)} personas, "
        f"{len(m.touchpoints)} touchpoints, {len(m.systems)} systems, {len(m.integrations)} flows"
    )


@map_app.command("apply")
def apply(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The map's YAML file.")],
    note: Annotated[str | None, typer.Option(help="Why this version (kept with it).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store the map as a new version, make it active, and recompute everyone's stage."""
    from percorso.collect.sink import open_sink

    catalog = _catalog(ctx)
    before = catalog.active()
    with open_sink(settings_of(ctx)) as sink:
        result = catalog.apply(_file(path), note, sink.journey.stages)
    if as_json:
        _dump(result.model_dump(mode="json"))
        return
    if result.created:
        out.print(
            f"stored as version {result.version} (was {before.version or 'the default map'}); now active"
        )
    else:
        out.print(f"unchanged: the map is already version {result.version}")
    _print_stages(result.stages)


@map_app.command("versions")
def versions(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every applied version, newest first."""
    rows = _catalog(ctx).list()
    if as_json:
        _dump([{**vars(r), "created_at": r.created_at.isoformat()} for r in rows])
        return
    if not rows:
        out.print("no map applied yet: the default map is active (percorso map apply FILE)")
        return
    table = Table("version", "name", "applied", "note")
    for r in rows:
        table.add_row(str(r.version), r.name, f"{r.created_at:%Y-%m-%d %H:%M}", r.note or "")
    out.print(table)


@map_app.command("show")
def show(ctx: typer.Context, ref: MapOpt = None) -> None:
    """Print a map's YAML: the active one, a version, or a file."""
    print(resolve_map(ctx, ref).text, end="")


@map_app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="A version number (3 or v3) or a map file.")],
    new: Annotated[str, typer.Argument(help="A version number (3 or v3) or a map file.")],
    as_json: JsonOpt = False,
) -> None:
    """What changed between two maps: phases, stages, touchpoints, rules, flows, KPIs."""
    result = _catalog(ctx).diff(resolve_map(ctx, old), resolve_map(ctx, new))
    if as_json:
        _dump(result.model_dump(mode="json"))
        return
    if result.is_empty:
        out.print("no differences")
    for line in result.lines():
        style = {"+": "green", "-": "red"}.get(line[:1], "yellow")
        out.print(Text(line, style=style))


@map_app.command("render")
def render(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="The map's YAML file; default the active map.")
    ] = None,
    out_path: Annotated[
        Path, typer.Option("--out", help="map.html, map.png or map.pdf (PNG/PDF need Chromium).")
    ] = Path("map.html"),
    persona: Annotated[
        str | None, typer.Option(help="One persona's map; default everyone.")
    ] = None,
    integrations: Annotated[
        bool, typer.Option("--integrations", help="Draw the integration map with its coverage.")
    ] = False,
    lang: Annotated[Literal["it", "en"], typer.Option(help="Language of the map.")] = "it",
    as_of: AsOfOpt = None,
    chromium: Annotated[
        str | None, typer.Option(help="Path of Chromium for PNG/PDF (default: found on PATH).")
    ] = None,
) -> None:
    """Draw the customer journey map a marketer pins on the wall, measured on real events."""
    from percorso.collect.sink import open_sink
    from percorso.journey.layout import page_size
    from percorso.journey.output import SUFFIXES, write_output
    from percorso.journey.render import render_integrations_html, render_map_html

    if out_path.suffix.lower() not in SUFFIXES:
        raise UserError(f"cannot write '{out_path.name}': use .html, .png or .pdf")
    source = _file(path) if path is not None else _catalog(ctx).active()
    source.load()
    with open_sink(settings_of(ctx)) as sink:
        if integrations:
            view = sink.journey.gaps(source, as_of).view()
            html = render_integrations_html(view, lang)
            size = page_size(view)
        else:
            measured = sink.journey.measure(source, persona, as_of)
            html = render_map_html(measured, lang)
            size = page_size(measured)
    write_output(html, out_path, size, chromium)
    out.print(f"wrote {out_path} ({size[0]}×{size[1]} px)")


def _print_stages(report: StagesReport) -> None:
    out.print(
        f"{report.profiles:,} profiles as of {report.as_of:%Y-%m-%d %H:%M} — {report.map_name}"
        + (f" (version {report.map_version})" if report.map_version else " (default map)")
    )
    table = Table("stage", "profiles", "share")
    for s in report.stages:
        table.add_row(s.stage, f"{s.profiles:,}", pct(s.share))
    out.print(table)
    personas = Table("persona", "profiles", *[s.stage for s in report.stages])
    for p in report.personas:
        personas.add_row(
            p.persona, f"{p.profiles:,}", *[f"{p.stages.get(s.stage, 0):,}" for s in report.stages]
        )
    out.print(personas)
    moves = Table("from", "to", "profiles", "median days", "p90 days", "designed")
    for t in report.transitions:
        moves.add_row(
            t.source,
            t.target,
            f"{t.profiles:,}",
            "-" if t.median_days is None else f"{t.median_days:g}",
            "-" if t.p90_days is None else f"{t.p90_days:g}",
            "yes" if t.designed else Text("NO", style="bold red"),
        )
    out.print(moves)
    if report.undesigned_moves:
        out.print(f"moves the map does not design (marked NO): {report.undesigned_moves:,}")


def stages(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option(help="One profile's stage and phase history (any identifier).")
    ] = None,
    as_of: AsOfOpt = None,
    ref: MapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lifecycle stages: who is where, how they moved, how fast (as of any date)."""
    from percorso.collect.sink import open_sink

    source = resolve_map(ctx, ref)
    source.load()
    with open_sink(settings_of(ctx)) as sink:
        if profile is not None:
            journey = sink.journey.profile(source, profile, as_of)
            if as_json:
                _dump(journey.model_dump(mode="json"))
                return
            out.print(f"{journey.profile_id}: {journey.stage} ({journey.persona})")
            for entry in journey.history:
                out.print(f"  {entry.entered_at:%Y-%m-%d %H:%M}  stage  {entry.stage}")
            for phase in journey.phases:
                out.print(
                    f"  {phase.entered_at:%Y-%m-%d %H:%M}  phase  {phase.phase} ({phase.touchpoint})"
                )
            return
        report = sink.journey.stages(source, as_of)
    if as_json:
        _dump(report.model_dump(mode="json"))
        return
    _print_stages(report)


@gaps_app.command("integrations")
def integrations(
    ctx: typer.Context, as_of: AsOfOpt = None, ref: MapOpt = None, as_json: JsonOpt = False
) -> None:
    """Each data flow of the map (forms -> CRM, CRM -> ERP...) and who makes it across."""
    from percorso.collect.sink import open_sink

    source = resolve_map(ctx, ref)
    source.load()
    with open_sink(settings_of(ctx)) as sink:
        report = sink.journey.gaps(source, as_of)
    if as_json:
        _dump(report.model_dump(mode="json"))
        return
    table = Table("flow", "what", "population", "reached", "coverage", "missing", "median hours")
    for f in sorted(report.flows, key=lambda f: (f.coverage is None, f.coverage or 0.0)):
        table.add_row(
            f"{f.source} → {f.target}",
            f.label.en,
            f"{f.population:,}",
            f"{f.reached:,}",
            pct(f.coverage),
            f"{f.population - f.reached:,}",
            "-" if f.median_hours_to_reach is None else f"{f.median_hours_to_reach:g}",
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(map_app, name="map")
    app.add_typer(gaps_app, name="gaps")
    app.command("stages")(stages)
