"""KPIs: the library's KPIs (`kpi_library.py`) on the query's period, overall and per group.

Every KPI is counted over its units (sessions, sends, answers, tickets,
customers...) and can be split:

- `period`: by the period each unit falls in (a session's start, an answer's
  time; retention by the later of the two periods it compares);
- `persona`: by the profile's persona at the as-of moment;
- `touchpoint` / `phase`: by the people who touched it (reached it) in the
  period: the NPS of the people who used the web shop, the open rate of the
  people who came to the catalogue. A person counts in every touchpoint they
  touched, so the groups overlap; people who touched none are `(none)`. Bounce
  rate is split by where each session landed instead.

A KPI that cannot be split a way says why (`groups_note`) instead of a
made-up figure. Every KPI and group is one branch of one query.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field

from percorso.analytics import periods
from percorso.analytics.breakdown import NONE
from percorso.analytics.kpi_library import BY_ID, KPIS, Kpi, Split, Unit
from percorso.analytics.kpi_units import Frame, Touch
from percorso.analytics.periods import Period
from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Territory
from percorso.errors import did_you_mean
from percorso.journey.touches import label_touchpoints
from percorso.journey.views import Bilingual

By = Literal["phase", "touchpoint", "persona", "period"]


class KpiQuery(AnalysisQuery):
    """Which KPIs, over the query's period, split which way."""

    kpis: list[str] | None = Field(
        None,
        min_length=1,
        max_length=len(KPIS),
        description="KPI ids (see docs/kpis.md); none = all of them",
    )
    by: By | None = Field(
        None, description="Split each KPI by phase, touchpoint, persona or period"
    )
    period: Period = Field(
        "month",
        description="Calendar period of the split by period, and the period retention and "
        "churn compare (day, week or month)",
    )


class KpiGroup(BaseModel):
    group: str = Field(
        description='The phase, touchpoint or persona id, or the period\'s first day; "(none)"'
    )
    value: float | None
    numerator: float
    denominator: float


class KpiMeasure(BaseModel):
    """One KPI as measured: value = scale × numerator / denominator (null when nothing to count)."""

    id: str
    label: Bilingual
    unit: Unit = Field(
        description="share (0-1), percent (0-100), nps (-100..100), score, minutes, currency"
    )
    value: float | None
    numerator: float
    denominator: float
    note: str | None = Field(None, description="Why the value is null")
    groups: list[KpiGroup] | None = Field(
        None, description="Per group, with `by`; null when the KPI cannot be split that way"
    )
    groups_note: str | None = Field(None, description="Why the KPI is not split")


class KpiResult(BaseModel):
    by: By | None
    period: Period
    kpis: list[KpiMeasure]


def run(query: KpiQuery, territory: Territory) -> KpiResult:
    chosen = choose(query.kpis)
    sources = _Sources(territory)
    parts = [part for kpi in chosen for part in _measured(kpi, query, sources)]
    rows = territory.rows(ibis.union(*parts))
    overall: dict[str, dict[str, Any]] = {}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["split"]:
            grouped.setdefault(row["kpi"], []).append(row)
        else:
            overall[row["kpi"]] = row
    order = _group_order(query, territory)
    return KpiResult(
        by=query.by,
        period=query.period,
        kpis=[
            _measure(kpi, overall.get(kpi.id), grouped.get(kpi.id, []), query, order)
            for kpi in chosen
        ],
    )


def choose(ids: list[str] | None) -> list[Kpi]:
    """The KPIs asked for, in the order asked (each once), or all of them."""
    if ids is None:
        return list(KPIS)
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise AnalyticsError(
            f'"{unknown[0]}" is not a KPI{did_you_mean(unknown[0], BY_ID)} '
            f"(KPIs: {', '.join(BY_ID)})"
        )
    return [BY_ID[i] for i in dict.fromkeys(ids)]


class _Sources:
    """The tables every KPI reads, built once per query so that the engine sees one
    expression for each (and Ibis writes it once, as a common table)."""

    def __init__(self, territory: Territory) -> None:
        self.territory = territory

    @cached_property
    def events(self) -> ir.Table:
        return self.territory.events()

    @cached_property
    def labelled(self) -> ir.Table:
        return label_touchpoints(self.events, self.territory.journey_map)

    @cached_property
    def personas(self) -> ir.Table:
        current = self.territory.personas()
        return current.select("profile_id", group_value=current.persona)

    def people(self, by: Split) -> ir.Table:
        """profile_id, group_value: each profile's persona, or every touchpoint (phase) it
        touched in the period (one row each)."""
        if by == "persona":
            return self.personas
        touched = self.labelled.filter(self.labelled[by].notnull())
        return touched.select("profile_id", group_value=touched[by]).distinct()


def _measured(kpi: Kpi, query: KpiQuery, sources: _Sources) -> list[ir.Table]:
    """kpi, split, group, num, den: the KPI's sums overall and, with a split it allows, per
    group (from the same units, but for periods)."""
    by = query.by if query.by is not None and query.by not in kpi.cannot_split else None
    touch: Touch | None = by if by in ("touchpoint", "phase") and kpi.touch == "own" else None
    frame = Frame(
        territory=sources.territory,
        events=sources.events if touch is None else sources.labelled,
        period=query.period,
        by_period=by == "period",
        touch=touch,
    )
    units = kpi.build(frame)
    if by == "period":
        # A unit may be per profile and period (conversion): overall it is per profile.
        whole = kpi.build(replace(frame, by_period=False))
        by_period = _sums(kpi, units, units.bucket.cast("string"), split=True)
        return [_sums(kpi, whole, ibis.null("string"), split=False), by_period]
    overall = _sums(kpi, units, ibis.null("string"), split=False)
    if by is None:
        return [overall]
    if touch is not None:
        return [overall, _sums(kpi, units, units.touch, split=True)]
    joined = units.left_join(sources.people(by), "profile_id")
    return [overall, _sums(kpi, joined, joined.group_value.fill_null(NONE), split=True)]


def _sums(kpi: Kpi, units: ir.Table, group: ir.StringValue, *, split: bool) -> ir.Table:
    sums = (
        units.mutate(group=group)
        .group_by("group")
        .aggregate(num=ibis._.num.sum(), den=ibis._.den.sum())
    )
    return sums.mutate(kpi=ibis.literal(kpi.id), split=ibis.literal(split)).select(
        "kpi", "split", "group", "num", "den"
    )


def _group_order(query: KpiQuery, territory: Territory) -> dict[str, int]:
    """The map's order of phases, touchpoints and personas (groups not in it go last)."""
    journey_map = territory.journey_map
    ids: list[str] = []
    if query.by == "phase":
        ids = [p.id for p in journey_map.phases]
    elif query.by == "touchpoint":
        ids = [tp.id for tp in journey_map.touchpoints]
    elif query.by == "persona":
        ids = [p.id for p in journey_map.personas]
    return {group: n for n, group in enumerate(ids)}


def _ratio(kpi: Kpi, num: float, den: float) -> float | None:
    return round(kpi.scale * num / den, 4) if den else None


def _measure(
    kpi: Kpi,
    row: dict[str, Any] | None,
    group_rows: list[dict[str, Any]],
    query: KpiQuery,
    order: dict[str, int],
) -> KpiMeasure:
    num = float(row["num"] or 0) if row else 0.0
    den = float(row["den"] or 0) if row else 0.0
    value = _ratio(kpi, num, den)
    groups: list[KpiGroup] | None = None
    groups_note = None
    if query.by is not None:
        groups_note = kpi.cannot_split.get(query.by)
        if groups_note is None:
            groups = [_group(kpi, r, query) for r in group_rows]
            groups.sort(key=lambda g: _sort_key(g.group, order))
    return KpiMeasure(
        id=kpi.id,
        label=kpi.label,
        unit=kpi.unit,
        value=value,
        numerator=round(num, 4),
        denominator=round(den, 4),
        note=None if value is not None else f"no {kpi.per} in the period",
        groups=groups,
        groups_note=groups_note,
    )


def _group(kpi: Kpi, row: dict[str, Any], query: KpiQuery) -> KpiGroup:
    num = float(row["num"] or 0)
    den = float(row["den"] or 0)
    group = str(row["group"])
    if query.by == "period":
        group = periods.start(int(group), query.period).isoformat()
    return KpiGroup(
        group=group, value=_ratio(kpi, num, den), numerator=round(num, 4), denominator=round(den, 4)
    )


def _sort_key(group: str, order: dict[str, int]) -> tuple[int, str]:
    """The map's order, then by name (periods: by date), "(none)" last."""
    if group == NONE:
        return (len(order) + 1, group)
    return (order.get(group, len(order)), group)
