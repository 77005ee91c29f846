"""Paths: the directly-follows graph, its starts and ends, cleaning, anchors, variants and the
Sankey, by hand on small worlds and against pm4py on random data and on the demo."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import T0, World

from percorso.analytics import path_tables as tables
from percorso.analytics.funnels import FunnelQuery
from percorso.analytics.paths import PathQuery, PathResult, run
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalyticsError, Territory, UnknownEvent
from percorso.journey.model import JourneyMap

PV = "page_viewed"
PRV = "product_viewed"
PA = "product_added"
CS = "checkout_started"
ID = "identify"  # the node of an identify call, which has no event name
ONLY_THE_GRAPH = {"top_paths": 0, "sankey_steps": 0}  # one query instead of three


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_shop(world: World) -> None:
    """Three visitors, with ties in time (broken by ingestion order), a repeat at the same
    instant, an identify call (no event name) and an event that arrives late:

        a1: page_viewed -60, product_viewed 0, product_added 30, page_viewed 30,
            product_added 90, product_added 150, checkout_started 210
        a2: product_added 0, page_viewed 0, identify 20, checkout_started 80
        a3: product_added 0, product_added 0, checkout_started 120
    """
    world.add(
        {"anon": "a1", "event": PRV, "at": at(0)},
        {"anon": "a1", "event": PA, "at": at(30)},
        {"anon": "a1", "event": PV, "at": at(30)},
        {"anon": "a1", "event": PA, "at": at(90)},
        {"anon": "a1", "event": PA, "at": at(150)},
        {"anon": "a1", "event": CS, "at": at(210)},
        {"anon": "a2", "event": PA, "at": at(0)},
        {"anon": "a2", "event": PV, "at": at(0)},
        {"anon": "a2", "traits": {"city": "Roma"}, "at": at(20)},
        {"anon": "a2", "event": CS, "at": at(80)},
        {"anon": "a3", "event": PA, "at": at(0)},
        {"anon": "a3", "event": PA, "at": at(0)},
        {"anon": "a3", "event": CS, "at": at(120)},
    )
    world.add({"anon": "a1", "event": PV, "at": at(-60)})  # ingested last, happened first


def duckdb_territory(world: World, journey_map: JourneyMap) -> Territory:
    """The world on DuckDB only: for the option-by-option tables (Spark runs every option at
    once in `test_every_option_at_once`, as each of its queries takes seconds)."""
    world.update()
    return Territory(world.warehouse, journey_map, LATER)


def counts(result: PathResult) -> dict[tuple[str, str], int]:
    return {(e.from_, e.to): e.count for e in result.edges}


def nodes(records: Any) -> dict[str, int]:
    return {r.node: r.count for r in records}


def test_edges_pair_consecutive_events_ties_broken_by_ingestion_order(
    world: World, territory: MakeTerritory
) -> None:
    add_shop(world)
    result = run(PathQuery(), territory())
    # (from, to): (count, median, p90), seconds from the paths in `add_shop`'s doc
    expected = {
        (PV, PRV): (1, 60.0, 60.0),
        (PRV, PA): (1, 30.0, 30.0),
        (PA, PV): (2, 0.0, 0.0),  # a1 at 30 s, a2 at 0 s: same instant, ingestion order
        (PV, PA): (1, 60.0, 60.0),
        (PA, PA): (2, 30.0, 54.0),  # 60 s (a1) and 0 s (a3): p90 = 0 + 0.9 * 60
        (PA, CS): (2, 90.0, 114.0),  # 60 s (a1) and 120 s (a3)
        (PV, ID): (1, 20.0, 20.0),  # an identify call has no name: its type names it
        (ID, CS): (1, 60.0, 60.0),
    }
    found = {(e.from_, e.to): (e.count, e.median_seconds, e.p90_seconds) for e in result.edges}
    assert found == expected
    assert [e.count for e in result.edges] == sorted((e.count for e in result.edges), reverse=True)
    assert nodes(result.starts) == {PV: 1, PA: 2}
    assert nodes(result.ends) == {CS: 3}
    assert (result.profiles, result.events) == (3, 14)
    edge = result.edges[0].model_dump()
    assert list(edge)[:2] == ["from", "to"]
    assert '"from":"product_added"' in result.model_dump_json()


def test_whole_paths_read_the_kept_order_and_give_what_the_window_gives(
    world: World, territory: MakeTerritory
) -> None:
    add_shop(world)
    world.update()
    # after an update: a late event before a1's first, a repeat at a3's last instant and a
    # new visitor, so the kept order of existing paths must have moved
    world.add(
        {"anon": "a1", "event": CS, "at": at(-120)},
        {"anon": "a3", "event": PV, "at": at(120)},
        {"anon": "a4", "event": PRV, "at": at(5)},
    )
    world.update()
    t = territory()
    columns = ["profile_id", "ts", "seq", "node", "_step", "_next", "_next_ts"]

    def rows(table: Any) -> list[tuple[Any, ...]]:
        return sorted(tuple(r[c] for c in columns) for r in t.rows(table.select(*columns)))

    whole: list[dict[str, Any]] = [
        {},
        {"until": at(60)},  # paths end at the until: a next event after it is none
        {"group": {"cart": [PA, CS]}},
        {"group": {"cart": [PA, CS]}, "until": at(30), "top_paths": 3},
    ]
    for fields in whole:
        query = PathQuery.model_validate(fields)
        per_query = Territory(t.engine, t.journey_map, query.until or LATER)
        kept = tables.kept_steps(query, per_query)
        assert kept is not None, fields
        computed = tables.linked(tables.paths(query, per_query))
        assert rows(kept) == rows(computed), fields
        assert rows(kept), fields
    # at an as-of inside the paths, too
    early = Territory(t.engine, t.journey_map, at(45))
    kept = tables.kept_steps(PathQuery(), early)
    assert kept is not None
    assert rows(kept) == rows(tables.linked(tables.paths(PathQuery(), early)))
    # cleaned paths are computed: the kept order is of the whole paths
    cleaned: list[dict[str, Any]] = [
        {"since": at(0)},
        {"exclude": [PV]},
        {"collapse_repeats": True},
        {"max_steps": 2},
        {"after": {"event": PA}},
        {"level": "touchpoint"},
    ]
    for fields in cleaned:
        query = PathQuery.model_validate(fields)
        assert tables.kept_steps(query, t) is None, fields
    assert tables.kept_steps(PathQuery(), Territory(t.engine, t.journey_map, LATER, at(0))) is None


def test_cleaning_collapses_excludes_groups_and_bounds_paths(
    world: World, default_map: JourneyMap
) -> None:
    add_shop(world)
    t = duckdb_territory(world, default_map)
    browse = "browse"
    table: list[tuple[dict[str, Any], dict[tuple[str, str], int], dict[str, int]]] = [
        (  # a1: pv prv pa pv pa cs; a2 as it is; a3: pa cs
            {"collapse_repeats": True},
            {
                (PV, PRV): 1,
                (PRV, PA): 1,
                (PA, PV): 2,
                (PV, PA): 1,
                (PA, CS): 2,
                (PV, ID): 1,
                (ID, CS): 1,
            },
            {PV: 1, PA: 2},
        ),
        (  # a1: prv pa pa pa cs; a2: pa identify cs; a3: pa pa cs
            {"exclude": [PV]},
            {(PRV, PA): 1, (PA, PA): 3, (PA, CS): 2, (PA, ID): 1, (ID, CS): 1},
            {PRV: 1, PA: 2},
        ),
        (  # repeats collapse once the excluded page views are gone: a1: prv pa cs
            {"exclude": [PV], "collapse_repeats": True},
            {(PRV, PA): 1, (PA, CS): 2, (PA, ID): 1, (ID, CS): 1},
            {PRV: 1, PA: 2},
        ),
        (  # a1: b b pa b pa pa cs; a2: pa b identify cs; a3: pa pa cs
            {"group": {browse: [PV, PRV]}},
            {
                (browse, browse): 1,
                (browse, PA): 2,
                (PA, browse): 2,
                (PA, PA): 2,
                (PA, CS): 2,
                (browse, ID): 1,
                (ID, CS): 1,
            },
            {browse: 1, PA: 2},
        ),
        (  # the first two nodes: a1: pv prv; a2: pa pv; a3: pa pa
            {"max_steps": 2},
            {(PV, PRV): 1, (PA, PV): 1, (PA, PA): 1},
            {PV: 1, PA: 2},
        ),
        (  # identify is a node name like any other
            {"exclude": [ID], "min_count": 2},
            {(PA, PV): 2, (PA, PA): 2, (PA, CS): 2},
            {PV: 1, PA: 2},
        ),
        (  # up to 60 s: a1: pv prv pa pv; a2: pa pv identify; a3: pa pa
            {"until": at(60)},
            {(PV, PRV): 1, (PRV, PA): 1, (PA, PV): 2, (PV, ID): 1, (PA, PA): 1},
            {PV: 1, PA: 2},
        ),
        ({"since": at(100)}, {(PA, CS): 1}, {PA: 1, CS: 1}),  # a1: pa cs; a3: cs
        (  # pa pa pa cs, pa cs, pa pa cs: pa->pa and pa->cs both 3, tie broken by name
            {"limit_edges": 1, "exclude": [PV, PRV, ID]},
            {(PA, CS): 3},
            {PA: 3},
        ),
    ]
    for fields, edges, starts in table:
        result = run(PathQuery.model_validate({**fields, **ONLY_THE_GRAPH}), t)
        assert (counts(result), nodes(result.starts)) == (edges, starts), fields


def test_anchors_cut_paths_after_and_before_a_step(world: World, default_map: JourneyMap) -> None:
    add_shop(world)
    t = duckdb_territory(world, default_map)
    table: list[tuple[dict[str, Any], dict[tuple[str, str], int], dict[str, int], int]] = [
        (  # a1 from its product_added at 30 s: pa pv pa pa cs; a2, a3 whole
            {"after": PA},
            {(PA, PV): 2, (PV, PA): 1, (PA, PA): 2, (PA, CS): 2, (PV, ID): 1, (ID, CS): 1},
            {PA: 3},
            3,
        ),
        # product_viewed is no cart event: the same cut
        ({"after": "touchpoint:cart_checkout", "max_steps": 1}, {}, {PA: 3}, 3),
        (  # up to the first page view: a1: pv (a path of one node); a2: pa pv; a3 has none
            {"before": PV},
            {(PA, PV): 1},
            {PV: 1, PA: 1},
            2,
        ),
        (  # from the first product_added to the first page view at or after it
            {"after": PA, "before": PV},
            {(PA, PV): 2},
            {PA: 2},
            2,
        ),
        (  # only `before`: the last two steps that led there
            {"before": CS, "max_steps": 2},
            {(PA, CS): 2, (ID, CS): 1},
            {PA: 2, ID: 1},
            3,
        ),
        (  # `after`: the first two steps from there
            {"after": PA, "max_steps": 2},
            {(PA, PV): 2, (PA, PA): 1},
            {PA: 3},
            3,
        ),
    ]
    nobody = {"after": "checkout_started where properties.total > 1"}  # no such event
    table.append((nobody, {}, {}, 0))
    for fields, edges, starts, profiles in table:
        anchors = {k: Step.parse(v) for k, v in fields.items() if k in ("after", "before")}
        result = run(PathQuery.model_validate({**fields, **anchors, **ONLY_THE_GRAPH}), t)
        found = (counts(result), nodes(result.starts), result.profiles)
        assert found == (edges, starts, profiles), fields


def test_variants_and_sankey(world: World, default_map: JourneyMap) -> None:
    add_shop(world)
    t = duckdb_territory(world, default_map)
    query = PathQuery(after=Step.parse(PA), max_steps=3, sankey_steps=3)
    result = run(query, t)
    # a1: pa pv pa; a2: pa pv identify; a3: pa pa cs; ties by name, node by node
    assert [(v.path, v.profiles, v.share) for v in result.variants] == [
        ([PA, PV, ID], 1, 0.3333),
        ([PA, PV, PA], 1, 0.3333),
        ([PA, PA, CS], 1, 0.3333),
    ]
    assert [(n.step, n.name, n.profiles) for n in result.sankey.nodes] == [
        (1, PA, 3),
        (2, PV, 2),
        (2, PA, 1),
        (3, CS, 1),
        (3, ID, 1),
        (3, PA, 1),
    ]
    assert [(k.source, k.target, k.value) for k in result.sankey.links] == [
        (0, 1, 2),
        (0, 2, 1),
        (1, 4, 1),
        (1, 5, 1),
        (2, 3, 1),
    ]
    two = run(PathQuery(after=Step.parse(PA), max_steps=2, top_paths=1, sankey_steps=0), t)
    assert [(v.path, v.profiles, v.share) for v in two.variants] == [([PA, PV], 2, 0.6667)]
    assert two.sankey.nodes == [] and two.sankey.links == []
    none = run(PathQuery(after=Step.parse(f"{CS} where properties.total > 1")), t)
    assert (none.edges, none.variants, none.sankey.nodes, none.profiles) == ([], [], [], 0)


def test_every_option_at_once(world: World, territory: MakeTerritory) -> None:
    add_shop(world)
    query = PathQuery(
        after=Step.parse(PA),
        before=Step.parse(CS),
        exclude=[ID],
        group={"browse": [PV, PRV]},
        collapse_repeats=True,
        max_steps=3,
        sankey_steps=3,
    )
    result = run(query, territory())
    # from the first product_added to the first checkout_started:
    #   a1: pa pv pa pa cs, a2: pa pv identify cs, a3: pa pa cs
    # without identify, page views as "browse", repeats collapsed, the first three nodes:
    #   a1: pa b pa, a2: pa b cs, a3: pa cs
    # a collapsed run is timed from its first event (a3's pa at 0 s)
    b = "browse"
    found = {(e.from_, e.to): (e.count, e.median_seconds) for e in result.edges}
    assert found == {
        (PA, b): (2, 0.0),
        (b, PA): (1, 60.0),
        (b, CS): (1, 80.0),
        (PA, CS): (1, 120.0),
    }
    assert (nodes(result.starts), nodes(result.ends)) == ({PA: 3}, {CS: 2, PA: 1})
    assert (result.profiles, result.events) == (3, 8)
    assert [v.path for v in result.variants] == [[PA, b, CS], [PA, b, PA], [PA, CS]]
    assert [(n.step, n.name, n.profiles) for n in result.sankey.nodes] == [
        (1, PA, 3),
        (2, b, 2),
        (2, CS, 1),
        (3, CS, 1),
        (3, PA, 1),
    ]
    links = [(k.source, k.target, k.value) for k in result.sankey.links]
    assert links == [(0, 1, 2), (0, 2, 1), (1, 3, 1), (1, 4, 1)]


def test_paths_after_a_funnel_drop(world: World, territory: MakeTerritory) -> None:
    add_shop(world)
    steps = [Step.parse(PV), Step.parse(PA), Step.parse(CS)]
    funnel = FunnelQuery(steps=steps, window=timedelta(seconds=100), dropped_at=3)
    result = run(PathQuery(after_dropping=funnel, **ONLY_THE_GRAPH), territory())
    # a1 goes pv (30 s) -> pa (90 s) but checks out 180 s after: it dropped at step 3.
    # a2 converts (pv, pa at 0 s: the funnel's order at one instant; cs at 80 s) and a3
    # never enters (no page view). a1's path starts at its first product_added from its
    # first page view on: pa pv pa pa cs
    assert counts(result) == {(PA, PV): 1, (PV, PA): 1, (PA, PA): 1, (PA, CS): 1}
    assert (nodes(result.starts), result.profiles) == ({PA: 1}, 1)


def test_touchpoint_and_phase_levels_read_only_touchpoints(
    world: World, territory: MakeTerritory
) -> None:
    # default map: marketing_email and invoice are retention, cart_checkout and web_order
    # purchase; a page view of type "track" is no touchpoint
    world.add(
        *[
            {"anon": "a1", "event": name, "at": minute}
            for minute, name in enumerate(
                ["email_opened", PV, PA, CS, "order_completed", "invoice_issued", "email_clicked"]
            )
        ]
    )
    t = territory()
    me, cc, wo, inv = "marketing_email", "cart_checkout", "web_order", "invoice"
    table: list[tuple[dict[str, Any], dict[tuple[str, str], int], int]] = [
        (
            {"level": "touchpoint"},
            {(me, cc): 1, (cc, cc): 1, (cc, wo): 1, (wo, inv): 1, (inv, me): 1},
            6,
        ),
        # the page view is no touchpoint: the path starts at the first touchpoint after it
        ({"level": "touchpoint", "after": Step.parse(PV), "max_steps": 2}, {(cc, cc): 1}, 2),
        (
            {"level": "phase"},
            {
                ("retention", "purchase"): 1,
                ("purchase", "purchase"): 2,
                ("purchase", "retention"): 1,
                ("retention", "retention"): 1,
            },
            6,
        ),
        (
            {"level": "phase", "collapse_repeats": True},
            {("retention", "purchase"): 1, ("purchase", "retention"): 1},
            3,
        ),
    ]
    for fields, edges, events in table:
        result = run(PathQuery.model_validate({**fields, **ONLY_THE_GRAPH}), t)
        assert (counts(result), result.events, result.level) == (edges, events, fields["level"])


# -- what a bad query is told ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        (
            {"exclude": ["page_viewd"]},
            UnknownEvent,
            '"page_viewd" is not an event in this warehouse; did you mean "page_viewed"?',
        ),
        (
            {"group": {"cart": [PA, "chekout_started"]}},
            UnknownEvent,
            '"chekout_started" is not an event in this warehouse; did you mean "checkout_started"?',
        ),
        (
            {"level": "touchpoint", "exclude": ["web_ordr"]},
            AnalyticsError,
            '"web_ordr" is not a touchpoint of the journey map; did you mean "web_order"?',
        ),
        (
            {"level": "phase", "group": {"late": ["retension"]}},
            AnalyticsError,
            '"retension" is not a phase of the journey map; did you mean "retention"?',
        ),
        (
            {"after": {"event": "product_add"}},
            UnknownEvent,
            '"product_add" is not an event in this warehouse; did you mean "product_added"?',
        ),
        (
            {"before": {"touchpoint": "web_ordr"}},
            AnalyticsError,
            '"web_ordr" is not a touchpoint of the journey map; did you mean "web_order"?',
        ),
        (
            {"after_dropping": {"steps": [PA, "chekout_started"], "dropped_at": 2}},
            UnknownEvent,
            '"chekout_started" is not an event in this warehouse; did you mean "checkout_started"?',
        ),
        (
            {"after": {"event": PA}, "exclude": [PA]},
            AnalyticsError,
            '"product_added" is both an anchor and excluded: drop it from the exclusions',
        ),
    ],
)
def test_unknown_names_are_told_with_a_suggestion(
    world: World, default_map: JourneyMap, fields: dict[str, Any], error: type, message: str
) -> None:
    add_shop(world)
    t = duckdb_territory(world, default_map)
    with pytest.raises(error, match=re.escape(message)):
        run(PathQuery.model_validate(fields), t)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_steps": 0}, "max_steps\n  Input should be greater than or equal to 1"),
        ({"max_steps": 1001}, "max_steps\n  Input should be less than or equal to 1000"),
        ({"top_paths": -1}, "top_paths\n  Input should be greater than or equal to 0"),
        ({"min_count": 0}, "min_count\n  Input should be greater than or equal to 1"),
        ({"level": "session"}, "Input should be 'event', 'touchpoint' or 'phase'"),
        ({"group": {"x": []}}, "List should have at least 1 item"),
        ({"exclude": [""]}, "String should have at least 1 character"),
        ({"steps": 3}, "Extra inputs are not permitted"),
        (
            {"group": {"cart": [PA, CS], "checkout": [CS]}},
            '"checkout_started" is in two groups ("cart" and "checkout"): put it in one',
        ),
        (
            {"group": {"cart": [PA], "shop": ["cart"]}},
            'group "cart" is also a member of group "shop": a group cannot hold another',
        ),
        (
            {"after_dropping": {"steps": [PA, CS]}},
            "after_dropping needs the funnel's dropped_at: the step they did not reach",
        ),
        (
            {"after_dropping": {"steps": [PA, CS], "dropped_at": 2}, "after": {"event": PA}},
            "a path starts after a step or after a funnel drop, not both",
        ),
        (
            {"group": {"cart": [PA]}, "exclude": [PA]},
            '"product_added" is both excluded and in group "cart": choose one',
        ),
    ],
)
def test_malformed_queries_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        PathQuery.model_validate(fields)


# -- pm4py as the reference -----------------------------------------------------------------
def pm4py_graph(rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """pm4py's DFG, start and end activities, median seconds per edge and variants on rows of
    profile_id, ts, seq, node.

    pm4py orders a case by timestamp with pandas' stable multi-column sort, and takes the
    first and last rows of each case in frame order, so a frame already sorted by
    (profile, ts, seq) keeps our tie-break; the data below have ties that show it.
    """
    import pandas as pd
    import pm4py

    frame = pd.DataFrame(rows).sort_values(["profile_id", "ts", "seq"], ignore_index=True)
    frame["ts"] = pd.to_datetime(frame["ts"])
    keys = {"case_id_key": "profile_id", "activity_key": "node", "timestamp_key": "ts"}
    dfg, starts, ends = pm4py.discover_dfg(frame, **keys)
    performance, _, _ = pm4py.discover_performance_dfg(frame, **keys)
    variants = pm4py.get_variants(frame, **keys)
    return (
        {(str(a), str(b)): int(n) for (a, b), n in dfg.items()},
        {str(a): int(n) for a, n in starts.items()},
        {str(a): int(n) for a, n in ends.items()},
        {(str(a), str(b)): float(p["median"]) for (a, b), p in performance.items()},
        {tuple(map(str, path)): int(n) for path, n in variants.items()},
    )


def assert_same_as_pm4py(result: PathResult, rows: list[dict[str, Any]]) -> None:
    dfg, starts, ends, medians, variants = pm4py_graph(rows)
    assert counts(result) == dfg
    assert nodes(result.starts) == starts
    assert nodes(result.ends) == ends
    ours = {(e.from_, e.to): e.median_seconds for e in result.edges}
    assert ours == pytest.approx({edge: round(m, 3) for edge, m in medians.items()}, abs=1e-3)
    assert result.profiles == sum(variants.values())
    assert result.variants, "the top paths are reported"
    for variant in result.variants:
        assert variant.profiles == variants[tuple(variant.path)], variant.path
    # the top-k are the k most frequent: no path left out is more frequent than the last
    shown = {tuple(v.path) for v in result.variants}
    left_out = [n for path, n in variants.items() if path not in shown]
    assert max(left_out, default=0) <= result.variants[-1].profiles


def test_same_graph_as_pm4py_on_random_paths(world: World, default_map: JourneyMap) -> None:
    rng = random.Random(20260301)
    names = [
        "page_viewed",
        "product_viewed",
        "product_added",
        "checkout_started",
        "order_completed",
    ]
    events = [
        {
            "anon": f"v{visitor}",
            "event": rng.choice(names),
            # whole minutes in a short span: many events of one visitor share an instant
            "at": rng.randrange(40),
        }
        for visitor in range(60)
        for _ in range(rng.randrange(1, 25))
    ]
    rng.shuffle(events)  # ingestion order unrelated to time
    world.add(*events)
    t = duckdb_territory(world, default_map)
    events_table = t.events()
    rows = t.rows(events_table.select("profile_id", "ts", "seq", node=events_table.event))
    tied = {(r["profile_id"], r["ts"]) for r in rows}
    assert len(tied) < len(rows), "the data have ties in time"
    assert_same_as_pm4py(run(PathQuery(top_paths=20), t), rows)


@pytest.mark.parametrize("level", ["event", "touchpoint"])
def test_same_graph_as_pm4py_on_the_demo(demo_territory: Territory, level: str) -> None:
    t = demo_territory
    table = t.labelled()
    if level == "event":
        table = table.mutate(node=table.event.fill_null(table.type))
    else:
        table = table.filter(table.touchpoint.notnull()).mutate(node=table.touchpoint)
    rows = t.rows(table.select("profile_id", "ts", "seq", "node"))
    result = run(PathQuery.model_validate({"level": level}), t)
    assert result.events == len(rows)
    assert_same_as_pm4py(result, rows)
