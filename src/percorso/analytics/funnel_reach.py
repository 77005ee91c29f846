"""How far each profile got through a funnel: one row per profile, from one Ibis expression.

A *chain* is a sequence of distinct events of one profile, one per step, in
order, the last no later than `window` after the first. A profile reaches
step k when a chain covers the required steps up to k and k itself (an
optional step never has to be done); chains are looked for from every
attempt, not only the first.

A profile's rows are ordered by (ts, index of the first step the event
matches, seq): events at the same instant count in the order of the funnel,
as in ClickHouse's `windowFunnel`, and `seq` (ingestion order) breaks the
rest. Unlike `windowFunnel`, an event is one step only: `a -> a -> b` needs
two `a` events (ClickHouse lets one event be every step it matches).

How it scales: the best chain to an event of step k goes through the
*latest* chain to step k-1 before it (the latest start leaves the most room
in the window, and starts only grow along a profile's events). So a level is
a join of step k's events to the level before, on "the latest one before
this event", and a chain whose start is out of the window is dropped at once
(a later event could not fit either):

- ordered, steps that are distinct event names, on an engine with ASOF
  joins (DuckDB): each level is an ASOF join on the timestamp;
- ordered otherwise: one window pass numbers each step's events (a running
  count), so "the latest step k-1 event before this row" is the one whose
  number is the count at the row: a hash join per level;
- strict: the step must be the profile's very next event (any event of the
  profile interrupts), so the predecessor is the previous row: one window
  pass numbers the rows, then the same hash joins;
- unordered: from an event of any step (the anchor), the steps with an event
  in [anchor, anchor + window] count, in any order; a profile's level is its
  best anchor's (the earliest of the best). One window pass finds, for each
  step, its next event from every row.

Times between steps are read where a profile first reached each step: the
time since the event of the required step before it on that chain
(unordered: between the k-1th and the kth distinct step of the best window).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

Order = Literal["ordered", "strict", "unordered"]

PROFILE = "profile_id"
FIRST = "first"  # the profile's first step-1 event (unordered: first event of any step)
BREAKDOWN = "breakdown"  # the carried value, read on the best attempt's first event
ASOF_BACKENDS = ("duckdb",)  # Spark SQL has no ASOF join
_SHIFT = 2**52  # packs (level, start number) into one BIGINT: start numbers stay below it
_EPOCH = ibis.timestamp("1970-01-01 00:00:00")


def reached(k: int) -> str:
    """Column of the reach table: did the profile reach step k (1-based)."""
    return f"reached_{k}"


def seconds(k: int) -> str:
    """Column of the reach table: seconds from the step before, where step k was first reached."""
    return f"seconds_{k}"


def reach(
    rows: ir.Table,
    conditions: Sequence[ir.BooleanValue],
    optional: Sequence[bool],
    window: timedelta,
    order: Order,
    carry: ir.Value | None = None,
    distinct_events: bool = False,
) -> ir.Table:
    """One row per profile with an event of step 1 (unordered: of any step): profile_id,
    reached_k and seconds_k (null for k = 1 and where not reached) per step, `first`, and
    `breakdown` (the value of `carry` on the best attempt's first event) when `carry` is given.

    `conditions` and `carry` are expressions on `rows` (profile_id, ts, seq, ...);
    `distinct_events` says no event can match two steps (they are distinct event names)."""
    flags = {f"_c{k}": c.fill_null(False) for k, c in enumerate(conditions, 1)}
    first_step = ibis.cases(*[(c, k) for k, c in enumerate(conditions, 1)], else_=0)
    extra = {} if carry is None else {"_b": carry}
    if order != "strict":  # strict reads every event: any of them may interrupt
        # On the rows themselves, so the engine can push it down to the scan.
        rows = rows.filter(ibis.or_(*[c.fill_null(False) for c in conditions]))
    table = rows.select(PROFILE, "ts", "seq", _k=first_step, **flags, **extra)
    span = ibis.interval(microseconds=window // timedelta(microseconds=1))
    if order == "unordered":
        return _unordered(table, len(conditions), span, carry is not None)
    if order == "ordered" and distinct_events and rows.get_backend().name in ASOF_BACKENDS:
        levels = _asof_levels(table, optional, span, carry is not None)
    else:
        levels = _numbered_levels(table, optional, span, order == "strict", carry is not None)
    return _per_profile(levels, optional, carry is not None)


# A level (one per step) holds the chains that end at an event of that step: profile_id,
# ts, `_at` (orders the step's events), `_st`/`_sn` (the chain's start: its ts, and a number
# that grows with it), `_pt` (ts of the required step before), `_lvl`, and `_bv` (the value
# carried from the start). An optional step is a level that no later step reads.


def _start(first: ir.Table, at: ir.Value, number: ir.Value, carry: bool) -> ir.Table:
    """Level 1: each step-1 event starts a chain (`number` grows with its start)."""
    return first.select(
        PROFILE,
        "ts",
        _at=at,
        _st=first.ts,
        _sn=number,
        _pt=first.ts,
        _lvl=ibis.literal(1, "int64"),
        **({"_bv": first._b} if carry else {}),
    )


def _extend(
    joined: ir.Table, events: ir.Table, at: ir.Value, chain: ir.Table, k: int, carry: bool
) -> ir.Table:
    """Level k: the step-k `events` of `joined`, each extending the `chain` it was joined to."""
    return joined.select(
        PROFILE,
        ts=events.ts,
        _at=at,
        _st=chain._st,
        _sn=chain._sn,
        _pt=chain.ts,
        _lvl=ibis.literal(k, "int64"),
        **({"_bv": chain._bv} if carry else {}),
    )


def _asof_levels(
    table: ir.Table, optional: Sequence[bool], span: ir.IntervalValue, carry: bool
) -> list[ir.Table]:
    """Each step's events ASOF-joined to the latest chain of the level before, on ts. With
    distinct event names a row's `_k` is its step, and at the same instant the earlier
    step's event is the one before (`>=`); equal timestamps in a level are interchangeable."""
    first = table.filter(table._k == 1)
    micros = first.ts.delta(_EPOCH, unit="microsecond")
    levels = [_start(first, first.ts, micros, carry)]
    source = 1
    for k in range(2, len(optional) + 1):
        events = table.filter(table._k == k)
        chain = levels[source - 1]
        joined = events.asof_join(chain, on=events.ts >= chain.ts, predicates=[PROFILE])
        linked = _extend(joined, events, events.ts, chain, k, carry)
        levels.append(linked.filter(linked._st.notnull() & (linked.ts <= linked._st + span)))
        if not optional[k - 1]:
            source = k
    return levels


def _numbered_levels(
    table: ir.Table, optional: Sequence[bool], span: ir.IntervalValue, strict: bool, carry: bool
) -> list[ir.Table]:
    """One window pass numbers the events (ordered: a running count per step; strict: the
    row), then each level is a hash join of the step's events to the level before on the
    number of the latest (strict: the previous) event before them."""
    n = len(optional)
    over = ibis.window(group_by=PROFILE, order_by=["ts", "_k", "seq"], rows=(None, 0))
    if strict:
        numbered = table.mutate(_pos=ibis.row_number().over(over)).filter(table._k > 0)
    else:
        counts = {f"_n{k}": table[f"_c{k}"].cast("int64").sum().over(over) for k in range(1, n + 1)}
        numbered = table.mutate(**counts)

    def number(rows: ir.Table, k: int) -> ir.IntegerValue:
        return rows._pos if strict else rows[f"_n{k}"]

    def before(rows: ir.Table, k: int) -> ir.IntegerValue:
        """At a row: the number of the latest event of step k strictly before it."""
        if strict:
            return rows._pos - 1
        return rows[f"_n{k}"] - rows[f"_c{k}"].cast("int64")

    first = numbered.filter(numbered._c1)
    at = number(first, 1)
    levels = [_start(first, at, at, carry)]
    source = 1
    for k in range(2, n + 1):
        rows = numbered.filter(numbered[f"_c{k}"])
        events = rows.select(PROFILE, "ts", _at=number(rows, k), _to=before(rows, source))
        chain = levels[source - 1]
        joined = events.join(
            chain, [PROFILE, events._to == chain._at, events.ts <= chain._st + span]
        )
        levels.append(_extend(joined, events, events._at, chain, k, carry))
        if not optional[k - 1]:
            source = k
    return levels


def _per_profile(levels: list[ir.Table], optional: Sequence[bool], carry: bool) -> ir.Table:
    """The levels folded into one row per profile. Step 1 (the most rows) is aggregated on
    its own; the best attempt is the latest start among the chains to the furthest required
    step (`_key` packs the two)."""
    n = len(levels)
    first = levels[0]
    base = first.group_by(PROFILE).aggregate(
        **{FIRST: first.ts.min()},
        **({"_bv1": first._bv.argmax(first._sn)} if carry else {}),
    )
    later = ibis.union(*levels[1:])
    required = [k for k in range(2, n + 1) if not optional[k - 1]]
    furthest = ibis.cases(*[(later._lvl == k, k) for k in required], else_=0)
    key = furthest.cast("int64") * _SHIFT + later._sn
    gap = _seconds(later.ts, later._pt)
    steps = range(2, n + 1)
    per = later.group_by(PROFILE).aggregate(
        **{f"_r{k}": (later._lvl == k).any() for k in steps},
        **{seconds(k): gap.argmin(later._at, where=later._lvl == k) for k in steps},
        _key=key.max(),
        **({"_bvk": later._bv.argmax(key)} if carry else {}),
    )
    joined = base.left_join(per, PROFILE)
    value = {}
    if carry:
        value[BREAKDOWN] = ibis.ifelse(joined._key >= 2 * _SHIFT, joined._bvk, joined._bv1)
    return joined.select(
        PROFILE,
        **{reached(1): ibis.literal(True)},
        **{reached(k): joined[f"_r{k}"].fill_null(False) for k in steps},
        **{seconds(k): joined[seconds(k)] for k in steps},
        **{FIRST: joined[FIRST]},
        **value,
    )


def _unordered(table: ir.Table, n: int, span: ir.IntervalValue, carry: bool) -> ir.Table:
    """Unordered (see the module's doc): `_x{j}` the next event of step j from each row on; a
    row's level the steps whose next event is within the window."""
    steps = range(1, n + 1)
    no_ts = ibis.null(table.ts.type())
    ahead = ibis.window(group_by=PROFILE, order_by=["ts", "seq"], rows=(0, None))
    nexts = table.mutate(
        _pos=ibis.row_number().over(ahead),
        **{
            f"_x{j}": ibis.ifelse(table[f"_c{j}"], table.ts, no_ts).min().over(ahead) for j in steps
        },
    )
    inside = {j: nexts[f"_x{j}"].notnull() & (nexts[f"_x{j}"] <= nexts.ts + span) for j in steps}
    level = sum((ibis.ifelse(inside[j], 1, 0) for j in steps), ibis.literal(0)).cast("int64")
    anchors = nexts.select(
        PROFILE,
        "ts",
        "_pos",
        _level=level,
        **{f"_x{j}": ibis.ifelse(inside[j], nexts[f"_x{j}"], no_ts) for j in steps},
        **({"_b": nexts._b} if carry else {}),
    )
    # The best anchor: the highest level, then the earliest.
    per = anchors.group_by(PROFILE).aggregate(
        _best=(anchors._level * _SHIFT + (_SHIFT - 1 - anchors._pos)).max(),
        **{FIRST: anchors.ts.min()},
    )
    best = anchors.join(per, [PROFILE, anchors._pos == _SHIFT - 1 - per._best % _SHIFT])
    # The kth distinct step of the best window: its steps' times, one row each, ranked.
    times = ibis.union(
        *[best.select(PROFILE, _t=best[f"_x{j}"], _j=ibis.literal(j, "int64")) for j in steps]
    )
    times = times.filter(times._t.notnull())
    order = ibis.window(group_by=PROFILE, order_by=["_t", "_j"])
    ranked = times.mutate(_r=ibis.row_number().over(order))
    kth = ranked.group_by(PROFILE).aggregate(
        **{f"_t{k}": ranked._t.min(where=ranked._r == k - 1) for k in steps}
    )
    joined = best.join(kth, PROFILE)
    return joined.select(
        PROFILE,
        **{reached(k): joined._level >= k for k in steps},
        **{seconds(k): _seconds(joined[f"_t{k}"], joined[f"_t{k - 1}"]) for k in steps if k > 1},
        **{FIRST: joined[FIRST]},
        **({BREAKDOWN: joined._b} if carry else {}),
    )


def _seconds(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    return later.delta(earlier, unit="microsecond").cast("float64") / 1e6
