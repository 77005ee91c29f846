"""Fill the drawn map with what customers did: the `MapView` a renderer draws.

Per touchpoint: events, profiles, and the NPS of the people who touched it.
Per phase: profiles that reached it, the share that went on, the median time
before they did, and the KPIs the map asks for. Pain points are the worst
drop-offs: the phases that lose the most people, and the touchpoints where
the most journeys stop (the last touch of people who never went on).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from percorso.journey.compile import json_value
from percorso.journey.lifecycle import Lifecycle
from percorso.journey.model import JourneyMap
from percorso.journey.ticks import profile_events
from percorso.journey.touches import phase_reach, touches
from percorso.journey.views import (
    Bilingual,
    KpiValue,
    MapView,
    PainPoint,
    PhaseColumn,
    TouchpointCell,
)
from percorso.warehouse.engine import Engine

PAIN_PHASES = 2
PAIN_TOUCHPOINTS = 3
KPI_LABELS = {
    "profiles": Bilingual(it="Persone", en="People"),
    "events": Bilingual(it="Eventi", en="Events"),
    "conversion_to_next_phase": Bilingual(it="Passa alla fase dopo", en="Go on to the next phase"),
    "time_in_phase": Bilingual(it="Giorni nella fase (mediana)", en="Days in phase (median)"),
}
KPI_UNITS = {
    "profiles": "profiles",
    "events": "events",
    "conversion_to_next_phase": "share",
    "time_in_phase": "days",
}


@dataclass(frozen=True)
class PhaseStats:
    """A phase as measured: who reached it, who went on, in how many days."""

    profiles: int = 0
    went_on: int = 0
    median_days: float | None = None

    @property
    def lost(self) -> int:
        return self.profiles - self.went_on

    @property
    def conversion(self) -> float | None:
        return self.went_on / self.profiles if self.profiles else None

    @property
    def days(self) -> float | None:
        return None if self.median_days is None else round(self.median_days, 1)


@dataclass(frozen=True)
class TouchStats:
    events: int = 0
    profiles: int = 0


NOTHING = PhaseStats()
UNTOUCHED = TouchStats()


def _rows(warehouse: Engine, table: ir.Table) -> list[dict[str, Any]]:
    return warehouse.to_arrow(table).to_pylist()  # type: ignore[no-any-return]


def measure_map(
    warehouse: Engine,
    journey_map: JourneyMap,
    as_of: datetime,
    *,
    persona: str | None = None,
    map_version: int | None = None,
) -> MapView:
    """The map for one persona (or everyone), measured as of `as_of`."""
    touched = touches(warehouse, journey_map, as_of)
    if persona is not None:
        members = Lifecycle(warehouse, journey_map, as_of).current()
        members = members.filter(members.persona == persona).select("profile_id")
        touched = touched.semi_join(members, "profile_id")
    per_touchpoint = {
        str(r["touchpoint"]): TouchStats(events=int(r["events"]), profiles=int(r["profiles"]))
        for r in _rows(
            warehouse,
            touched.group_by("touchpoint").aggregate(
                events=touched.count(), profiles=touched.profile_id.nunique()
            ),
        )
    }
    nps = _nps_by_touchpoint(warehouse, touched, profile_events(warehouse.ibis, as_of))
    reach = phase_reach(touched)
    days = (reach.went_on_at.epoch_seconds() - reach.reached_at.epoch_seconds()) / 86400.0
    per_phase = {
        str(r["phase"]): PhaseStats(
            profiles=int(r["profiles"]),
            went_on=int(r["went_on"] or 0),
            median_days=None if r["median_days"] is None else float(r["median_days"]),
        )
        for r in _rows(
            warehouse,
            reach.mutate(days=days)
            .group_by("phase")
            .aggregate(
                profiles=reach.profile_id.nunique(),
                went_on=reach.went_on_at.notnull().sum(),
                median_days=ibis._.days.quantile(0.5),
            ),
        )
    }
    stopped = _last_touch_of_the_stopped(warehouse, touched, reach, len(journey_map.phases) - 1)
    lost_by_phase = {
        phase.id: per_phase.get(phase.id, NOTHING).lost for phase in journey_map.phases[:-1]
    }
    pain_phases = {p for p, lost in Counter(lost_by_phase).most_common(PAIN_PHASES) if lost > 0}
    pain_touchpoints = {
        tp for tp, lost in Counter(stopped).most_common(PAIN_TOUCHPOINTS) if lost > 0
    }
    kpis = _kpis(journey_map, per_phase, per_touchpoint)
    columns = []
    for index, phase in enumerate(journey_map.phases):
        cells = [
            TouchpointCell(
                id=tp.id,
                label=tp.label,
                channel=tp.channel,
                device=tp.device,
                department=tp.department,
                system=tp.system,
                events=per_touchpoint.get(tp.id, UNTOUCHED).events,
                profiles=per_touchpoint.get(tp.id, UNTOUCHED).profiles,
                nps=nps.get(tp.id),
                pain=tp.id in pain_touchpoints,
                kpis=kpis.get(("touchpoint", tp.id), []),
            )
            for tp in journey_map.touchpoints
            if tp.phase == phase.id
            and (persona is None or not tp.personas or persona in tp.personas)
        ]
        stats = per_phase.get(phase.id, NOTHING)
        last = index == len(journey_map.phases) - 1
        columns.append(
            PhaseColumn(
                id=phase.id,
                label=phase.label,
                touchpoints=cells,
                profiles=stats.profiles,
                conversion_to_next=None if last else stats.conversion,
                median_days_in_phase=stats.days,
                channels=_most_used(cells, "channel"),
                departments=_most_used(cells, "department"),
                systems=_most_used(cells, "system"),
                pain=phase.id in pain_phases,
                kpis=kpis.get(("phase", phase.id), []),
            )
        )
    return MapView(
        title=journey_map.name,
        persona=persona,
        persona_label=next((p.label for p in journey_map.personas if p.id == persona), None),
        as_of=as_of,
        map_version=map_version,
        profiles=_count_profiles(warehouse, touched),
        phases=columns,
        system_labels={system.id: system.label for system in journey_map.systems},
        pain_points=_pain_points(
            journey_map, lost_by_phase, pain_phases, stopped, pain_touchpoints
        ),
    )


def _count_profiles(warehouse: Engine, touched: ir.Table) -> int:
    return int(warehouse.to_arrow(touched.profile_id.nunique()).as_py() or 0)


def _most_used(cells: list[TouchpointCell], attribute: str) -> list[str]:
    weights: Counter[str] = Counter()
    for cell in cells:
        # + 1: a designed touchpoint nobody used still shows its channel.
        weights[getattr(cell, attribute)] += cell.events + 1
    return [name for name, _ in weights.most_common()]


def _last_touch_of_the_stopped(
    warehouse: Engine, touched: ir.Table, reach: ir.Table, last_rank: int
) -> dict[str, int]:
    """Touchpoint -> people whose journey ended there, short of the map's last phase."""
    top = reach.group_by("profile_id").aggregate(top=reach.phase_rank.max())
    furthest = top.filter(top.top < last_rank).select("profile_id")
    mine = touched.semi_join(furthest, "profile_id")
    order = ibis.window(
        group_by=mine.profile_id, order_by=[ibis.desc(mine.ts), ibis.desc(mine.seq)]
    )
    last = mine.mutate(n=ibis.row_number().over(order)).filter(ibis._.n == 0)
    return {
        str(r["touchpoint"]): int(r["n"])
        for r in _rows(warehouse, last.group_by("touchpoint").aggregate(n=last.count()))
    }


def _nps_by_touchpoint(warehouse: Engine, touched: ir.Table, events: ir.Table) -> dict[str, float]:
    """NPS (-100..100) of the latest answer of each person who touched the touchpoint.

    Answers are read from every event, so a map needs no survey touchpoint for it.
    """
    scored = nps_answers(events)
    order = ibis.window(group_by=scored.profile_id, order_by=ibis.desc(scored.ts))
    latest = scored.mutate(n=ibis.row_number().over(order)).filter(ibis._.n == 0)
    people = touched.select("profile_id", "touchpoint").distinct()
    joined = people.join(latest.select("profile_id", "score"), "profile_id")
    rows = _rows(
        warehouse,
        joined.group_by("touchpoint").aggregate(
            answers=joined.count(), points=nps_points(joined.score).sum()
        ),
    )
    return {
        str(r["touchpoint"]): round(100.0 * int(r["points"]) / int(r["answers"]), 1)
        for r in rows
        if r["answers"]
    }


def nps_answers(events: ir.Table) -> ir.Table:
    """The NPS answers among `events` (survey_answered with properties.survey "nps"), with
    their `score` (properties.score, 0-10); answers without a score are left out.

    The one definition of an NPS answer: the map's touchpoints and the KPI library read it.
    """
    answers = events.filter(
        (events.event == "survey_answered")
        & (json_value(events, "properties", ["survey"], "string") == "nps").fill_null(False)
    )
    score = json_value(answers, "properties", ["score"], "number")
    return answers.mutate(score=score).filter(ibis._.score.notnull())


def nps_points(score: ir.NumericValue) -> ir.IntegerValue:
    """+1 for a promoter (9-10), -1 for a detractor (0-6), 0 for a passive (7-8): the NPS
    is 100 times their mean."""
    points: ir.IntegerValue = ibis.cases((score >= 9, 1), (score <= 6, -1), else_=0)
    return points


def _kpis(
    journey_map: JourneyMap,
    per_phase: dict[str, PhaseStats],
    per_touchpoint: dict[str, TouchStats],
) -> dict[tuple[str, str], list[KpiValue]]:
    found: dict[tuple[str, str], list[KpiValue]] = {}
    last_phase = journey_map.phases[-1].id
    for kpi in journey_map.kpis:
        value: float | None
        if kpi.touchpoint is not None:
            key = ("touchpoint", kpi.touchpoint)
            touch = per_touchpoint.get(kpi.touchpoint, UNTOUCHED)
            value = float(touch.events if kpi.kpi == "events" else touch.profiles)
        else:
            assert kpi.phase is not None
            key = ("phase", kpi.phase)
            stats = per_phase.get(kpi.phase, NOTHING)
            if kpi.kpi == "profiles":
                value = float(stats.profiles)
            elif kpi.kpi == "events":
                value = float(
                    sum(
                        per_touchpoint.get(tp.id, UNTOUCHED).events
                        for tp in journey_map.touchpoints
                        if tp.phase == kpi.phase
                    )
                )
            elif kpi.kpi == "conversion_to_next_phase":
                value = None if kpi.phase == last_phase else stats.conversion
            else:
                value = stats.days
        found.setdefault(key, []).append(
            KpiValue(
                kpi=kpi.kpi,
                label=KPI_LABELS[kpi.kpi],
                value=value,
                unit=KPI_UNITS[kpi.kpi],
                target=kpi.target,
            )
        )
    return found


def _pain_points(
    journey_map: JourneyMap,
    lost_by_phase: dict[str, int],
    pain_phases: set[str],
    stopped: dict[str, int],
    pain_touchpoints: set[str],
) -> list[PainPoint]:
    phases = {p.id: p for p in journey_map.phases}
    names = {tp.id: tp for tp in journey_map.touchpoints}
    points = []
    for phase_id in pain_phases:
        label = phases[phase_id].label
        lost = lost_by_phase[phase_id]
        points.append(
            PainPoint(
                phase=phase_id,
                touchpoint=None,
                lost_profiles=lost,
                text=Bilingual(
                    it=f"{lost} persone arrivano a «{label.it}» e non vanno oltre",
                    en=f"{lost} people reach “{label.en}” and go no further",
                ),
            )
        )
    for tp_id in pain_touchpoints:
        tp = names[tp_id]
        lost = stopped[tp_id]
        points.append(
            PainPoint(
                phase=tp.phase,
                touchpoint=tp_id,
                lost_profiles=lost,
                text=Bilingual(
                    it=f"Il percorso di {lost} persone si ferma a «{tp.label.it}»",
                    en=f"The journey of {lost} people stops at “{tp.label.en}”",
                ),
            )
        )
    return sorted(points, key=lambda p: (-p.lost_profiles, p.phase, p.touchpoint or ""))
