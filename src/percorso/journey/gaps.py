"""Integration gaps: for each data flow of the map, how many people make it across.

A flow `from: forms, to: crm` should carry everyone who filled in a form into
the CRM. Its *population* is, by default, every profile with an event from
the first system, and it is *reached* for those that also have an event from
the second; either can be replaced by a profile rule (`population:
ever(touchpoint("landing_form"))`, `reached: identified()`). Coverage is
reached / population; what is missing is the critical passage the seeds talk
about: subscribers the CRM never hears of, customers the ERP bills but the
CRM does not know.
"""

from __future__ import annotations

from datetime import datetime

import ibis
from pydantic import BaseModel

from percorso.journey.compile import EventCompiler, ProfileCompiler
from percorso.journey.model import JourneyMap
from percorso.journey.nodes import Predicate
from percorso.journey.predicates import parse
from percorso.journey.ticks import at_as_of, profile_events, ticks
from percorso.journey.views import Bilingual, FlowView, IntegrationView, SystemNode
from percorso.warehouse.engine import Engine


class GapsReport(BaseModel):
    """`percorso gaps integrations`: every flow with its coverage, worst first."""

    as_of: datetime
    map_name: str
    map_version: int | None
    systems: list[SystemNode]
    flows: list[FlowView]

    def view(self) -> IntegrationView:
        return IntegrationView(
            title=self.map_name,
            as_of=self.as_of,
            map_version=self.map_version,
            systems=self.systems,
            flows=self.flows,
        )


def _flow_rules(journey_map: JourneyMap) -> list[tuple[Predicate, Predicate]]:
    """Each flow's population and reached rules; by default, anyone with an event from the system."""
    systems = journey_map.system_rules
    return [
        (
            parse(flow.population, "profile") if flow.population else systems[flow.source].ever(),
            parse(flow.reached, "profile") if flow.reached else systems[flow.target].ever(),
        )
        for flow in journey_map.integrations
    ]


def integration_gaps(
    warehouse: Engine,
    journey_map: JourneyMap,
    as_of: datetime,
    *,
    map_version: int | None = None,
) -> GapsReport:
    events = profile_events(warehouse.ibis, as_of)
    rules = _flow_rules(journey_map)
    windows = {w for pair in rules for rule in pair for w in rule.windows}
    t = ticks(events, windows, as_of)
    compiler = ProfileCompiler(t, journey_map.touchpoint_rules)
    flags = {}
    for index, (population, reached) in enumerate(rules):
        flags[f"p{index}"] = compiler.condition(population.node)
        flags[f"r{index}"] = compiler.condition(reached.node)
    evaluated = t.select("profile_id", "ts", "_real", **flags)
    at_end = at_as_of(evaluated, as_of)
    # First event of each system per profile, for the time a flow takes.
    systems = EventCompiler(events, journey_map.touchpoint_rules)
    firsts = events.group_by("profile_id").aggregate(
        **{
            f"s_{sid}": ibis.ifelse(systems.condition(rule.node), events.ts, ibis.null()).min()
            for sid, rule in journey_map.system_rules.items()
        }
    )
    joined = at_end.join(firsts, "profile_id")
    aggregates = {}
    for sid in journey_map.system_rules:
        aggregates[f"n_{sid}"] = joined[f"s_{sid}"].notnull().sum()
    for index, flow in enumerate(journey_map.integrations):
        population, reached = joined[f"p{index}"], joined[f"r{index}"]
        aggregates[f"pop{index}"] = population.sum()
        aggregates[f"hit{index}"] = (population & reached).sum()
        start, end = joined[f"s_{flow.source}"], joined[f"s_{flow.target}"]
        hours = (end.epoch_seconds() - start.epoch_seconds()) / 3600.0
        timed = population & reached & start.notnull() & end.notnull() & (end >= start)
        aggregates[f"h{index}"] = ibis.ifelse(timed, hours, ibis.null()).quantile(0.5)
    row = warehouse.to_arrow(joined.aggregate(**aggregates)).to_pylist()[0]
    system_nodes = [
        SystemNode(id=s.id, label=s.label, profiles=int(row[f"n_{s.id}"] or 0))
        for s in journey_map.systems
    ]
    flows = []
    for index, flow in enumerate(journey_map.integrations):
        population_n = int(row[f"pop{index}"] or 0)
        reached_n = int(row[f"hit{index}"] or 0)
        hours = row[f"h{index}"]
        flows.append(
            FlowView(
                source=flow.source,
                target=flow.target,
                label=flow.label or _default_label(journey_map, flow.source, flow.target),
                population=population_n,
                reached=reached_n,
                coverage=reached_n / population_n if population_n else None,
                median_hours_to_reach=None if hours is None else round(float(hours), 1),
            )
        )
    return GapsReport(
        as_of=as_of,
        map_name=journey_map.name,
        map_version=map_version,
        systems=system_nodes,
        flows=flows,
    )


def _default_label(journey_map: JourneyMap, source: str, target: str) -> Bilingual:
    labels = {s.id: s.label for s in journey_map.systems}
    return Bilingual(
        it=f"{labels[source].it} → {labels[target].it}",
        en=f"{labels[source].en} → {labels[target].en}",
    )
