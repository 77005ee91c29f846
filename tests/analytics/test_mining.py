"""Mined journeys against the map: hand-built traces with every figure derived by hand, the
default map's designed moves, and pm4py as the reference on the demo company."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import T0, World

from percorso.analytics.mining import MineQuery, designed_moves, run
from percorso.analytics.territory import AnalyticsError, Territory
from percorso.journey.model import JourneyMap, load_map_text
from percorso.warehouse.store import Warehouse

# A small map whose rules read no JSON (so the lifecycle runs on every backend). Its stage
# transitions design awareness -> purchase, purchase -> advocacy and advocacy -> purchase on
# top of the next-phase moves; retention -> purchase is not designed here.
SMALL_MAP = """
name: small
phases:
  - {id: awareness, label: {it: a, en: a}}
  - {id: consideration, label: {it: c, en: c}}
  - {id: purchase, label: {it: p, en: p}}
  - {id: retention, label: {it: r, en: r}}
  - {id: advocacy, label: {it: v, en: v}}
personas:
  - {id: business, label: {it: b, en: b}, when: 'ever(event == "meeting_held")'}
  - {id: consumer, label: {it: c, en: c}, when: "true"}
stages:
  - {id: suspect, label: {it: s, en: s}, phase: awareness, when: "true"}
  - {id: customer, label: {it: c, en: c}, phase: purchase, when: 'ever(event == "order_completed")'}
  - {id: advocate, label: {it: a, en: a}, phase: advocacy, when: 'ever(event == "survey_answered")'}
transitions:
  suspect: [customer]
  customer: [advocate]
  advocate: [customer]
systems:
  - {id: all, label: {it: t, en: t}, match: "true"}
touchpoints:
  - {id: ad, label: {it: x, en: x}, phase: awareness, channel: social, department: marketing,
     system: all, match: 'event == "ad_clicked"'}
  - {id: catalogue, label: {it: x, en: x}, phase: consideration, channel: direct,
     department: marketing, system: all, match: 'event == "product_viewed"'}
  - {id: form, label: {it: x, en: x}, phase: consideration, channel: form, department: marketing,
     system: all, match: 'event == "form_submitted"'}
  - {id: quote, label: {it: x, en: x}, phase: consideration, channel: in_person,
     department: sales, system: all, match: 'event == "quote_sent"', personas: [business]}
  - {id: order, label: {it: x, en: x}, phase: purchase, channel: direct, department: sales,
     system: all, match: 'event == "order_completed"'}
  - {id: invoice, label: {it: x, en: x}, phase: retention, channel: erp,
     department: administration, system: all, match: 'event == "invoice_issued"'}
  - {id: ticket, label: {it: x, en: x}, phase: retention, channel: support, department: service,
     system: all, match: 'event == "ticket_opened"'}
  - {id: survey, label: {it: x, en: x}, phase: advocacy, channel: survey, department: service,
     system: all, match: 'event == "survey_answered"'}
"""


@pytest.fixture(scope="module")
def small_map() -> JourneyMap:
    return load_map_text(SMALL_MAP, "small map")


def _journeys(world: World) -> None:
    """Eight traces (F has no touch). Phases: a=awareness, c=consideration, p=purchase,
    r=retention, v=advocacy; * marks a move the small map does not design."""
    trace: dict[str, list[str]] = {
        "A": [
            "ad_clicked",
            "product_viewed",
            "product_viewed",
            "order_completed",
            "invoice_issued",
        ],
        "B": ["product_viewed", "ad_clicked", "order_completed"],  # c *a p (a -> p designed)
        "C": ["ad_clicked", "survey_answered"],  # a *v
        "D": ["order_completed", "invoice_issued", "order_completed", "invoice_issued"],  # p r *p r
        "E": ["ad_clicked"],  # a
        "F": ["page_viewed"],  # no touchpoint: no trace
        "G": ["meeting_held", "form_submitted", "quote_sent", "order_completed"],  # business: c p
        "H": ["form_submitted", "quote_sent"],  # consumer: c (form -> *quote: business only)
        "I": ["ad_clicked", "quote_sent"],  # consumer: a c (ad -> *quote: business only)
    }
    for anon, events in trace.items():
        # B's events share one minute: ingestion order (seq) orders them.
        world.add(
            *(
                {"anon": anon, "event": e, "at": 0 if anon == "B" else i}
                for i, e in enumerate(events)
            )
        )


def _edges(edges: list[Any]) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {(e.source, e.target): (e.transitions, e.profiles, e.designed) for e in edges}


def test_phase_traces_against_the_small_map(
    world: World, territory: MakeTerritory, small_map: JourneyMap
) -> None:
    _journeys(world)
    phase = run(MineQuery(level="phase", min_share=0, top=3), territory(journey_map=small_map))

    # Phase steps (repeats merged): A a c p r | B c a p | C a v | D p r p r | E a | G c p |
    # H c | I a c (a touchpoint's personas do not count between phases).
    assert phase.profiles == 8
    # Transitions: A 3, B 2, C 1, D 3, G 1, I 1 = 11; undesigned: B c->a, C a->v, D r->p.
    assert (phase.transitions, phase.designed_transitions) == (11, 8)
    assert phase.edge_fitness == round(8 / 11, 4)
    assert (phase.fitting, phase.fitness) == (5, 0.625)  # A E G H I
    assert _edges(phase.edges) == {
        ("awareness", "consideration"): (2, 2, True),  # A I
        ("consideration", "purchase"): (2, 2, True),  # A G
        ("purchase", "retention"): (3, 2, True),  # A, D twice
        ("retention", "purchase"): (1, 1, False),  # D
        ("consideration", "awareness"): (1, 1, False),  # B
        ("awareness", "purchase"): (1, 1, True),  # B
        ("awareness", "advocacy"): (1, 1, False),  # C
    }
    assert [(u.source, u.target, u.share) for u in phase.undesigned] == [
        ("awareness", "advocacy", 0.0909),
        ("consideration", "awareness", 0.0909),
        ("retention", "purchase", 0.0909),
    ]
    assert [(s.step, s.profiles) for s in phase.starts] == [
        ("awareness", 4),  # A C E I
        ("consideration", 3),  # B G H
        ("purchase", 1),  # D
    ]
    assert [(s.step, s.profiles) for s in phase.ends] == [
        ("consideration", 2),  # H I
        ("purchase", 2),  # B G
        ("retention", 2),  # A D
        ("advocacy", 1),  # C
        ("awareness", 1),  # E
    ]
    # Furthest phase: A r, B p, C v, D r, E a, G p, H c, I c.
    assert [(s.phase, s.went_past, s.skipped, s.share) for s in phase.skipped_phases] == [
        ("awareness", 7, 3, round(3 / 7, 4)),  # past: all but E; never aware: D G H
        ("consideration", 5, 2, 0.4),  # past: A B C D G; skipped: C D
        ("purchase", 3, 1, 0.3333),  # past: A C D; skipped: C
        ("retention", 1, 1, 1.0),  # past and skipped: C
    ]
    assert phase.unused_touchpoints == ["ticket"]
    assert [(p.persona, p.profiles, p.fitting, p.transitions) for p in phase.personas] == [
        ("consumer", 7, 4, 10),  # A B C D E H I: A E H I fit
        ("business", 1, 1, 1),  # G
    ]
    # Every trace is its own variant; ties in profiles are listed in text order.
    assert [(v.phases, v.designed) for v in phase.variants] == [
        (["awareness"], True),
        (["awareness", "advocacy"], False),
        (["awareness", "consideration"], True),
    ]


def test_touchpoint_traces_and_one_persona(world: World, small_map: JourneyMap) -> None:
    """The same journeys at the touchpoint level (on DuckDB only: the phase level is the
    backends' common test, and a Spark run of the lifecycle takes seconds)."""
    _journeys(world)
    world.update()
    t = Territory(world.warehouse, small_map, LATER)
    point = run(MineQuery(level="touchpoint", min_share=0), t)
    business = run(MineQuery(level="touchpoint", persona="business"), t)

    # Touchpoint steps: A ad catalogue order invoice | B catalogue ad order | C ad survey |
    # D order invoice order invoice | G form quote order | H form quote | I ad quote: 13
    # transitions; undesigned: B catalogue->ad, C ad->survey, D invoice->order, and H form->quote
    # and I ad->quote (quote is for business only).
    assert (point.transitions, point.designed_transitions) == (13, 8)
    assert (point.fitting, point.fitness) == (3, 0.375)  # A E G
    assert _edges(point.edges)[("form", "quote")] == (2, 2, False)  # G designed, H not
    assert [(u.source, u.target, u.transitions, u.profiles) for u in point.undesigned] == [
        ("ad", "quote", 1, 1),
        ("ad", "survey", 1, 1),
        ("catalogue", "ad", 1, 1),
        ("form", "quote", 1, 1),
        ("invoice", "order", 1, 1),
    ]
    assert [(p.persona, p.fitting, p.edge_fitness) for p in point.personas] == [
        ("consumer", 2, round(6 / 11, 4)),  # 11 transitions, 5 undesigned
        ("business", 1, 1.0),
    ]

    assert (business.profiles, business.fitness, business.transitions) == (1, 1.0, 2)
    assert [p.persona for p in business.personas] == ["business"]
    assert business.unused_touchpoints == ["ad", "catalogue", "invoice", "ticket", "survey"]


def test_the_default_maps_designed_moves(default_map: JourneyMap) -> None:
    # Next phase: a->c, c->p, p->r, r->v. Stage transitions with phases: suspect/prospect
    # (a) -> lead (c) / customer (p); lead (c) -> customer (p); customer (p) -> advocate (v),
    # churned (r); advocate (v) -> customer (p), churned (r); churned (r) -> customer (p).
    assert designed_moves(default_map) == {
        ("awareness", "consideration"),
        ("awareness", "purchase"),
        ("consideration", "purchase"),
        ("purchase", "retention"),
        ("purchase", "advocacy"),
        ("retention", "advocacy"),
        ("retention", "purchase"),
        ("advocacy", "purchase"),
        ("advocacy", "retention"),
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"persona": "busines"},
            '"busines" is not a persona of the journey map; did you mean "business"',
        ),
        ({"persona": "nobody"}, "(personas: business, consumer, none)"),
    ],
)
def test_a_persona_the_map_does_not_have(
    world: World, small_map: JourneyMap, query: dict[str, Any], message: str
) -> None:
    t = Territory(world.warehouse, small_map, T0)
    with pytest.raises(AnalyticsError, match=re.escape(message)):
        run(MineQuery.model_validate(query), t)


def test_touchpoint_level_needs_touchpoints(world: World, small_map: JourneyMap) -> None:
    bare = small_map.model_copy(update={"touchpoints": []})
    with pytest.raises(
        AnalyticsError, match="declares no touchpoints: add some, or mine at the phase level"
    ):
        run(MineQuery(), Territory(world.warehouse, bare, T0))


@pytest.mark.parametrize(
    "bad", [{"level": "event"}, {"min_share": 1.5}, {"top": 0}, {"persona": ""}, {"x": 1}]
)
def test_malformed_queries_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MineQuery.model_validate(bad)


# --- pm4py as the reference, on the demo company ----------------------------------------


@pytest.fixture(scope="module")
def demo(demo_warehouse: Warehouse, default_map: JourneyMap) -> Territory:
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    return Territory(demo_warehouse, default_map, last)


@pytest.fixture(scope="module")
def log(demo: Territory) -> pd.DataFrame:
    """The demo's touches as a pm4py event log, at the phase level, in (ts, seq) order."""
    labelled = demo.labelled()
    touched = labelled.filter(labelled.touchpoint.notnull()).select(
        "profile_id", "ts", "seq", "phase"
    )
    frame = pd.DataFrame(demo.rows(touched)).sort_values(["profile_id", "ts", "seq"])
    # pm4py orders a case by timestamp; a strictly increasing clock keeps seq's tie-break.
    clock = pd.Timestamp("2020-01-01") + pd.to_timedelta(range(len(frame)), unit="s")
    return pd.DataFrame(
        {
            "case:concept:name": frame.profile_id.to_numpy(),
            "concept:name": frame.phase.to_numpy(),
            "time:timestamp": clock,
        }
    )


def test_discovered_graph_is_pm4pys(demo: Territory, log: pd.DataFrame) -> None:
    import pm4py

    mined = run(MineQuery(level="phase", min_share=0), demo)
    dfg, starts, ends = pm4py.discover_dfg(log.copy())
    # pm4py keeps self-loops; merged repeats are exactly those.
    assert {(e.source, e.target): e.transitions for e in mined.edges} == {
        pair: n for pair, n in dfg.items() if pair[0] != pair[1]
    }
    assert {s.step: s.profiles for s in mined.starts} == dict(starts)
    assert {s.step: s.profiles for s in mined.ends} == dict(ends)
    assert mined.profiles == sum(starts.values())


def test_fitness_is_token_replays_on_the_designed_net(
    demo: Territory, log: pd.DataFrame, default_map: JourneyMap
) -> None:
    """The designed moves (plus staying in a phase) as a DFG, turned into a Petri net where each
    phase is a place; token-based replay's share of fitting traces is our trace fitness."""
    import pm4py
    from pm4py.objects.conversion.dfg import converter

    phases = [p.id for p in default_map.phases]
    designed = {pair: 1 for pair in designed_moves(default_map)} | {(p, p): 1 for p in phases}
    everywhere = dict.fromkeys(phases, 1)
    net, initial, final = converter.apply(
        designed,
        parameters={"start_activities": everywhere, "end_activities": everywhere},
        variant=converter.Variants.VERSION_TO_PETRI_NET_ACTIVITY_DEFINES_PLACE,
    )
    replay = pm4py.fitness_token_based_replay(log.copy(), net, initial, final)
    mined = run(MineQuery(level="phase"), demo)
    assert mined.fitness is not None
    assert mined.fitness * 100 == pytest.approx(replay["percentage_of_fitting_traces"], abs=0.01)
    # and by plain counting over pm4py's variants (phases with their repeats)
    allowed = set(designed)
    fitting = sum(
        count
        for variant, count in pm4py.get_variants(log.copy()).items()
        if all(pair in allowed for pair in pairwise(variant))
    )
    assert (mined.fitting, mined.profiles) == (fitting, log["case:concept:name"].nunique())
