"""The moments at which a profile rule can change its answer, as one table.

A profile rule (`count(...)`, `ever(...)`, `no_activity(...)`, `traits.x`)
is a function of the events up to a moment. Its answer can only change when
an event happens or when an event leaves one of the rule's time windows
(`last="30d"`, `no_activity("180d")`). So the *ticks* of a profile are its
events plus, for every window length used by the map, each event's time plus
that length; and one last tick at the as-of moment. Evaluating every rule at
every tick gives exact histories with no sampling, in one pass of window
functions over the warehouse.

Bot traffic is left out: a crawler is not a customer at any stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

# The event columns a rule can read (see nodes.FIELDS and JSON_ROOTS).
RULE_COLUMNS = (
    "seq",
    "message_id",
    "type",
    "event",
    "anonymous_id",
    "user_id",
    "group_id",
    "source",
    "channel",
    "device",
    "properties",
    "traits",
    "context",
)


def profile_events(
    con: ibis.BaseBackend, as_of: datetime | None, only: tuple[str, ...] | None = None
) -> ir.Table:
    """Every non-bot event with its profile, up to `as_of` (event time, UTC): profile_id, ts
    and `RULE_COLUMNS`; or `only` the `profile_events` columns given (a smaller expression to
    build and compile, for a query that reads a few, or the kept path order's columns).

    The identity resolver keeps the `profile_events` table (the identity join, done once).
    """
    events = con.table("profile_events")
    if as_of is not None:
        events = events.filter(events.ts <= as_of)
    columns = only if only is not None else ("profile_id", "ts", *RULE_COLUMNS)
    # Typed nullable, as a join's columns are: the analyses put nulls beside these columns
    # (ticks, padding rows). A cast to the same type costs nothing in the engines.
    return events.select(columns).cast({c: events[c].type().copy(nullable=True) for c in columns})


def ticks(events: ir.Table, windows: Iterable[timedelta], as_of: datetime) -> ir.Table:
    """Events (`_real` true) plus window-expiry ticks and one tick at `as_of` per profile."""
    real = events.mutate(_real=ibis.literal(True))
    blank = {name: ibis.null(real[name].type()) for name in RULE_COLUMNS}
    parts = [real]
    moments: list[ir.Table] = []
    for window in sorted(set(windows)):
        shifted = events.select(
            "profile_id",
            ts=events.ts + ibis.interval(microseconds=int(window / timedelta(microseconds=1))),
        )
        moments.append(shifted.filter(shifted.ts <= as_of).cast({"ts": events.ts.type()}))
    ts_type = events.ts.type()
    final = events.select("profile_id").distinct().mutate(ts=ibis.literal(as_of, type=ts_type))
    moments.append(final)
    extra = ibis.union(*moments, distinct=True) if len(moments) > 1 else moments[0]
    parts.append(extra.mutate(_real=ibis.literal(False), **blank).select(real.columns))
    return ibis.union(*parts)


def at_as_of(evaluated: ir.Table, as_of: datetime) -> ir.Table:
    """One row per profile of a table evaluated on `ticks`: its state at the as-of moment.

    A window-expiry tick can fall exactly on `as_of`; both rows hold the same state.
    """
    final = evaluated.filter(
        ~evaluated._real & (evaluated.ts == ibis.literal(as_of, type=evaluated.ts.type()))
    )
    return final.distinct(on="profile_id")
