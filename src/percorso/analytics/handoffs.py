"""Hand-off gaps: where a journey crosses from one channel, device or department to another,
how many people go on after the crossing, compared with those who did not cross.

A profile's journey is read as *steps*: at the `touchpoint` level its touches
(events that are a touchpoint of the map), at the `event` level all its
events, in time order (ties broken by `seq`). Each step has a value of `by`:

- `channel`: at the touchpoint level the touchpoint's channel on the map (a
  social ad is `social`, an agent's order `in_person`); at the event level
  the event's own channel (note that a visit's later pages are `direct`);
- `device`: the event's device (a step with none, an ERP invoice, is left
  out of the pairs but still counts as the journey going on);
- `department`: the touchpoint's department on the map (touchpoint level only).

Consecutive events of the same touchpoint (or event name) and value are one
step. Two consecutive steps with different values are a *hand-off* (social ->
direct, mobile -> desktop, marketing -> sales); with the same value, a
*stay* (direct -> direct: the catalogue, then the cart).

After a hand-off or a stay the journey *continues* when anything (any touch,
or any event at the event level) follows the arriving step within `window`.
Only crossings whose arriving step ended at least `window` before the as-of
moment are judged, so the last weeks of data do not look like losses. Each
profile counts once per (from, to) pair: its first judged crossing.

For a hand-off X -> Y: `profiles` crossed; `continued_share` went on; the
*baseline* is the share that went on after a stay X -> X (the stays of every
value, when X has none); `lost` = profiles x (baseline - continued), at
least 0: the people the crossing cost compared with not crossing. Time:
the median hours from the last event on X to the first on Y, against the
same for stays. Those who did not go on `went` to the value of their next
step (after more than `window`) or to "(nothing)". Hand-offs rank by `lost`.

`stops` are where journeys stop: per value, the profiles with a judged step
on it and those after whose step nothing came within `window` (the journey
ended there, or paused for longer). Designed drop-offs that happen *before*
a crossing (a mobile visitor who gives up on the form) show here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field

from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Duration, Territory

By = Literal["channel", "device", "department"]
Level = Literal["event", "touchpoint"]
NOTHING = "(nothing)"
WENT = 3  # destinations listed per hand-off


class HandoffQuery(AnalysisQuery):
    """Which crossings to read, and how long a journey may pause and still count as going on."""

    by: By = Field(default="channel", description="What a crossing changes.")
    level: Level = Field(
        default="touchpoint",
        description="Read the touches of the map (channel and department as the map designs "
        "them) or every event (channel and device as the events carry them).",
    )
    window: Duration = Field(
        default=timedelta(days=30),
        ge=timedelta(minutes=1),
        le=timedelta(days=3650),
        description="After a crossing, the journey goes on if anything follows within this.",
    )
    top: int = Field(default=20, ge=1, le=500, description="How many hand-offs to list.")


class Destination(BaseModel):
    value: str
    profiles: int


class Handoff(BaseModel):
    """One crossing X -> Y and what it cost, against staying on X."""

    source: str
    target: str
    profiles: int = Field(description="Profiles that crossed (first judged crossing each).")
    continued: int
    continued_share: float
    baseline_share: float | None = Field(description="Share that went on after a stay X -> X.")
    baseline_scope: Literal["source", "all"] = Field(
        description="'source': stays on X; 'all': every stay (X has none)."
    )
    lost: float = Field(description="profiles x (baseline - continued), at least 0.")
    median_hours: float | None = Field(description="From the last event on X to the first on Y.")
    baseline_median_hours: float | None
    went: list[Destination] = Field(description="Where those who did not go on went next.")


class Stay(BaseModel):
    """Staying on one value: the baseline of its hand-offs."""

    value: str
    profiles: int
    continued_share: float
    median_hours: float | None


class Stop(BaseModel):
    value: str
    profiles: int = Field(description="Profiles with a judged step on it.")
    stopped: int = Field(description="Of those, profiles after whose step nothing followed.")
    share: float


class HandoffResult(BaseModel):
    """`percorso gaps handoffs`: crossings ranked by the customers they lose."""

    by: By
    level: Level
    window_days: float
    judged_until: datetime = Field(
        description="as-of minus window: crossings whose arriving step ends later are not judged."
    )
    handoffs: list[Handoff]
    stays: list[Stay]
    stops: list[Stop]


def _check(query: HandoffQuery, territory: Territory) -> None:
    if query.by == "department" and query.level == "event":
        raise AnalyticsError(
            "departments belong to the map's touchpoints, not to events: "
            'use the touchpoint level (level "touchpoint", the default)'
        )
    if query.level == "touchpoint" and not territory.journey_map.touchpoints:
        raise AnalyticsError(
            "the journey map declares no touchpoints: add some, or read hand-offs at the "
            "event level"
        )


def _rows(query: HandoffQuery, territory: Territory) -> ir.Table:
    """profile_id, ts, seq, what (touchpoint or event name), value, next_at (the time of the
    profile's next row of any value)."""
    journey_map = territory.journey_map
    if query.level == "touchpoint":
        labelled = territory.labelled()
        table = labelled.filter(labelled.touchpoint.notnull())
        what = table.touchpoint
        if query.by == "device":
            value = table.device
        else:
            of = {tp.id: str(getattr(tp, query.by)) for tp in journey_map.touchpoints}
            value = table.touchpoint.substitute(of, else_=ibis.null("string"))
    else:
        table = territory.events()
        what = table.event.fill_null(table.type)
        value = table[query.by]
    order = ibis.window(group_by=table.profile_id, order_by=[table.ts, table.seq])
    rows = table.select(
        "profile_id", "ts", "seq", what=what, value=value.cast("string"),
        next_at=table.ts.lead().over(order),
    )  # fmt: skip
    return rows.filter(rows.value.notnull())


def _ends(rows: ir.Table) -> ir.Table:
    """One row per step, at its last event: the value, when it ended and what came next
    (`to_*`: the next step; `after_value`: the value of the step after that)."""
    order = ibis.window(group_by=rows.profile_id, order_by=[rows.ts, rows.seq])
    marked = rows.mutate(
        following_what=rows.what.lead().over(order),
        following_value=rows.value.lead().over(order),
        following_at=rows.ts.lead().over(order),
    )
    ends = marked.filter(
        marked.following_what.isnull()
        | (marked.following_what != marked.what)
        | (marked.following_value != marked.value)
    )
    order = ibis.window(group_by=ends.profile_id, order_by=[ends.ts, ends.seq])
    return ends.mutate(
        to_value=ends.following_value,
        to_started=ends.following_at,
        to_ended=ends.ts.lead().over(order),
        to_next=ends.next_at.lead().over(order),
        after_value=ends.following_value.lead().over(order),
    )


def _seconds(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.NumericValue:
    return later.epoch_seconds() - earlier.epoch_seconds()


def _crossings(ends: ir.Table, query: HandoffQuery, judged_until: datetime) -> ir.Table:
    """Each profile's first judged crossing per (source, target), continued or not."""
    window = query.window.total_seconds()
    pairs = ends.filter(ends.to_value.notnull() & (ends.to_ended <= judged_until))
    pairs = pairs.select(
        "profile_id", "seq",
        source=pairs.value, target=pairs.to_value, at=pairs.ts,
        hours=_seconds(pairs.to_started, pairs.ts) / 3600.0,
        continued=(pairs.to_next.notnull() & (_seconds(pairs.to_next, pairs.to_ended) <= window)),
        went=pairs.after_value.fill_null(NOTHING),
    )  # fmt: skip
    order = ibis.window(
        group_by=[pairs.profile_id, pairs.source, pairs.target], order_by=[pairs.at, pairs.seq]
    )
    ranked = pairs.mutate(n=ibis.row_number().over(order))
    return ranked.filter(ranked.n == 0)


def _stops(ends: ir.Table, query: HandoffQuery, judged_until: datetime) -> ir.Table:
    window = query.window.total_seconds()
    judged = ends.filter(ends.ts <= judged_until)
    stopped = judged.next_at.isnull() | (_seconds(judged.next_at, judged.ts) > window)
    return judged.group_by("value").aggregate(
        profiles=judged.profile_id.nunique(),
        stopped=judged.profile_id.nunique(where=stopped),
    )


def _summary(crossings: ir.Table) -> ir.Table:
    """Per (source, target): profiles, continued, median hours; and where the others went,
    as rows with `went` set (one per destination)."""
    pairs = crossings.group_by(["source", "target"]).aggregate(
        profiles=crossings.count(),
        continued=crossings.continued.cast("int64").sum(),
        median_hours=crossings.hours.quantile(0.5),
    )
    pairs = pairs.mutate(went=ibis.null("string"))
    lost = crossings.filter(~crossings.continued & (crossings.source != crossings.target))
    went = lost.group_by(["source", "target", "went"]).aggregate(profiles=lost.count())
    went = went.mutate(
        continued=ibis.literal(0, "int64"), median_hours=ibis.null("float64")
    ).select(pairs.columns)
    return ibis.union(pairs, went)


def run(query: HandoffQuery, territory: Territory) -> HandoffResult:
    """The hand-offs of `territory`'s journeys, ranked by the customers they lose."""
    _check(query, territory)
    judged_until = territory.as_of - query.window
    ends = _ends(_rows(query, territory))
    summary = territory.rows(_summary(_crossings(ends, query, judged_until)))
    stops = territory.rows(_stops(ends, query, judged_until))

    pairs = [r for r in summary if r["went"] is None]
    went: dict[tuple[str, str], list[Destination]] = {}
    for r in sorted(summary, key=lambda r: (-int(r["profiles"]), str(r["went"]))):
        if r["went"] is not None:
            went.setdefault((r["source"], r["target"]), []).append(
                Destination(value=r["went"], profiles=int(r["profiles"]))
            )
    rates: dict[str, tuple[int, int]] = {}  # value -> (profiles, continued) of its stays
    stays: dict[str, Stay] = {}
    for r in pairs:
        if r["source"] == r["target"]:
            n, k = int(r["profiles"]), int(r["continued"])
            rates[r["source"]] = (n, k)
            stays[r["source"]] = Stay(
                value=r["source"],
                profiles=n,
                continued_share=round(k / n, 4),
                median_hours=_hours(r["median_hours"]),
            )
    total = sum(n for n, _ in rates.values())
    pooled = sum(k for _, k in rates.values()) / total if total else None
    handoffs = [
        _handoff(r, rates.get(r["source"]), pooled, stays, went.get((r["source"], r["target"]), []))
        for r in pairs
        if r["source"] != r["target"]
    ]
    handoffs.sort(key=lambda h: (-h.lost, -h.profiles, h.source, h.target))
    return HandoffResult(
        by=query.by,
        level=query.level,
        window_days=round(query.window.total_seconds() / 86400, 4),
        judged_until=judged_until,
        handoffs=handoffs[: query.top],
        stays=sorted(stays.values(), key=lambda s: (-s.profiles, s.value)),
        stops=sorted(
            (
                Stop(
                    value=r["value"],
                    profiles=int(r["profiles"]),
                    stopped=int(r["stopped"]),
                    share=round(int(r["stopped"]) / int(r["profiles"]), 4),
                )
                for r in stops
            ),
            key=lambda s: (-s.stopped, s.value),
        ),
    )


def _hours(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _handoff(
    row: dict[str, Any],
    rate: tuple[int, int] | None,
    pooled: float | None,
    stays: dict[str, Stay],
    went: list[Destination],
) -> Handoff:
    profiles, continued = int(row["profiles"]), int(row["continued"])
    share = continued / profiles
    baseline = rate[1] / rate[0] if rate is not None else pooled
    stay = stays.get(row["source"])
    return Handoff(
        source=row["source"],
        target=row["target"],
        profiles=profiles,
        continued=continued,
        continued_share=round(share, 4),
        baseline_share=None if baseline is None else round(baseline, 4),
        baseline_scope="source" if rate is not None else "all",
        lost=0.0 if baseline is None else round(max(0.0, profiles * (baseline - share)), 1),
        median_hours=_hours(row["median_hours"]),
        baseline_median_hours=None if stay is None else stay.median_hours,
        went=went[:WENT],
    )
