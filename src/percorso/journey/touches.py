"""Which touchpoint each event is, and how profiles move through the phases.

An event is the first touchpoint of the map (in file order) whose match
holds; events that match none are not touches. A profile *reaches* a phase
at its first touch there, and *goes on* from it when it later reaches a
phase further right (skipping one counts: a visitor who buys without a form
went on from consideration). Time in a phase is from reaching it to going on.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel

from percorso.journey.compile import EventCompiler
from percorso.journey.model import JourneyMap
from percorso.journey.ticks import profile_events
from percorso.warehouse.engine import Engine


class PhaseEntry(BaseModel):
    phase: str
    entered_at: datetime
    touchpoint: str


def label_touchpoints(events: ir.Table, journey_map: JourneyMap) -> ir.Table:
    """`events` with `touchpoint`, `phase` (null where no touchpoint matches) and `phase_rank` (-1)."""
    compiler = EventCompiler(events, journey_map.touchpoint_rules)
    touchpoint = ibis.cases(
        *[(compiler.condition(rule.node), tp) for tp, rule in journey_map.touchpoint_rules.items()],
        else_=ibis.null("string"),
    )
    phase_of = {tp.id: tp.phase for tp in journey_map.touchpoints}
    rank = {phase.id: index for index, phase in enumerate(journey_map.phases)}
    marked = events.mutate(touchpoint=touchpoint)
    phase = marked.touchpoint.substitute(phase_of, else_=ibis.null("string"))
    phase_rank = ibis.cases(*[(phase == p, r) for p, r in rank.items()], else_=-1)
    return marked.mutate(phase=phase, phase_rank=phase_rank.cast("int64"))


def touches(warehouse: Engine, journey_map: JourneyMap, as_of: datetime) -> ir.Table:
    """Profile events that are touchpoints: profile_id, ts, seq, touchpoint, phase, phase_rank."""
    events = profile_events(warehouse.ibis, as_of)
    labelled = label_touchpoints(events, journey_map)
    found = labelled.filter(labelled.touchpoint.notnull())
    return found.select(
        "profile_id", "ts", "seq", "event", "properties", "touchpoint", "phase", "phase_rank"
    )


def phase_reach(touched: ir.Table) -> ir.Table:
    """One row per profile and reached phase: reached_at, went_on_at (None if it did not)."""
    first = touched.group_by(["profile_id", "phase", "phase_rank"]).aggregate(
        reached_at=touched.ts.min()
    )
    later = first.view()
    pairs = first.join(
        later,
        (first.profile_id == later.profile_id)
        & (later.phase_rank > first.phase_rank)
        & (later.reached_at >= first.reached_at),
    )
    went_on = pairs.group_by([first.profile_id, first.phase]).aggregate(
        went_on_at=later.reached_at.min()
    )
    return first.left_join(went_on, ["profile_id", "phase"]).select(
        first.profile_id, first.phase, first.phase_rank, first.reached_at, went_on.went_on_at
    )


def phase_history(warehouse: Engine, touched: ir.Table, profile_id: str) -> list[PhaseEntry]:
    """A profile's phases in time order: a new entry each time the phase changes."""
    mine = touched.filter(touched.profile_id == profile_id)
    order = ibis.window(order_by=[mine.ts, mine.seq])
    marked = mine.mutate(previous=mine.phase.lag().over(order))
    changes = marked.filter(marked.previous.isnull() | (marked.previous != marked.phase))
    rows = warehouse.to_arrow(changes.order_by(["ts", "seq"])).to_pylist()
    return [
        PhaseEntry(phase=r["phase"], entered_at=r["ts"], touchpoint=r["touchpoint"]) for r in rows
    ]
