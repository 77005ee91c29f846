"""What every analysis reads: the profiles' events on one engine, under one map, up to one moment.

A `Territory` is built once per request and handed to a runner. Its tables
are lazy Ibis expressions on the engine, so a runner composes them into one
query and the engine runs it once. Bots are left out everywhere (see
`percorso.journey.ticks.profile_events`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from percorso.errors import UserError, did_you_mean
from percorso.journey.lifecycle import Lifecycle
from percorso.journey.model import JourneyMap
from percorso.journey.nodes import DURATION, parse_duration
from percorso.journey.ticks import profile_events
from percorso.journey.touches import label_touchpoints
from percorso.warehouse.engine import Engine


def _duration(value: Any) -> Any:
    """Short durations as people write them ("7d", "12h", "45m"); anything else (ISO 8601
    "P7D" as JSON carries a timedelta, a number of seconds) is pydantic's to read."""
    if isinstance(value, str):
        text = value.strip()
        found = DURATION.match(text)
        if found is not None and int(found.group(1)) > 0:
            return parse_duration(text)
        if found is not None or not (
            text.upper().startswith(("P", "-P")) or text.replace(".", "", 1).isdigit()
        ):
            raise ValueError(
                f'"{value}" is not a duration: write a number and a unit (s, m, h, d, w) '
                'such as "30d" or "12h"'
            )
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema(
        {"type": "string", "examples": ["7d", "12h", "P7D"]},
        mode="validation",
    ),
]
"""A length of time: "45m", "12h", "7d", "8w", ISO 8601 ("P7D"), or seconds."""


class AnalysisQuery(BaseModel):
    """What every query has: the period it reads. `until` is the as-of moment (default now):
    events after it are not seen, and stages and personas are those of that moment."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(
        default=None, description="Read events from this moment (UTC); default the first event."
    )
    until: datetime | None = Field(
        default=None,
        description="Read events up to this moment (UTC), the as-of moment; default now.",
    )

    @model_validator(mode="after")
    def _period(self) -> Self:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is not None:
                # Stored times are naive UTC.
                setattr(self, name, value.astimezone(UTC).replace(tzinfo=None))
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError(f"since ({self.since}) must be before until ({self.until})")
        return self

    def within(self, rows: ir.Table) -> ir.Table:
        """The `rows` (events, with `ts`) of the query's period: since <= ts <= until. The
        territory is normally built for that period; a caller's own territory may not be."""
        if self.since is not None:
            rows = rows.filter(rows.ts >= self.since)
        if self.until is not None:
            rows = rows.filter(rows.ts <= self.until)
        return rows


def part(table: ir.Table, name: str, columns: Mapping[str, ir.Value]) -> ir.Table:
    """`table` as the part `name` of a report that runs as one query (a `UNION ALL` of parts,
    split again by `Territory.parts`): a `part` column, then each of `columns`, taken from
    `table` where it has one of that name, else the value given (a typed null)."""
    picked = {c: table[c] if c in table.columns else v for c, v in columns.items()}
    return table.select(part=ibis.literal(name), **picked)


class AnalyticsError(UserError):
    """A query that cannot run as asked: the message names the problem and the fix."""


class UnknownEvent(AnalyticsError):
    """An event name that no event in the warehouse has."""


PATH_READ = ("profile_id", "ts", "seq", "event", "type", "pos", "next_name", "next_ts")
"""The columns of `Territory.in_path_order`."""


@dataclass
class Territory:
    """The warehouse's profile events on `engine`, labelled by `journey_map`, up to `as_of`."""

    engine: Engine
    journey_map: JourneyMap
    as_of: datetime
    since: datetime | None = None
    _event_names: list[str] | None = dataclass_field(default=None, repr=False)

    def events(self, only: tuple[str, ...] | None = None) -> ir.Table:
        """Every non-bot event with its profile in [since, as_of]: profile_id, ts, seq and the
        event columns (`percorso.journey.ticks.RULE_COLUMNS`); or `only` the `profile_events`
        columns given, `ts` among them (`pos` orders a profile's events, as in
        `in_path_order`)."""
        events = profile_events(self.engine.ibis, self.as_of, only=only)
        if self.since is not None:
            events = events.filter(events.ts >= self.since)
        return events

    def in_path_order(self) -> ir.Table:
        """Every non-bot event up to the as-of moment, `since` not applied (each profile's
        whole path from its first event), with the order the identity resolver keeps: `pos`
        (0 for the first event) and the next event's `next_name` and `next_ts`, null for the
        last event up to the as-of moment. Events up to a moment are the start of each path,
        so the kept order holds for them; a next event after the moment is no next event.
        The columns are the path's alone (`PATH_READ`): what reads the kept order needs no
        more, and a narrower expression is quicker to build and compile."""
        events = profile_events(self.engine.ibis, self.as_of, only=PATH_READ)
        ahead = events.next_ts <= self.as_of
        return events.mutate(
            next_name=ibis.cases((ahead, events.next_name), else_=ibis.null("string")),
            next_ts=ibis.cases((ahead, events.next_ts), else_=ibis.null(events.next_ts.type())),
        )

    def labelled(self) -> ir.Table:
        """`events()` with `touchpoint`, `phase` (null for events that are no touchpoint) and
        `phase_rank` (the phase's position in the map, -1 for none)."""
        return label_touchpoints(self.events(), self.journey_map)

    def personas(self) -> ir.Table:
        """profile_id, persona, stage: each profile at the as-of moment (all of its history
        counts, not only the events since `since`)."""
        return Lifecycle(self.engine, self.journey_map, self.as_of).current()

    def rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run `expr` on the engine; one dict per row."""
        return self.engine.to_arrow(expr).to_pylist()  # type: ignore[no-any-return]

    def parts(self, report: ir.Table) -> dict[str, list[dict[str, Any]]]:
        """Run a report made of `part`s; its rows by part name (none: an empty list)."""
        found: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows(report):
            found[row["part"]].append(row)
        return found

    def event_names(self) -> list[str]:
        """The distinct event names in the warehouse (for did-you-mean), sorted."""
        if self._event_names is None:
            table = self.engine.ibis.table("events")
            names = table.select("event").distinct()
            self._event_names = sorted(
                str(r["event"]) for r in self.rows(names) if r["event"] is not None
            )
        return self._event_names

    def check_event(self, name: str) -> None:
        """Raise `UnknownEvent` when no event is called `name`."""
        names = self.event_names()
        if name not in names:
            raise UnknownEvent(
                f'"{name}" is not an event in this warehouse{did_you_mean(name, names)}'
                " (`percorso stats` lists what the warehouse holds)"
            )

    def check_touchpoint(self, touchpoint: str) -> None:
        ids = [tp.id for tp in self.journey_map.touchpoints]
        if touchpoint not in ids:
            raise AnalyticsError(
                f'"{touchpoint}" is not a touchpoint of the journey map'
                f"{did_you_mean(touchpoint, ids)} (`percorso map show` lists them)"
            )
