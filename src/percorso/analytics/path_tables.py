"""The Ibis expressions behind `percorso.analytics.paths`: the cleaned paths, the
directly-follows graph, the variants and the Sankey.

Everything a path report needs is one query: the graph, the variants and the
Sankey read the same cleaned paths, so they are three parts of one `UNION ALL`
(DuckDB computes the shared paths once; three queries took three times as long
on the demo, most of it labelling touchpoints). The graph alone (`dfg`) is the
lean query a benchmark times: one window pass (`lead` over each profile's
events by ts, seq) and one group-by.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from percorso.analytics.funnel_reach import FIRST, PROFILE, reach, reached
from percorso.analytics.funnels import FunnelQuery, previous_required
from percorso.analytics.steps import Step
from percorso.analytics.territory import Territory, part

if TYPE_CHECKING:
    from percorso.analytics.paths import PathQuery

PATH = dt.Array(dt.Struct({"step": dt.int64, "node": dt.string}))
PARTS: dict[str, dt.DataType] = {
    "node": dt.string,
    "to": dt.string,
    "step": dt.int64,
    "count": dt.int64,
    "quantiles_us": dt.Array(dt.float64),
    "starts": dt.int64,
    "path": PATH,
}
"""The columns of the one result; a part leaves null what is not its own (`part` names it)."""


def paths(query: PathQuery, territory: Territory) -> ir.Table:
    """profile_id, ts, seq, node: every node of every cleaned path, cleaned as
    `percorso.analytics.paths` says."""
    anchors = [s for s in (query.after, query.before) if s is not None]
    if query.after_dropping is not None:
        anchors += query.after_dropping.steps
    labelled = query.level != "event" or any(s.touchpoint is not None for s in anchors)
    table = query.within(territory.labelled() if labelled else territory.events())
    table = table.mutate(
        node=table.event.fill_null(table.type) if query.level == "event" else table.touchpoint
    )
    dropped = query.after_dropping is not None
    if anchors:
        table = _cut(table, query, territory)
    table = table.select("profile_id", "ts", "seq", "node")
    table = table.filter(table.node.notnull())
    if query.level == "phase":
        # From the touchpoint, not `labelled().phase`: a filter on that nested CASE takes
        # DuckDB seconds to plan (1.8 s against 0.45 s on the demo).
        phase_of = {tp.id: tp.phase for tp in territory.journey_map.touchpoints}
        table = table.mutate(node=table.node.substitute(phase_of))
    if query.exclude:
        table = table.filter(~table.node.isin(query.exclude))
    if query.group:
        renamed = {m: name for name, members in query.group.items() for m in members}
        table = table.mutate(node=table.node.substitute(renamed, else_=table.node))
    if query.collapse_repeats:
        # a named column, not a window in the filter: Ibis's PySpark compiler loses the
        # table that a window function inside a filter refers to
        table = table.mutate(_previous=table.node.lag().over(in_order(table)))
        table = table.filter(table._previous.isnull() | (table._previous != table.node))
        table = table.drop("_previous")
    if query.max_steps is not None:
        backwards = query.before is not None and query.after is None and not dropped
        table = table.mutate(_n=ibis.row_number().over(in_order(table, descending=backwards)))
        table = table.filter(table._n < query.max_steps).drop("_n")
    return table


def _cut(table: ir.Table, query: PathQuery, territory: Territory) -> ir.Table:
    """Keep the events from the start anchor (`after`, `after_dropping`) to the `before`
    anchor, both included."""
    if query.after_dropping is not None:
        table, last = _dropped(table, query.after_dropping, territory)
    table = table.mutate(_pos=ibis.row_number().over(in_order(table)))
    start: ir.BooleanValue | None = None
    if query.after_dropping is not None:
        start = last.condition(table, territory) & (table.ts >= table._first)
    elif query.after is not None:
        start = query.after.condition(table, territory)
    if start is not None:
        first = ibis.cases((start, table._pos)).min()
        table = table.mutate(_from=first.over(ibis.window(group_by=table.profile_id)))
        table = table.filter(table._pos >= table._from)
    if query.before is not None:
        # the rows before the start are gone, so this is the first `before` at or after it
        first = ibis.cases((query.before.condition(table, territory), table._pos)).min()
        table = table.mutate(_to=first.over(ibis.window(group_by=table.profile_id)))
        table = table.filter(table._pos <= table._to)
    return table


def _dropped(table: ir.Table, funnel: FunnelQuery, territory: Territory) -> tuple[ir.Table, Step]:
    """The events of the profiles that dropped out of `funnel` at its `dropped_at` step, with
    `_first` (their first step-1 event's time, from `percorso.analytics.funnel_reach`), and the
    last step they reached: their paths start at its first event from `_first` on."""
    steps = funnel.steps
    per = reach(
        table,
        [step.condition(table, territory) for step in steps],
        [step.optional for step in steps],
        funnel.window,
        funnel.order,
    )
    k = funnel.dropped_at or len(steps)
    last = previous_required(steps, k)
    gone = per.filter(per[reached(last)] & ~per[reached(k)]).select(PROFILE, _first=per[FIRST])
    return table.join(gone, PROFILE), steps[last - 1]


def in_order(table: ir.Table, descending: bool = False) -> Any:
    """Each profile's events by time, ties by ingestion order."""
    keys = [table.ts, table.seq]
    return ibis.window(
        group_by=table.profile_id,
        order_by=[ibis.desc(k) for k in keys] if descending else keys,
    )


def linked_paths(query: PathQuery, territory: Territory) -> ir.Table:
    """`linked(paths(query, territory))`: read from the path order that the identity
    resolver keeps in `profile_events` when the query's paths are whole (see `kept_steps`),
    else computed by a window over the cleaned paths."""
    kept = kept_steps(query, territory)
    return kept if kept is not None else linked(paths(query, territory))


def kept_steps(query: PathQuery, territory: Territory) -> ir.Table | None:
    """What `linked(paths(...))` gives, read from the kept path order
    (`Territory.in_path_order`) without a window; None when the query's paths are not each
    profile's whole event-level path up to a moment. Groups only rename nodes."""
    anchored = query.after or query.before or query.after_dropping
    if (
        query.level != "event"
        or anchored
        or query.since is not None
        or territory.since is not None
        or query.exclude
        or query.collapse_repeats
        or query.max_steps is not None
    ):
        return None
    end = territory.as_of if query.until is None else min(query.until, territory.as_of)
    table = replace(territory, as_of=end).in_path_order()
    node = table.event.fill_null(table.type)
    following = table.next_name
    if query.group:
        renamed = {m: name for name, members in query.group.items() for m in members}
        node = node.substitute(renamed, else_=node)
        following = following.substitute(renamed, else_=following)
    return table.select(
        "profile_id",
        "ts",
        "seq",
        node=node,
        _step=table.pos,
        _next=following,
        _next_ts=table.next_ts,
    )


def linked(table: ir.Table) -> ir.Table:
    """`paths(...)` plus `_step` (0-based position), `_next` and `_next_ts` (the next node)."""
    order = in_order(table)
    return table.mutate(
        _step=ibis.row_number().over(order),
        _next=table.node.lead().over(order),
        _next_ts=table.ts.lead().over(order),
    )


def graph(steps: ir.Table) -> ir.Table:
    """The directly-follows graph in one pass: node, to (null for a path's last node), count,
    quantiles_us ([median, 90th percentile] of the microseconds to the next node, both
    interpolated) and starts (paths that start at the node)."""
    gap = steps._next_ts.delta(steps.ts, unit="microsecond")
    return steps.group_by(node=steps.node, to=steps._next).aggregate(
        count=steps.count(),
        # one sort for both: DuckDB's quantile_cont with a list, Spark's percentile
        quantiles_us=gap.quantile([0.5, 0.9]),
        starts=steps.count(where=steps._step == 0),
    )


def dfg(query: PathQuery, territory: Territory) -> ir.Table:
    """The directly-follows graph of `query`'s paths alone (see `graph`); unchecked."""
    return graph(linked_paths(query, territory))


def variants(steps: ir.Table, top: int) -> ir.Table:
    """path ([{step, node}, ...]) and count (profiles): the `top` most frequent whole paths,
    ties by their nodes' names, node by node."""
    # An ordered collect is not portable (PySpark has none): sort (step, node) pairs.
    per = steps.group_by("profile_id").aggregate(
        path=ibis.struct({"step": steps._step, "node": steps.node}).collect().sort()
    )
    counted = per.group_by("path").aggregate(count=per.count())
    return counted.order_by([ibis.desc("count"), "path"]).limit(top)


def sankey(steps: ir.Table, depth: int) -> ir.Table:
    """step, node, to (null at the last shown step or the path's end), count (profiles): the
    first `depth` steps of the paths by position."""
    shown = steps.filter(steps._step < depth)
    onward = ibis.cases((shown._step < depth - 1, shown._next), else_=ibis.null("string"))
    return shown.group_by(step=shown._step, node=shown.node, to=onward).aggregate(
        count=shown.count()
    )


def report(query: PathQuery, territory: Territory) -> ir.Table:
    """The graph, and the variants and the Sankey when asked for, as one table with a
    `part` column ("graph", "variants", "sankey") and the columns of `PARTS`."""
    linked_steps = linked_paths(query, territory)
    parts = [_part(graph(linked_steps), "graph")]
    if query.top_paths > 0:
        parts.append(_part(variants(linked_steps, query.top_paths), "variants"))
    if query.sankey_steps > 0:
        parts.append(_part(sankey(linked_steps, query.sankey_steps), "sankey"))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def _part(table: ir.Table, name: str) -> ir.Table:
    return part(table, name, {column: ibis.null(kind) for column, kind in PARTS.items()})
