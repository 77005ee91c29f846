"""Breakdowns: split any analysis by a property of the event or of the person.

`--by` takes one of:

- an event column: `channel`, `device`, `source`, `type`, `event`;
- the map's labels of the event: `touchpoint`, `phase`;
- a JSON path: `properties.plan`, `context.campaign.source`, `traits.city`;
- a property of the profile: `persona`, `stage` (at the as-of moment, under
  the map) or `first_touch` (the channel of the profile's first event ever).

Event-level values are read on each event; a runner decides which event of a
profile speaks for it (a funnel takes its first step). Missing values are
`(none)`, so every row belongs to one group.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from percorso.analytics.territory import AnalyticsError, Territory
from percorso.errors import did_you_mean
from percorso.journey.compile import json_value
from percorso.journey.nodes import JSON_ROOTS
from percorso.journey.ticks import profile_events

NONE = "(none)"
EVENT_COLUMNS = ("channel", "device", "source", "type", "event")
MAP_LABELS = ("touchpoint", "phase")
PROFILE_FIELDS = ("persona", "stage", "first_touch")
CHOICES = (*EVENT_COLUMNS, *MAP_LABELS, *PROFILE_FIELDS)
COLUMN = "breakdown"


def check(by: str) -> None:
    """Raise `AnalyticsError` unless `by` is a breakdown this module knows."""
    root, _, rest = by.partition(".")
    if root in JSON_ROOTS:
        if not rest or any(not part for part in rest.split(".")):
            raise AnalyticsError(f'"{by}": write a key after "{root}." such as {root}.plan')
        return
    if by not in CHOICES:
        listed = ", ".join([*CHOICES, "properties.KEY", "context.KEY", "traits.KEY"])
        raise AnalyticsError(f'"{by}" is not a breakdown{did_you_mean(by, CHOICES)} ({listed})')


def is_profile_level(by: str) -> bool:
    return by in PROFILE_FIELDS


def event_value(table: ir.Table, by: str) -> ir.StringValue:
    """The breakdown's value on each row of a `Territory.labelled()` table (event level only)."""
    root, _, rest = by.partition(".")
    if root in JSON_ROOTS:
        text = json_value(table, root, rest.split("."), "string")
    else:
        text = table[by].cast("string")
    return text.fill_null(NONE)


def profile_values(territory: Territory, by: str) -> ir.Table:
    """profile_id and `breakdown` for a profile-level field: one row per profile."""
    if by in ("persona", "stage"):
        current = territory.personas()
        return current.select("profile_id", breakdown=current[by].fill_null(NONE))
    # first_touch: the profile's first event ever, not only since `since`.
    every = profile_events(territory.engine.ibis, territory.as_of)
    order = ibis.window(group_by=every.profile_id, order_by=[every.ts, every.seq])
    ranked = every.mutate(_n=ibis.row_number().over(order))
    first = ranked.filter(ranked._n == 0)
    return first.select("profile_id", breakdown=first.channel.fill_null(NONE))


def with_breakdown(table: ir.Table, by: str, territory: Territory) -> ir.Table:
    """`table` (with `profile_id`, and the event columns for event-level fields) plus a
    `breakdown` column."""
    check(by)
    if is_profile_level(by):
        values = profile_values(territory, by)
        joined = table.left_join(values, "profile_id")
        return joined.drop("profile_id_right").mutate(breakdown=joined[COLUMN].fill_null(NONE))
    return table.mutate(breakdown=event_value(table, by))
