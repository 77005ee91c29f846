"""`percorso profiles show|list|conflicts|unmerge` and `percorso identity rebuild|refused`."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from percorso.app.cli import settings_of

profiles_app = typer.Typer(
    help="Profiles: one per person, from every identifier the events carry.", no_args_is_help=True
)
identity_app = typer.Typer(
    help="The identity graph behind profiles: rebuild it, see refused identifiers.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _dump(value: object) -> None:
    print(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode())


@profiles_app.command("show")
def show(
    ctx: typer.Context,
    identifier: Annotated[
        str,
        typer.Argument(
            help="Any identifier: email, phone, anonymous id, CRM or ERP id, profile id; "
            "KIND:VALUE when a value is ambiguous."
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=5000, help="Timeline events to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many timeline events.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """A profile: identifiers, traits, channels, orders, the links that joined it, its timeline."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        detail = sink.profiles.detail(identifier, limit=limit, offset=offset)
    if as_json:
        _dump(detail.model_dump(mode="json"))
        return
    profile, page = detail.profile, detail.timeline
    out.print(
        f"[bold]{profile.name or profile.email or profile.profile_id}[/]  {profile.profile_id}"
    )
    out.print(
        f"events {profile.events:,}  first seen {profile.first_seen or '-'}  last seen {profile.last_seen or '-'}"
        f"  orders {profile.orders}  revenue {profile.revenue:,.2f}"
    )
    out.print(
        "channels: "
        + ", ".join(f"{k} {v}" for k, v in profile.channels.items())
        + "   devices: "
        + (", ".join(f"{k} {v}" for k, v in profile.devices.items()) or "-")
    )
    table = Table("kind", "identifier", "first seen", "from")
    for ident in profile.identifier_list:
        table.add_row(ident.kind, ident.value, f"{ident.first_seen:%Y-%m-%d %H:%M}", ident.source)
    out.print(table)
    if profile.traits:
        out.print("traits: " + ", ".join(f"{k}={v}" for k, v in profile.traits.items()))
    links = Table("link", "joins", "and", "first shown by", "events", "status")
    for link in profile.links:
        links.add_row(
            link.link_id,
            link.a,
            link.b,
            f"{link.source} {link.ts:%Y-%m-%d}",
            str(link.evidence),
            link.status + (f" ({link.reason})" if link.reason else ""),
        )
    out.print(links)
    timeline = Table("when", "source", "channel", "device", "event")
    for event in page.events:
        timeline.add_row(
            f"{event.ts:%Y-%m-%d %H:%M:%S}",
            event.source,
            event.channel or "",
            event.device or "",
            event.event or event.type,
        )
    out.print(timeline)
    shown = page.offset + len(page.events)
    if shown < page.total:
        out.print(f"{shown:,} of {page.total:,} events; --offset {shown} for more")


@profiles_app.command("list")
def list_profiles(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Option(help="Part of a name, an email or any identifier.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Profiles, most recently active first."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        page = sink.profiles.search(query, limit=limit, offset=offset)
    if as_json:
        _dump(page.model_dump(mode="json"))
        return
    table = Table("profile", "name", "email", "ids", "events", "orders", "last seen")
    for p in page.profiles:
        table.add_row(
            p.profile_id,
            p.name or "",
            p.email or "",
            str(p.identifiers),
            f"{p.events:,}",
            str(p.orders),
            f"{p.last_seen:%Y-%m-%d}" if p.last_seen else "",
        )
    out.print(table)
    out.print(f"{page.offset + len(page.profiles):,} of {page.total:,} profiles")


@profiles_app.command("conflicts")
def list_conflicts(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Links not applied because they would break a cap (e.g. two user ids in one profile): to review."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        rows = sink.profiles.conflicts()
    if as_json:
        _dump([r.model_dump(mode="json") for r in rows])
        return
    table = Table("link", "joins", "and", "profiles", "shown by", "why not applied")
    for c in rows:
        table.add_row(
            c.link_id,
            c.a,
            c.b,
            f"{c.profile_a} / {c.profile_b}",
            f"{c.source} {c.ts:%Y-%m-%d}",
            c.reason,
        )
    out.print(table)
    out.print(f"{len(rows):,} conflicts")


@profiles_app.command("unmerge")
def unmerge(
    ctx: typer.Context,
    link_id: Annotated[str, typer.Argument(help="The link to remove (see `profiles show`).")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit.")] = "",
    undo: Annotated[bool, typer.Option("--undo", help="Put a removed link back.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Split a profile by removing a link; the profile is recomputed from its remaining links."""
    from dataclasses import asdict

    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        result = sink.profiles.unmerge(link_id, reason, undo=undo)
    if as_json:
        _dump(asdict(result))
        return
    verb = "put back" if undo else "removed"
    out.print(
        f"link {result.link_id} {verb}: {', '.join(result.profiles_before)} -> "
        f"{', '.join(result.profiles_after)}"
    )
    if not undo and len(result.profiles_after) == 1:
        out.print(
            "the two identifiers are still joined through other links; see `percorso profiles show`"
        )


@identity_app.command("rebuild")
def rebuild(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Recompute every identifier, link and profile from the events (after changing identity.yaml)."""
    from dataclasses import asdict

    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        result = sink.profiles.rebuild()
    if as_json:
        _dump(asdict(result))
        return
    out.print(f"{result.events:,} events, {result.links:,} links: {result.profiles:,} profiles")


@identity_app.command("refused")
def list_refused(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Identifier values never used as links (placeholders, blocked, malformed), most frequent first."""
    from percorso.collect.sink import open_sink

    with open_sink(settings_of(ctx)) as sink:
        rows = sink.profiles.refused(limit)
    if as_json:
        _dump([r.model_dump(mode="json") for r in rows])
        return
    table = Table("kind", "value", "reason", "events")
    for r in rows:
        table.add_row(r.kind, r.value, r.reason, f"{r.events:,}")
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(profiles_app, name="profiles")
    app.add_typer(identity_app, name="identity")
