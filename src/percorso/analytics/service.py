"""Every analysis by name, and the service the CLI, the API and the dashboard call.

An `Analysis` ties a name to its typed query, its typed result and its one
runner. `AnalyticsService.run` brings identity up to date, builds the
`Territory` (engine, map, period) and calls the runner: the same JSON whoever
asks. The CLI sends its query and map to a running server
(`/internal/analytics/{name}`), so both meet whichever process owns the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from percorso.analytics import attribution, cohorts, funnels, handoffs, kpis, mining, paths
from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Territory
from percorso.errors import did_you_mean
from percorso.journey.lifecycle import now
from percorso.journey.service import MapSource
from percorso.warehouse.engine import Engine


class Refreshable(Protocol):
    def refresh(self) -> object: ...


@dataclass(frozen=True)
class Analysis:
    """One kind of analysis: its query and result models and its runner."""

    name: str
    summary: str
    query: type[AnalysisQuery]
    result: type[BaseModel]
    run: Callable[[Any, Territory], BaseModel]


def _registry() -> Mapping[str, Analysis]:
    entries: list[Analysis] = [
        Analysis(
            "funnel",
            "Funnels: profiles through steps within a conversion window (ordered as ClickHouse's "
            "windowFunnel, strict or unordered), conversion and time per step, breakdowns, "
            "the trend over time and who dropped where.",
            funnels.FunnelQuery,
            funnels.FunnelResult,
            funnels.run,
        ),
        Analysis(
            "retention",
            "Cohorts and retention: cohorts by first-seen period (or a step), period = day, "
            "week or month, retention and churn per period, and the lifecycle (new, returning, "
            "resurrecting, dormant).",
            cohorts.RetentionQuery,
            cohorts.RetentionResult,
            cohorts.run,
        ),
        Analysis(
            "kpis",
            "KPIs, each defined once with its formula (docs/kpis.md): bounce rate, conversion, "
            "email open rate and CTR, NPS, CSAT, CES, retention, churn, repeat purchase, "
            "support resolution and response time, historical CLV; per phase, touchpoint, "
            "persona or period.",
            kpis.KpiQuery,
            kpis.KpiResult,
            kpis.run,
        ),
        Analysis(
            "mine",
            "Mined journeys against the map: the journey discovered at touchpoint or phase "
            "level, the share of journeys that fit the designed moves, undesigned transitions, "
            "unused touchpoints and skipped phases, per persona.",
            mining.MineQuery,
            mining.MineResult,
            mining.run,
        ),
        Analysis(
            "handoffs",
            "Hand-off gaps: crossings of channel, device or department, the share that goes on "
            "against staying, the time lost and where the lost went, ranked by people lost.",
            handoffs.HandoffQuery,
            handoffs.HandoffResult,
            handoffs.run,
        ),
        Analysis(
            "paths",
            "Paths: the directly-follows graph of events, touchpoints or phases (count, "
            "median and p90 time per edge), start and end nodes, the commonest whole paths "
            "and a Sankey diagram by step.",
            paths.PathQuery,
            paths.PathResult,
            paths.run,
        ),
        Analysis(
            "attribution",
            "Attribution: which channels or touchpoints earn the credit for a conversion "
            "(first/last touch, linear, time decay, position based, Markov removal effect).",
            attribution.AttributionQuery,
            attribution.AttributionResult,
            attribution.run,
        ),
    ]
    return {a.name: a for a in entries}


ANALYSES: Mapping[str, Analysis] = _registry()


def analysis(name: str) -> Analysis:
    found = ANALYSES.get(name)
    if found is None:
        raise AnalyticsError(
            f'"{name}" is not an analysis{did_you_mean(name, ANALYSES)} ({", ".join(ANALYSES)})'
        )
    return found


class AnalyticsRequest(BaseModel):
    """What the CLI sends a running server: the map it was given and the query (as JSON)."""

    source: MapSource
    query: dict[str, Any]


class AnalyticsService:
    """Runs analyses on an engine; identity is brought up to date first (when it can be)."""

    def __init__(self, engine: Engine, profiles: Refreshable | None = None) -> None:
        self.engine = engine
        self.profiles = profiles

    def territory(self, query: AnalysisQuery, source: MapSource) -> Territory:
        journey_map = source.load()
        if self.profiles is not None:
            self.profiles.refresh()
        return Territory(self.engine, journey_map, query.until or now(), query.since)

    def run(self, name: str, query: AnalysisQuery, source: MapSource) -> BaseModel:
        found = analysis(name)
        if not isinstance(query, found.query):
            query = found.query.model_validate(query.model_dump())
        return found.run(query, self.territory(query, source))
