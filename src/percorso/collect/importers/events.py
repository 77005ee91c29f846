"""`percorso import events`: a table of events (CSV, JSON Lines, Parquet, Excel).

The hot path: a file of millions of rows is checked by one DuckDB query in
the import's in-memory connection (only the problems come out), then turned
into events by a second one (parse, build the properties JSON, hash the
message ids) that `prepare` hands over unrun, as an `EventQuery`. A
warehouse in this process runs it itself, inserting as it computes; a
Parquet file is read straight from disk there, so a million rows never
become an Arrow table. Python touches only the distinct values that need
Python's rules: user agents (device) and, for web-like files, the
url/referrer/campaign combinations (channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from percorso.collect.importers.columns import Columns, Role
from percorso.collect.importers.errors import ImportFileError
from percorso.collect.importers.job import ImportJob
from percorso.collect.importers.numbering import ROW
from percorso.collect.importers.properties import infer_text_types, json_object, value
from percorso.collect.importers.readers import SourceTable
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.staging import COLUMN, REASON, Stage
from percorso.collect.importers.values import MAX_ID_LENGTH, text
from percorso.events.channel import KIND_CHANNEL, classify_channel, source_kind
from percorso.events.device import classify_device
from percorso.warehouse.store import EventQuery

EventType = Literal["track", "identify", "page", "screen"]

USER = Role(
    "user_id",
    "user id",
    (
        "userid",
        "customer_id",
        "customerid",
        "client_id",
        "clientid",
        "contact_id",
        "member_id",
        "account_id",
        "email",
        "email_address",
        "e_mail",
        "user",
        "customer",
        "id_cliente",
        "codice_cliente",
        "cliente",
        "utente",
    ),
)
ANONYMOUS = Role(
    "anonymous_id",
    "anonymous id",
    (
        "anonymousid",
        "anon_id",
        "visitor_id",
        "device_id",
        "cookie_id",
    ),
)
EVENT = Role(
    "event",
    "event name",
    (
        "event_name",
        "eventname",
        "event_type",
        "action",
        "activity",
        "name",
        "evento",
        "azione",
    ),
)
TIME = Role(
    "timestamp",
    "time",
    (
        "ts",
        "time",
        "date",
        "datetime",
        "created_at",
        "event_time",
        "event_timestamp",
        "occurred_at",
        "original_timestamp",
        "originaltimestamp",
        "sent_at",
        "data",
        "data_ora",
    ),
)
MESSAGE = Role("message_id", "message id", ("messageid", "event_id", "eventid"))
USER_AGENT = Role(
    "user_agent", "user agent", ("useragent", "ua", "http_user_agent", "browser_user_agent")
)
URL = Role("url", "page url", ("page_url", "pageurl", "landing_page", "page_location", "href"))
REFERRER = Role("referrer", "referrer", ("referer", "page_referrer", "document_referrer"))
CAMPAIGN_KEYS = ("source", "medium", "campaign", "term", "content")
CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid", "li_fat_id")
_FIXED_EVENT: dict[EventType, str] = {
    "identify": "identify",
    "page": "page_view",
    "screen": "screen_view",
}


@dataclass(frozen=True)
class EventColumns:
    """Which columns hold what; None means "find it by its usual names"."""

    user: str | None = None
    anonymous: str | None = None
    event: str | None = None
    time: str | None = None
    message_id: str | None = None
    event_name: str | None = None
    """One event name for every row (a file of, say, only purchases)."""
    type: EventType = "track"


@dataclass(frozen=True)
class _Web:
    """Columns a web-like file may have, read for channel and device, kept as properties."""

    url: str | None
    referrer: str | None
    campaign: dict[str, str]
    clicks: dict[str, str]
    user_agent: str | None


def _web_columns(cols: Columns) -> _Web:
    def look(role: Role) -> str | None:
        for alias in role.aliases:
            if alias in cols.by_norm:
                return cols.by_norm[alias]
        return None

    campaign = {k: cols.by_norm[f"utm_{k}"] for k in CAMPAIGN_KEYS if f"utm_{k}" in cols.by_norm}
    clicks = {k: cols.by_norm[k] for k in CLICK_IDS if k in cols.by_norm}
    return _Web(look(URL), look(REFERRER), campaign, clicks, look(USER_AGENT))


def _resolve(cols: Columns, spec: EventColumns) -> dict[str, str | None]:
    def pick(
        given: str | None, option: str, role: Role, required: bool = False, hint: str = ""
    ) -> str | None:
        if given is not None:
            return cols.explicit(given, option)
        return cols.find(role, required=required, hint=hint)

    found: dict[str, str | None] = {}
    found["id"] = pick(spec.message_id, "--id-col", MESSAGE)
    found["user"] = pick(spec.user, "--user-col", USER)
    found["anonymous"] = pick(spec.anonymous, "--anonymous-col", ANONYMOUS)
    if found["user"] is None and found["anonymous"] is None:
        cols.missing(
            "user id",
            USER.aliases,
            "name it with --user-col, or --anonymous-col for visitors without an account",
        )
    found["event"] = None
    if spec.type == "track" and spec.event_name is None:
        found["event"] = pick(
            spec.event,
            "--event-col",
            EVENT,
            required=True,
            hint="name it with --event-col, or give every row one name with --event-name",
        )
    elif spec.event is not None:
        found["event"] = cols.explicit(spec.event, "--event-col")
    found["time"] = pick(
        spec.time, "--time-col", TIME, required=True, hint="name it with --time-col"
    )
    return found


def _channel(
    job: ImportJob,
    stage: Stage,
    spec: EventColumns,
    event_sql: str,
    web: _Web,
    lookups: dict[str, pa.Table],
) -> tuple[str, str]:
    """SQL for each row's channel, and the join it needs ('' when none; else its table in `lookups`).

    classify_channel runs once per distinct combination of the columns it
    reads; the answer goes back to the rows as a constant when there is one
    answer, a CASE on the event name when only the name varies, else a join.
    """
    source = stage.source
    kind = source_kind(job.channel_source)
    if kind in KIND_CHANNEL or spec.type in ("identify", "screen"):
        found = classify_channel(
            source=job.channel_source, event_type=spec.type, event=None, context={}, properties={}
        )
        return literal(found), ""

    def cell(column: str) -> str:
        return text(ident(column), source.types[column])

    keys: dict[str, str] = {"event": event_sql}
    for name, column in (("url", web.url), ("referrer", web.referrer)):
        if column is not None:
            keys[name] = cell(column)
    for name, column in web.campaign.items():
        keys[f"utm_{name}"] = cell(column)
    for name, column in web.clicks.items():
        keys[name] = f"({cell(column)} IS NOT NULL)"
    listed = ", ".join(f"{sql} AS {ident(name)}" for name, sql in keys.items())
    combos = source.con.sql(f"SELECT DISTINCT {listed} FROM {source.view}").to_arrow_table()
    job.progress.step(f"classifying {combos.num_rows:,} channel combinations", combos.num_rows)
    channels: list[str] = []
    for combo in combos.to_pylist():
        page = {k: combo[k] for k in ("url", "referrer") if combo.get(k)}
        campaign = {k: combo[f"utm_{k}"] for k in web.campaign if combo.get(f"utm_{k}")}
        campaign.update({k: "1" for k in web.clicks if combo.get(k)})
        channels.append(
            classify_channel(
                source=job.channel_source,
                event_type=spec.type,
                event=combo["event"],
                context={"page": page, "campaign": campaign},
                properties={},
            )
        )
        job.progress.advance()
    distinct = sorted(set(channels))
    if len(distinct) <= 1:
        return literal(distinct[0] if distinct else "direct"), ""
    if len(keys) == 1:
        common = max(distinct, key=channels.count)
        cases = " ".join(
            f"WHEN {ident('__event')} = {literal(str(combo))} THEN {literal(found)}"
            for combo, found in zip(combos.column("event").to_pylist(), channels, strict=True)
            if found != common and combo is not None
        )
        return f"CASE {cases} ELSE {literal(common)} END", ""
    lookups["event_channels"] = combos.append_column("channel", pa.array(channels))
    source.con.register("event_channels", lookups["event_channels"])
    on = []
    for index, (name, sql) in enumerate(keys.items()):
        stage.passthrough(f"__k{index}", sql)
        on.append(f"{ident(f'__k{index}')} IS NOT DISTINCT FROM ch.{ident(name)}")
    return "ch.channel", f" LEFT JOIN event_channels ch ON {' AND '.join(on)}"


def _device_map(
    job: ImportJob, source: SourceTable, ua_sql: str, lookups: dict[str, pa.Table]
) -> None:
    agents = source.con.sql(
        f"SELECT DISTINCT {ua_sql} AS ua FROM {source.view} WHERE {ua_sql} IS NOT NULL"
    ).to_arrow_table()
    job.progress.step(f"classifying {agents.num_rows:,} user agents", agents.num_rows)
    devices: list[str | None] = []
    for agent in agents.column("ua").to_pylist():
        devices.append(classify_device({"userAgent": agent}))
        job.progress.advance()
    lookups["event_devices"] = agents.append_column("device", pa.array(devices, pa.string()))
    source.con.register("event_devices", lookups["event_devices"])


def _cell(source: SourceTable, column: str | None) -> str | None:
    return text(ident(column), source.types[column]) if column is not None else None


def _context(source: SourceTable, web: _Web) -> str:
    """SQL for the context JSON: the user agent and campaign, where Segment keeps them.

    Only what the derived columns are recomputed from; a constant provenance
    block would cost the warehouse a JSON parse per row (~1.7 s a million).
    """
    parts: list[str] = []
    agent = _cell(source, web.user_agent)
    if agent is not None:
        parts.append(f"{ident('userAgent')} := {agent}")
    if web.campaign:
        cells = {k: str(_cell(source, c)) for k, c in web.campaign.items()}
        packed = ", ".join(f"{ident(k)} := {v}" for k, v in cells.items())
        # No campaign at all is no "campaign" key, rather than an empty object.
        parts.append(
            f"campaign := CASE WHEN coalesce({', '.join(cells.values())}) IS NULL THEN NULL "
            f"ELSE struct_pack({packed}) END"
        )
    if not parts:
        return "'{}'"
    # Merging into {} drops the keys whose value is null.
    return f"CAST(json_merge_patch('{{}}', to_json(struct_pack({', '.join(parts)}))) AS VARCHAR)"


def _content_hash(job: ImportJob, spec: EventColumns) -> str:
    """SQL for a message id from the row's content: the same row, the same id."""
    parts = [
        literal(job.source),
        "'events'",
        literal(spec.type),
        f"coalesce({ident('__event')}, '')",
        f"coalesce({ident('__user')}, '')",
        f"coalesce({ident('__anon')}, '')",
        f"CAST(epoch_us({ident('__ts')}) AS VARCHAR)",
        ident("__payload"),
    ]
    return f"md5(concat_ws(chr(31), {', '.join(parts)}))"


def prepare(job: ImportJob, path: Path, spec: EventColumns | None = None) -> EventQuery:
    """Read and check an event file; returns the query that converts it (nothing written yet)."""
    spec = spec or EventColumns()
    if spec.event_name is not None and spec.type != "track":
        raise ImportFileError(path.name, "--event-name is for --type track only")
    # Not "events": the query's views may be made beside the warehouse's table of that name.
    source = job.read(path, "imported_events")
    cols = Columns(source)
    found = _resolve(cols, spec)
    web = _web_columns(cols)
    rest = cols.rest()
    job.progress.step(f"checking {source.rows:,} rows")
    inferred = infer_text_types(source, rest)

    stage = Stage(source, zone=job.zone)
    stage.field(
        "__id",
        found["id"],
        required=True,
        need="--id-col needs an id on every row",
        max_length=MAX_ID_LENGTH,
    )
    stage.field("__user", found["user"], max_length=MAX_ID_LENGTH)
    stage.field("__anon", found["anonymous"], max_length=MAX_ID_LENGTH)
    if spec.type == "track" and spec.event_name is None:
        stage.field(
            "__event",
            found["event"],
            required=True,
            need="every event needs a name",
            max_length=512,
        )
        event_sql = text(ident(str(found["event"])), source.types[str(found["event"])])
    else:
        name = spec.event_name or _FIXED_EVENT[spec.type]
        stage.passthrough("__event", literal(name))
        event_sql = literal(name)
    stage.field("__ts", found["time"], "timestamp", required=True, need="every event needs a time")
    who = [c for c in (found["user"], found["anonymous"]) if c is not None]
    if len(who) == 1:
        stage.check(
            who[0],
            f"{ident('__user' if found['user'] else '__anon')} IS NULL",
            literal("is empty; every event needs someone who did it"),
        )
    else:
        stage.check(
            who[0],
            f"{ident('__user')} IS NULL AND {ident('__anon')} IS NULL",
            literal(
                f'is empty, and so is "{source.file_name(who[1])}": '
                "every event needs a user id or an anonymous id"
            ),
        )

    # Every row is checked before anything is written: this pass reads only the
    # checked columns and returns only the problems; a bad row stops the import
    # here, or is set aside under --skip-invalid.
    bad = source.con.sql(
        stage.sql(select=[ident(ROW), REASON, COLUMN], where=f"{REASON} IS NOT NULL")
    ).to_arrow_table()
    job.settle(source, bad)

    payload = json_object([(source.file_name(c), value(source, c, inferred)) for c in rest])
    stage.passthrough("__payload", payload)
    ua_sql = _cell(source, web.user_agent)
    stage.passthrough("__context", _context(source, web))

    lookups: dict[str, pa.Table] = {}
    channel_sql, joins = _channel(job, stage, spec, event_sql, web, lookups)
    device_sql = "CAST(NULL AS VARCHAR)"
    if ua_sql is not None:
        _device_map(job, source, ua_sql, lookups)
        stage.passthrough("__ua", ua_sql)
        joins += f" LEFT JOIN event_devices dv ON {ident('__ua')} = dv.ua"
        device_sql = "dv.device"

    props, traits = (
        ("'{}'", ident("__payload")) if spec.type == "identify" else (ident("__payload"), "'{}'")
    )
    # `source` and `received_at` are the query's fields: the warehouse writes
    # them, and looks for stored duplicates of that source only.
    select = [
        f"{ident(ROW)} AS ordinal",
        f"{ident('__id') if found['id'] else _content_hash(job, spec)} AS message_id",
        f"{literal(spec.type)} AS type",
        f"CAST({ident('__event')} AS VARCHAR) AS event",
        f"CAST({ident('__anon')} AS VARCHAR) AS anonymous_id",
        f"CAST({ident('__user')} AS VARCHAR) AS user_id",
        "CAST(NULL AS VARCHAR) AS group_id",
        "CAST(NULL AS VARCHAR) AS previous_id",
        f"CAST({ident('__ts')} AS TIMESTAMP) AS ts",
        f"{channel_sql} AS channel",
        f"{device_sql} AS device",
        f"{props} AS properties",
        f"{traits} AS traits",
        f"{ident('__context')} AS context",
    ]
    return EventQuery(
        sql=stage.sql(select=select, joins=joins, where=f"{REASON} IS NULL", ordered=False),
        con=source.con,
        source=job.source,
        received_at=job.received_at,
        rows=source.rows - bad.num_rows,
        tables=lookups,
        setup=source.definitions,
        portable=source.portable,
        time_zone=job.zone,
    )
