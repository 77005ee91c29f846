"""Funnels: of the profiles that did step 1, how many went on to each next step, and how fast.

Three orders (`percorso.analytics.funnel_reach` has the exact definitions):

- `ordered` (the default): the steps in order, each step its own event, the
  last within `window` of the first; other events may come in between. The
  counts are those of ClickHouse's `windowFunnel(window)` when no event
  matches two steps (see funnel_reach for the one difference).
- `strict`: the same, but each step must be the profile's very next event.
- `unordered`: the steps within `window` of the first of them, in any order;
  row k counts the profiles that did k of the steps.

Steps are events, touchpoints or any event with a rule (`percorso.analytics.steps`).
An optional step (`?step`, ordered funnels only) need not be done for the steps after
it to count; it is reported with its own count, and the step after it converts from (and
is timed from) the required step before it.

With `by`, every profile counts in one group: the value of its *best attempt's*
first event (the latest start among the chains that got furthest) for an event
field, or its persona, stage or first-touch channel. With `trend`, profiles are
counted in the period of their first step-1 event. With `dropped_at`, the
profiles that reached the step before but not that one are listed.

Everything asked for is one query on the engine.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Self

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field, field_validator, model_validator

from percorso.analytics import breakdown, funnel_local, periods
from percorso.analytics.funnel_reach import (
    BREAKDOWN,
    FIRST,
    PROFILE,
    Order,
    reach,
    reached,
    seconds,
)
from percorso.analytics.periods import Period
from percorso.analytics.steps import Step, distinct_events
from percorso.analytics.territory import AnalysisQuery, Duration, Territory, part

MAX_STEPS = 50
MAX_WINDOW = timedelta(days=365)
OTHER = "(other)"
_NO_OPTIONAL = {
    "strict": "each step must be the very next event",
    "unordered": "its rows count how many of the steps were done",
}


class FunnelQuery(AnalysisQuery):
    """A funnel: its steps, its conversion window and order, and what else to report."""

    steps: list[Step] = Field(
        min_length=2,
        max_length=MAX_STEPS,
        description='The steps, in order: objects, or text as on the command line ("page_view", '
        '"touchpoint:form_contatti", "?newsletter_opened", "order_completed where '
        'properties.total > 50").',
    )
    window: Duration = Field(
        timedelta(days=7),
        description='Conversion window from step 1 to the last step: "7d", "12h", "30m", an ISO '
        "8601 duration or seconds; at most 365 days.",
    )
    order: Order = Field(
        "ordered",
        description="ordered: steps in order, other events allowed between; strict: each step "
        "the very next event; unordered: the steps in any order.",
    )
    by: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Break down by channel, device, source, type, event, touchpoint, phase, "
        "persona, stage, first_touch or a JSON path (properties.plan); an event field is read on "
        "the first event of the profile's best attempt.",
    )
    top: int = Field(
        20, ge=1, le=100, description="With `by`: the largest groups kept, the rest is (other)."
    )
    trend: Period | None = Field(
        None,
        description="Also report conversion per day, week or month of the profiles' first "
        "step-1 event.",
    )
    dropped_at: int | None = Field(
        None,
        ge=2,
        le=MAX_STEPS,
        description="Also list the profiles that reached the step before this one (1-based) but "
        "not this one.",
    )
    limit: int = Field(
        1000, ge=1, le=100_000, description="At most this many profiles in `dropped_profiles`."
    )

    @field_validator("steps", mode="before")
    @classmethod
    def _parse_steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [Step.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if not timedelta(0) < self.window <= MAX_WINDOW:
            raise ValueError("the window must be more than 0 and at most 365 days")
        if self.steps[0].optional:
            raise ValueError("the first step cannot be optional: a funnel starts with it")
        if self.order != "ordered" and any(step.optional for step in self.steps):
            raise ValueError(
                f'"{self.order}" funnels have no optional steps ({_NO_OPTIONAL[self.order]}): '
                'drop the "?" or use order "ordered"'
            )
        if self.order == "unordered":
            labels = [step.label for step in self.steps]
            twice = sorted({label for label in labels if labels.count(label) > 1})
            if twice:
                raise ValueError(
                    f'"{twice[0]}" is twice in an unordered funnel: list each step once'
                )
        if self.dropped_at is not None and self.dropped_at > len(self.steps):
            raise ValueError(
                f"dropped_at is {self.dropped_at} but the funnel has {len(self.steps)} steps: "
                f"give a step from 2 to {len(self.steps)}"
            )
        return self


class FunnelStep(BaseModel):
    """One step's counts. Fractions are 0..1, rounded to 4 places."""

    step: str = Field(description="The step's label.")
    optional: bool = False
    profiles: int = Field(description="Profiles that reached this step.")
    conversion_from_start: float = Field(description="profiles / profiles at step 1.")
    conversion_from_previous: float = Field(
        description="profiles / profiles at the previous required step."
    )
    dropped: int = Field(
        description="Profiles at the previous required step that did not reach this one."
    )
    median_seconds_from_previous: float | None = Field(
        None,
        description="Median seconds from the previous step, where each profile first "
        "reached this one (none for step 1).",
    )
    p90_seconds_from_previous: float | None = Field(
        None, description="90th percentile of the same seconds."
    )


class FunnelGroup(BaseModel):
    value: str = Field(description="The breakdown's value, or (other) for the smaller groups.")
    steps: list[FunnelStep]


class TrendPoint(BaseModel):
    period: date = Field(description="First day of the period of the profiles' first step-1 event.")
    entered: int = Field(description="Profiles whose first step-1 event fell in the period.")
    converted: int = Field(description="Of them, those that reached the last required step.")
    conversion: float = Field(description="converted / entered, rounded to 4 places.")


class FunnelResult(BaseModel):
    order: Order
    window_seconds: float
    steps: list[FunnelStep]
    by: str | None = None
    breakdown: list[FunnelGroup] | None = Field(
        None, description="With `by`: the steps per group, largest step 1 first."
    )
    trend: list[TrendPoint] | None = None
    dropped_at: int | None = None
    dropped_profiles: list[str] | None = Field(
        None, description="With `dropped_at`: the profiles that dropped there, by id."
    )
    dropped_truncated: bool = Field(
        False, description="More profiles dropped than `limit`: the list is cut."
    )


def run(query: FunnelQuery, territory: Territory) -> FunnelResult:
    """The funnel of `territory`'s profiles, in one query (the plain ordered funnel on an
    in-process engine: one read of the steps' events, finished by `funnel_local`)."""
    if funnel_local.applies(query, territory):
        counts = funnel_local.step_counts(query, territory)
        if not all(counts[f"n{k}"] for k in range(1, len(query.steps) + 1)):
            # Each step is an event name: one nobody did may be misspelt (checked only then,
            # a read of every event name spared in the common case).
            check(query, territory)
        return FunnelResult(
            order=query.order,
            window_seconds=query.window.total_seconds(),
            steps=_steps(query.steps, counts),
        )
    check(query, territory)
    parts = territory.parts(report(query, territory))
    overall = next(r for r in parts["steps"] if r["value"] is None)
    groups = sorted(
        (r for r in parts["steps"] if r["value"] is not None),
        key=lambda r: (r["value"] == OTHER, -r["n1"], r["value"]),
    )
    dropped = sorted(str(r[PROFILE]) for r in parts["dropped"])
    return FunnelResult(
        order=query.order,
        window_seconds=query.window.total_seconds(),
        steps=_steps(query.steps, overall),
        by=query.by,
        breakdown=None
        if query.by is None
        else [FunnelGroup(value=r["value"], steps=_steps(query.steps, r)) for r in groups],
        trend=None if query.trend is None else _trend(parts["trend"], query.trend),
        dropped_at=query.dropped_at,
        dropped_profiles=None if query.dropped_at is None else dropped[: query.limit],
        dropped_truncated=len(dropped) > query.limit,
    )


def check(query: FunnelQuery, territory: Territory) -> None:
    """Raise `AnalyticsError` for an unknown event, touchpoint, rule or breakdown."""
    for step in query.steps:
        step.check(territory)
    if query.by is not None:
        breakdown.check(query.by)


def previous_required(steps: list[Step], k: int) -> int:
    """The 1-based index of the required step before step k (k >= 2)."""
    return max(j for j in range(1, k) if not steps[j - 1].optional)


def last_required(steps: list[Step]) -> int:
    return max(j for j in range(1, len(steps) + 1) if not steps[j - 1].optional)


def report(query: FunnelQuery, territory: Territory) -> ir.Table:
    """One table with every part asked for (`part`: steps, trend, dropped), to run once."""
    by = query.by
    uses_map = any(s.touchpoint is not None for s in query.steps) or by in breakdown.MAP_LABELS
    rows = query.within(territory.labelled() if uses_map else territory.events())
    carry = (
        None if by is None or breakdown.is_profile_level(by) else breakdown.event_value(rows, by)
    )
    per = reach(
        rows,
        [step.condition(rows, territory) for step in query.steps],
        [step.optional for step in query.steps],
        query.window,
        query.order,
        carry,
        distinct_events=distinct_events(query.steps),
    )
    if by is not None and breakdown.is_profile_level(by):
        values = breakdown.profile_values(territory, by)
        joined = per.left_join(values, PROFILE)
        per = joined.drop(f"{PROFILE}_right").mutate(
            **{BREAKDOWN: joined[breakdown.COLUMN].fill_null(breakdown.NONE)}
        )
    n = len(query.steps)
    parts = [_stats(per, n, ibis.null("string"))]
    if by is not None:
        sizes = per.group_by(BREAKDOWN).aggregate(_size=per.count())
        top = sizes.order_by([sizes._size.desc(), sizes[BREAKDOWN]]).limit(query.top)
        kept = per[BREAKDOWN].isin(top[BREAKDOWN])
        grouped = per.mutate(_value=ibis.ifelse(kept, per[BREAKDOWN], OTHER))
        parts.append(_stats(grouped, n, grouped._value, grouped=True))
    blank = _blank(n)
    if query.trend is not None:
        final = reached(last_required(query.steps))
        cohort = per.mutate(number=periods.index(per[FIRST], query.trend))
        trend = cohort.group_by("number").aggregate(
            n1=cohort.count(), _converted=cohort[final].sum().cast("int64")
        )
        parts.append(part(trend, "trend", blank))
    if query.dropped_at is not None:
        k = query.dropped_at
        gone = per.filter(per[reached(previous_required(query.steps, k))] & ~per[reached(k)])
        listed = gone.select(PROFILE).order_by(PROFILE).limit(query.limit + 1)
        parts.append(part(listed, "dropped", blank))
    return ibis.union(*parts)


def _stats(table: ir.Table, n: int, value: ir.Value, grouped: bool = False) -> ir.Table:
    """Per step: profiles, median and p90 seconds (one row, or one per `_value`)."""
    metrics: dict[str, ir.Value] = {}
    for k in range(1, n + 1):
        metrics[f"n{k}"] = table[reached(k)].sum().cast("int64")
        if k > 1:
            metrics[f"m{k}"] = table[seconds(k)].quantile(0.5).cast("float64")
            metrics[f"q{k}"] = table[seconds(k)].quantile(0.9).cast("float64")
    if grouped:
        stats = table.group_by(value=value).aggregate(**metrics)
    else:
        stats = table.aggregate(**metrics).mutate(value=value)
    return part(stats, "steps", _blank(n))


def _blank(n: int) -> dict[str, ir.Value]:
    """Every column of the union, null."""
    columns: dict[str, ir.Value] = {
        "value": ibis.null("string"),
        "number": ibis.null("int64"),
        PROFILE: ibis.null("string"),
        "_converted": ibis.null("int64"),
    }
    for k in range(1, n + 1):
        columns[f"n{k}"] = ibis.null("int64")
        if k > 1:
            columns[f"m{k}"] = ibis.null("float64")
            columns[f"q{k}"] = ibis.null("float64")
    return columns


def _steps(steps: list[Step], row: dict[str, Any]) -> list[FunnelStep]:
    start = row["n1"] or 0
    out = []
    for k, step in enumerate(steps, 1):
        count = row[f"n{k}"] or 0
        before = start if k == 1 else row[f"n{previous_required(steps, k)}"] or 0
        out.append(
            FunnelStep(
                step=step.label,
                optional=step.optional,
                profiles=count,
                conversion_from_start=_ratio(count, start),
                conversion_from_previous=_ratio(count, before),
                dropped=before - count,
                median_seconds_from_previous=_round(row.get(f"m{k}")),
                p90_seconds_from_previous=_round(row.get(f"q{k}")),
            )
        )
    return out


def _trend(rows: list[dict[str, Any]], period: Period) -> list[TrendPoint]:
    return [
        TrendPoint(
            period=periods.start(r["number"], period),
            entered=r["n1"],
            converted=r["_converted"],
            conversion=_ratio(r["_converted"], r["n1"]),
        )
        for r in sorted(rows, key=lambda r: r["number"])
    ]


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
