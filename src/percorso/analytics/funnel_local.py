"""The plain ordered funnel, finished in this process on the steps' events in path order.

When the engine runs in this process (the embedded DuckDB: `Engine.in_process`)
and the funnel is the common one (ordered, each step its own event name, no
breakdown, trend or drop-out list), the engine only reads the steps' events in
path order (by profile, then the path position `profile_events.pos` that the
identity resolver keeps) and hands over three columns; numpy walks the chains
in a few vectorised passes, with no join on the engine. When the resolver has
stored `profile_events` in path order, a scan in storage order is that order
(checked as read, 0.03 s at 10M events): no sort; else the engine sorts. Every
other funnel is the engine's query (`percorso.analytics.funnel_reach`).

The definitions are funnel_reach's, for distinct event names: a step-k event
continues the latest chain to the required step before it whose event is at
the same instant or earlier (at the same instant the earlier step counts
first), when it is within the window of that chain's start; a profile's time
to step k is read where it first reached it. `tests/analytics/test_funnels.py`
checks that both ways give the same answers, and ClickHouse's `windowFunnel`
the same counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from percorso.analytics.steps import distinct_events
from percorso.analytics.territory import Territory

if TYPE_CHECKING:  # funnels calls this module
    from percorso.analytics.funnels import FunnelQuery

Array = npt.NDArray[Any]


def applies(query: FunnelQuery, territory: Territory) -> bool:
    """Whether this path answers `query`: an in-process engine, an ordered funnel of distinct
    event names, and no breakdown, trend or drop-out list asked for."""
    return (
        territory.engine.in_process
        and query.order == "ordered"
        and distinct_events(query.steps)
        and query.by is None
        and query.trend is None
        and query.dropped_at is None
    )


def step_counts(query: FunnelQuery, territory: Territory) -> dict[str, Any]:
    """Per step k: `n{k}` profiles, and for k > 1 the median `m{k}` and 90th percentile
    `q{k}` of the seconds from the step before (as `funnels.report`'s steps part)."""
    names = [str(s.event) for s in query.steps]
    rows = query.within(territory.events(only=("profile_id", "ts", "event", "pos")))
    rows = rows.filter(rows.event.isin(names))
    step = ibis.cases(*[(rows.event == name, k) for k, name in enumerate(names, 1)])
    chosen = rows.select("profile_id", "ts", _k=step.cast("int8"), _pos=rows.pos)
    # Stored in path order, the rows need no sort; the order read is checked all the same.
    table = territory.engine.in_storage_order(chosen)
    starts = None if table is None else _starts_in_path_order(table)
    if table is None or starts is None:
        table = territory.engine.to_arrow(chosen.order_by(["profile_id", "_pos"]))
        starts = _starts(table.column("profile_id").combine_chunks())
    return walk(
        starts,
        table.column("ts").cast(pa.int64()).to_numpy(),
        table.column("_k").to_numpy(),
        [s.optional for s in query.steps],
        query.window // timedelta(microseconds=1),
    )


def _starts_in_path_order(table: pa.Table) -> Array | None:
    """`_starts` of rows sorted by profile, then path position (`_pos`); None when they are
    not: a path position not above the one before in the same profile, or a profile met
    again after another (the profiles of the runs of equal ones must be ascending)."""
    profiles = table.column("profile_id").combine_chunks()
    pos = table.column("_pos")
    size = len(profiles)
    if pos.null_count:
        return None
    starts = np.ones(size, dtype=bool)
    if size < 2:
        return starts
    same = pc.equal(profiles.slice(1), profiles.slice(0, size - 1))
    same_profile = same.to_numpy(zero_copy_only=False)
    positions = pos.to_numpy()
    if np.any(same_profile & (positions[1:] <= positions[:-1])):
        return None
    np.logical_not(same_profile, out=starts[1:])
    runs = profiles.take(np.flatnonzero(starts))
    if pc.any(pc.less_equal(runs.slice(1), runs.slice(0, len(runs) - 1))).as_py():
        return None
    return starts


def _starts(profiles: pa.Array) -> Array:
    """True at each row whose profile differs from the row before's (and at row 0)."""
    starts = np.ones(len(profiles), dtype=bool)
    if len(profiles) > 1:
        differs = pc.not_equal(profiles.slice(1), profiles.slice(0, len(profiles) - 1))
        starts[1:] = differs.to_numpy(zero_copy_only=False)
    return starts


def walk(
    starts: Array, micros: Array, step: Array, optional: Sequence[bool], window: int
) -> dict[str, Any]:
    """The chains through rows sorted by profile, then path order: `starts` (true at a
    profile's first row), `micros` (event time), `step` (1-based); `window` in microseconds."""
    segment = np.cumsum(starts, dtype=np.int32 if len(starts) < 2**31 else np.int64)
    last = _instant_ends(starts, micros)
    level = np.flatnonzero(step == 1)
    out: dict[str, Any] = {"n1": _profiles(segment[level])}
    source = (level, level)  # the rows that end a chain at the source step, and its start
    for k in range(2, len(optional) + 1):
        rows = np.flatnonzero(step == k)
        chain, chain_start = source
        if len(chain) == 0:
            rows = rows[:0]
        # Each step-k row's link: the latest chain row up to the end of its instant (row
        # numbers grow with the path), kept when in the same profile and within the window
        # of that chain's start; the chain then ends at this row, from the same start.
        reach = rows if last is None else last[rows]
        before = np.searchsorted(chain, reach, side="right") - 1
        at = np.maximum(before, 0)
        link, first = chain[at], chain_start[at]
        profile = segment[rows]
        ok = (before >= 0) & (segment[link] == profile)
        ok &= micros[rows] <= micros[first] + window
        rows, link, first, profile = rows[ok], link[ok], first[ok], profile[ok]
        # A profile's time to step k: at its first row that reached it.
        firsts = np.ones(len(rows), dtype=bool)
        np.not_equal(profile[1:], profile[:-1], out=firsts[1:])
        out[f"n{k}"] = int(firsts.sum())
        gaps = (micros[rows[firsts]] - micros[link[firsts]]) / 1e6
        quantiles = [float(q) for q in np.quantile(gaps, [0.5, 0.9])] if len(gaps) else [None] * 2
        out[f"m{k}"], out[f"q{k}"] = quantiles
        if not optional[k - 1]:
            source = (rows, first)
    return out


def _instant_ends(starts: Array, micros: Array) -> Array | None:
    """Per row, the last row of its profile's rows at the same instant (a step-k event sees
    the step before's events up to there); None when no two rows of a profile share one."""
    tie = micros[1:] == micros[:-1]
    tie &= ~starts[1:]
    if not tie.any():
        return None
    instant = np.ones(len(micros), dtype=bool)  # true where a run of one instant starts
    np.logical_not(tie, out=instant[1:])
    ends = np.flatnonzero(np.append(instant[1:], True))
    last: Array = ends[np.cumsum(instant) - 1]
    return last


def _profiles(segments: Array) -> int:
    """How many profiles among rows given by their (sorted) profile segment."""
    return int(len(segments) and 1 + np.count_nonzero(segments[1:] != segments[:-1]))
