"""The plain ordered funnel, finished in this process on the steps' events in path order.

When the engine runs in this process (the embedded DuckDB: `Engine.in_process`)
and the funnel is the common one (ordered, each step its own event name, no
breakdown, trend or drop-out list), the engine only sorts the steps' events
by profile and kept path position (`profile_events.pos`, kept by the identity
resolver) and hands over three columns; numpy walks the chains in a few
vectorised passes, with no join on the engine. Every other funnel is the
engine's query (`percorso.analytics.funnel_reach`).

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
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from percorso.analytics.steps import Step
from percorso.analytics.territory import Territory

Array = npt.NDArray[Any]


def applies(steps: Sequence[Step], order: str, territory: Territory, plain: bool) -> bool:
    """Whether this path answers: an in-process engine, an ordered funnel of distinct event
    names, and `plain` (no breakdown, trend or drop-out list asked for)."""
    names = [s.event for s in steps if s.touchpoint is None and s.where is None]
    return (
        plain
        and order == "ordered"
        and getattr(territory.engine, "in_process", False)
        and len(names) == len(steps)
        and len(set(names)) == len(names)
    )


def step_counts(
    steps: Sequence[Step],
    window: timedelta,
    territory: Territory,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """Per step k: `n{k}` profiles, and for k > 1 the median `m{k}` and 90th percentile
    `q{k}` of the seconds from the step before (as `funnels.report`'s steps part)."""
    names = [str(s.event) for s in steps]
    rows = territory.events(extra=("pos",))
    if since is not None:
        rows = rows.filter(rows.ts >= since)
    if until is not None:
        rows = rows.filter(rows.ts <= until)
    rows = rows.filter(rows.event.isin(names))
    step = ibis.cases(*[(rows.event == name, k) for k, name in enumerate(names, 1)])
    ordered = rows.select("profile_id", "ts", _k=step.cast("int8"), _pos=rows.pos)
    table = territory.engine.to_arrow(ordered.order_by(["profile_id", "_pos"]))
    profiles = table.column("profile_id").combine_chunks()
    return walk(
        _starts(profiles),
        table.column("ts").cast(pa.int64()).to_numpy(),
        table.column("_k").to_numpy(),
        [s.optional for s in steps],
        window // timedelta(microseconds=1),
    )


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
    segment = np.cumsum(starts) - 1
    # The last row of each run of one profile's rows at one instant: a step-k event sees the
    # step before's events up to there.
    instant = starts.copy()
    instant[1:] |= micros[1:] != micros[:-1]
    ends = np.flatnonzero(np.append(instant[1:], True))
    run = np.cumsum(instant) - 1

    level = np.flatnonzero(step == 1)
    out: dict[str, Any] = {"n1": _profiles(segment[level])}
    source = (level, level)  # the rows that end a chain at the source step, and its start
    for k in range(2, len(optional) + 1):
        rows = np.flatnonzero(step == k)
        chain, chain_start = source
        if len(chain) == 0:
            rows = rows[:0]
        before = np.searchsorted(chain, ends[run[rows]], side="right") - 1
        at = np.maximum(before, 0)
        link, first = chain[at], chain_start[at]
        ok = (before >= 0) & (segment[link] == segment[rows])
        ok &= micros[rows] <= micros[first] + window
        rows, link, first = rows[ok], link[ok], first[ok]
        firsts = np.ones(len(rows), dtype=bool)
        np.not_equal(segment[rows][1:], segment[rows][:-1], out=firsts[1:])
        out[f"n{k}"] = int(firsts.sum())
        gaps = (micros[rows[firsts]] - micros[link[firsts]]) / 1e6
        quantiles = [float(q) for q in np.quantile(gaps, [0.5, 0.9])] if len(gaps) else [None] * 2
        out[f"m{k}"], out[f"q{k}"] = quantiles
        if not optional[k - 1]:
            source = (rows, first)
    return out


def _profiles(segments: Array) -> int:
    """How many profiles among rows given by their (sorted) profile segment."""
    return int(len(segments) and 1 + np.count_nonzero(segments[1:] != segments[:-1]))
