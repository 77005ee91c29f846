"""Funnels: hand-built cases whose counts are derived by hand in the comments, ClickHouse's
`windowFunnel` (chdb) on random and demo data, and a brute-force reference of the
definitions in `percorso.analytics.funnel_reach` for what `windowFunnel` has no mode for
(an event matching two steps, optional steps, unordered funnels)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest
from pydantic import ValidationError
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import T0, Event, World

from percorso.analytics import funnel_local
from percorso.analytics.funnel_reach import reach, reached
from percorso.analytics.funnels import FunnelQuery, FunnelResult, report, run
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalyticsError, Territory, UnknownEvent
from percorso.journey.model import JourneyMap
from percorso.warehouse.schema import PATH_ORDER_KEY

MINUTE = timedelta(minutes=1)


def at(minutes: float, microseconds: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, microseconds=microseconds)


def ev(anon: str, event: str, minutes: float, **extra: Any) -> Event:
    return {"anon": anon, "event": event, "at": at(minutes), **extra}


def funnel(t: Territory, *steps: str, **options: Any) -> FunnelResult:
    return run(FunnelQuery(steps=list(steps), **options), t)


def counts(result: FunnelResult) -> list[int]:
    return [step.profiles for step in result.steps]


def ids(world: World, *anons: str) -> list[str]:
    return sorted(world.profile_id("anonymous_id", a) for a in anons)


# -- ordered -----------------------------------------------------------------------------
def test_ordered_funnel_edge_cases(world: World, territory: MakeTerritory) -> None:
    world.add(
        # in order: 3 steps
        ev("straight", "page_view", 0),
        ev("straight", "product_added", 10),
        ev("straight", "order_placed", 20),
        # the last step exactly one window (60 min) after the first is inside: 3
        ev("edge", "page_view", 0),
        ev("edge", "product_added", 30),
        ev("edge", "order_placed", 60),
        # one microsecond later it is out: 2
        ev("past", "page_view", 0),
        ev("past", "product_added", 30),
        {"anon": "past", "event": "order_placed", "at": at(60, 1)},
        # steps done before step 1 do not count: 1
        ev("backwards", "order_placed", 0),
        ev("backwards", "product_added", 1),
        ev("backwards", "page_view", 2),
        # a first attempt that stalls, a second that converts: 3
        ev("retry", "page_view", 0),
        ev("retry", "product_added", 5),
        ev("retry", "page_view", 100),
        ev("retry", "product_added", 110),
        ev("retry", "order_placed", 120),
        # from the view at 0 the order (100) is out; from the view at 50 all fit: 3
        ev("late", "page_view", 0),
        ev("late", "page_view", 50),
        ev("late", "product_added", 70),
        ev("late", "order_placed", 100),
        # same instant, ingested add first: the instant counts in the funnel's order: 3
        ev("tie", "product_added", 0),
        ev("tie", "page_view", 0),
        ev("tie", "order_placed", 5),
        # two views, then an add: timed from the latest view (2 min): 2
        ev("twice", "page_view", 0),
        ev("twice", "page_view", 2),
        ev("twice", "product_added", 4),
        ev("browse", "page_view", 0),  # 1
        # no step 1: not in the funnel
        ev("buyer", "product_added", 0),
        ev("buyer", "order_placed", 1),
        # a repeated step needs its own event (ClickHouse would count one view as both):
        # visit -> visit -> signup
        ev("r-once", "visit", 0),  # 1
        ev("r-once", "signup", 1),
        ev("r-two", "visit", 0),  # 3
        ev("r-two", "visit", 1),
        ev("r-two", "signup", 2),
        ev("r-same", "visit", 0),  # 3: two visits at the same instant
        ev("r-same", "visit", 0),
        ev("r-same", "signup", 0),
        ev("r-between", "visit", 0),  # 2: the signup comes before the second visit
        ev("r-between", "signup", 1),
        ev("r-between", "visit", 2),
    )
    t = territory()
    result = funnel(t, "page_view", "product_added", "order_placed", window="1h", dropped_at=3)
    # step 1: all but buyer (9); step 2: not backwards, browse (7);
    # step 3: straight, edge, retry, late, tie (5)
    assert counts(result) == [9, 7, 5]
    added, ordered = result.steps[1], result.steps[2]
    assert (added.conversion_from_start, added.conversion_from_previous) == (0.7778, 0.7778)
    assert (ordered.conversion_from_start, ordered.conversion_from_previous) == (0.5556, 0.7143)
    assert (added.dropped, ordered.dropped) == (2, 2)
    # view -> add where each first reached step 2, in seconds: straight 600, edge 1800,
    # past 1800, retry 300, late 1200 (from the view at 50), tie 0, twice 120
    # -> sorted 0 120 300 600 1200 1800 1800: median 600, p90 1800
    assert (added.median_seconds_from_previous, added.p90_seconds_from_previous) == (600, 1800)
    # add -> order: straight 600, edge 1800, retry 600, late 1800, tie 300: median 600
    assert (ordered.median_seconds_from_previous, ordered.p90_seconds_from_previous) == (
        600,
        1800,
    )
    assert result.steps[0].median_seconds_from_previous is None
    assert result.dropped_profiles == ids(world, "past", "twice")
    # the same steps as rules take the general path (a window pass, not ASOF joins on DuckDB)
    rules = [f'* where event == "{e}"' for e in ("page_view", "product_added", "order_placed")]
    general = funnel(t, *rules, window="1h", dropped_at=3)
    assert [s.model_dump(exclude={"step"}) for s in general.steps] == [
        s.model_dump(exclude={"step"}) for s in result.steps
    ]
    assert general.dropped_profiles == result.dropped_profiles
    assert counts(funnel(t, "visit", "visit", "signup", window="1h")) == [4, 3, 2]


# -- strict, unordered, optional ---------------------------------------------------------
def test_strict_unordered_and_optional_steps(world: World, territory: MakeTerritory) -> None:
    world.add(
        # strict: page_view -> product_added -> order_placed, each the very next event
        ev("s-ok", "page_view", 0),  # 3
        ev("s-ok", "product_added", 1),
        ev("s-ok", "order_placed", 2),
        ev("s-cut", "page_view", 0),  # 1: a ticket in between
        ev("s-cut", "ticket_opened", 1),
        ev("s-cut", "product_added", 2),
        ev("s-cut", "order_placed", 3),
        ev("s-retry", "page_view", 0),  # 3: the second attempt is unbroken
        ev("s-retry", "ticket_opened", 1),
        ev("s-retry", "page_view", 2),
        ev("s-retry", "product_added", 3),
        ev("s-retry", "order_placed", 4),
        ev("s-repeat", "page_view", 0),  # 2: a second add interrupts
        ev("s-repeat", "product_added", 1),
        ev("s-repeat", "product_added", 2),
        ev("s-repeat", "order_placed", 3),
        ev("s-slow", "page_view", 0),  # 2: the order is out of the window
        ev("s-slow", "product_added", 30),
        ev("s-slow", "order_placed", 61),
        # unordered: ad_clicked, form_submitted, subscribed in any order within 60 min
        ev("u-reverse", "subscribed", 0),  # 3, 10 min between each
        ev("u-reverse", "form_submitted", 10),
        ev("u-reverse", "ad_clicked", 20),
        ev("u-split", "subscribed", 0),  # 2: {subscribed, form} or {form, ad}, never 3
        ev("u-split", "form_submitted", 30),
        ev("u-split", "ad_clicked", 70),
        ev("u-pair", "form_submitted", 0),  # 2, 5 min apart
        ev("u-pair", "ad_clicked", 5),
        ev("u-one", "ad_clicked", 0),  # 1
        # optional: social_interaction -> ?email_opened -> checkout_started
        ev("o-direct", "social_interaction", 0),  # 1, 3
        ev("o-direct", "checkout_started", 10),
        ev("o-full", "social_interaction", 0),  # 1, 2, 3
        ev("o-full", "email_opened", 5),
        ev("o-full", "checkout_started", 10),
        ev("o-stop", "social_interaction", 0),  # 1, 2
        ev("o-stop", "email_opened", 5),
        ev("o-before", "email_opened", 0),  # 1, 3: the email came before step 1
        ev("o-before", "social_interaction", 5),
        ev("o-before", "checkout_started", 10),
    )
    t = territory()
    strict = funnel(t, "page_view", "product_added", "order_placed", window="1h", order="strict")
    # step 2: s-ok, s-retry, s-repeat, s-slow; step 3: s-ok, s-retry
    assert counts(strict) == [5, 4, 2]

    unordered = funnel(
        t, "ad_clicked", "form_submitted", "subscribed", window="1h", order="unordered"
    )
    assert counts(unordered) == [4, 3, 1]
    # the 1st -> 2nd step done: u-reverse 600, u-split 1800 (from its earliest best
    # window, at 0), u-pair 300 -> median 600; 2nd -> 3rd: u-reverse 600
    assert [s.median_seconds_from_previous for s in unordered.steps] == [None, 600, 600]

    optional = funnel(t, "social_interaction", "?email_opened", "checkout_started", window="1h")
    assert counts(optional) == [4, 2, 3]
    email, checkout = optional.steps[1], optional.steps[2]
    assert (email.optional, email.conversion_from_previous, email.dropped) == (True, 0.5, 2)
    # the step after an optional one converts from the step before it (4 social)
    assert (checkout.conversion_from_previous, checkout.dropped) == (0.75, 1)
    # email: 300, 300; checkout from the required step before it (social): o-direct 600,
    # o-full 600, o-before 300 (social at 5) -> median 600
    assert [s.median_seconds_from_previous for s in optional.steps] == [None, 300, 600]


# -- steps as touchpoints and rules, and many of them ------------------------------------
def test_touchpoint_and_rule_steps_and_twelve_steps(world: World, territory: MakeTerritory) -> None:
    # default map: social_ads is event == "ad_clicked", newsletter_signup is "subscribed"
    world.add(
        ev("t-big", "ad_clicked", 0),  # 3
        ev("t-big", "subscribed", 1),
        ev("t-big", "order_placed", 2, props={"total": 80}),
        ev("t-small", "ad_clicked", 0),  # 2: the order is not over 50
        ev("t-small", "subscribed", 1),
        ev("t-small", "order_placed", 2, props={"total": 30}),
        ev("t-late", "subscribed", 0),  # 1: the signup came before the ad
        ev("t-late", "ad_clicked", 1),
    )
    names = [f"s{k:02d}" for k in range(1, 13)]
    world.add(*[ev("m-all", name, k) for k, name in enumerate(names)])  # 12
    world.add(*[ev("m-gap", name, k) for k, name in enumerate(names) if name != "s07"])  # 6
    # the last step 61 minutes after the first: 11
    world.add(*[ev("m-late", name, 61 if name == "s12" else k) for k, name in enumerate(names)])
    t = territory()
    result = funnel(
        t,
        "touchpoint:social_ads",
        "touchpoint:newsletter_signup",
        "order_placed where properties.total > 50",
        window="1h",
    )
    assert counts(result) == [3, 2, 1]
    assert result.steps[2].step == "order_placed where properties.total > 50"
    assert counts(funnel(t, *names, window="1h")) == [3] * 6 + [2] * 5 + [1]


def test_any_number_of_steps_is_one_statement_and_at_most_one_sort(
    world: World, default_map: JourneyMap
) -> None:
    """However many steps: distinct event names on DuckDB are ASOF joins (no sort of their
    own); other ordered steps and strict funnels sort the profiles' events once."""
    world.add(*[ev("a", f"s{k:02d}", k) for k in range(1, 13)])
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    names = [f"s{k:02d}" for k in range(1, 13)]
    cases = [
        (names, "ordered", 11, 0),
        ([*names[:11], "s01"], "ordered", 0, 12),  # a repeated step: a count per step
        (names, "strict", 0, 1),
    ]
    for steps, order, asof, windows in cases:
        sql = str(ibis.to_sql(report(FunnelQuery(steps=steps, order=order), t), "duckdb"))
        assert (sql.count("ASOF"), sql.count("OVER (")) == (asof, windows), (steps, order)
        assert len(set(re.findall(r"OVER \((.*?)\)", sql, re.DOTALL))) <= 1  # one sort


# -- breakdown, trend ----------------------------------------------------------------------
def test_breakdown_trend_and_top_groups(world: World, territory: MakeTerritory) -> None:
    day = 24 * 60
    world.add(
        # a social visit that goes nowhere, then an email visit that converts: its best
        # attempt starts with the email visit
        ev("b1", "page_view", 0, channel="social"),
        ev("b1", "page_view", day, channel="email"),
        ev("b1", "order_placed", day + 10),
        ev("b2", "page_view", 0, channel="social"),  # social, converts
        ev("b2", "order_placed", 5),
        ev("b3", "page_view", 0, channel="social"),  # social
        ev("b4", "page_view", day, channel="email"),  # email
    )
    t = territory()
    result = funnel(t, "page_view", "order_placed", window="1h", by="channel", trend="day")
    # email: b1 (converted), b4; social: b2 (converted), b3; equal sizes: by name
    assert [(g.value, counts_of(g.steps)) for g in result.breakdown or []] == [
        ("email", [2, 1]),
        ("social", [2, 1]),
    ]
    assert counts(result) == [4, 2]
    # by the day of the first view: b1, b2, b3 on day 0 (b1 converts on day 1), b4 on day 1
    assert [(p.period, p.entered, p.converted, p.conversion) for p in result.trend or []] == [
        (T0.date(), 3, 2, 0.6667),
        ((T0 + timedelta(days=1)).date(), 1, 0, 0.0),
    ]
    # first touch is social for b1..b3, email for b4; top=1 keeps social, the rest is (other)
    first = funnel(t, "page_view", "order_placed", window="1h", by="first_touch", top=1)
    assert [(g.value, counts_of(g.steps)) for g in first.breakdown or []] == [
        ("social", [3, 2]),
        ("(other)", [1, 0]),
    ]


def counts_of(steps: Sequence[Any]) -> list[int]:
    return [s.profiles for s in steps]


# -- queries that cannot run ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": ["a"]}, "List should have at least 2 items"),
        ({"steps": ["a"] * 51}, "List should have at most 50 items"),
        ({"steps": ["a", "b"], "window": "0d"}, '"0d" is not a duration'),
        (
            {"steps": ["a", "b"], "window": "400d"},
            "the window must be more than 0 and at most 365 days",
        ),
        ({"steps": ["?a", "b"]}, "the first step cannot be optional"),
        (
            {"steps": ["a", "?b", "c"], "order": "unordered"},
            '"unordered" funnels have no optional steps (its rows count how many',
        ),
        (
            {"steps": ["a", "?b", "c"], "order": "strict"},
            '"strict" funnels have no optional steps (each step must be the very next event)',
        ),
        ({"steps": ["a", "b", "a"], "order": "unordered"}, '"a" is twice in an unordered funnel'),
        ({"steps": ["a", "b"], "dropped_at": 3}, "dropped_at is 3 but the funnel has 2 steps"),
        ({"steps": ["a", "b"], "dropped_at": 1}, "Input should be greater than or equal to 2"),
        ({"steps": ["a", "b"], "order": "sideways"}, "Input should be 'ordered', 'strict'"),
        ({"steps": ["a", "b"], "bogus": 1}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_query_says_what_is_wrong(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        FunnelQuery(**options)


def test_a_step_written_wrong_says_why() -> None:
    with pytest.raises(AnalyticsError, match='step "\\*" is any event: add a rule'):
        FunnelQuery(steps=["page_view", "*"])


def test_unknown_events_and_breakdowns(world: World, default_map: JourneyMap) -> None:
    world.add(ev("a", "checkout_started", 0), ev("a", "order_placed", 1))
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    with pytest.raises(
        UnknownEvent, match=r'"chekout_started" is not an event.*"checkout_started"'
    ):
        funnel(t, "chekout_started", "order_placed")
    with pytest.raises(AnalyticsError, match='"chanel" is not a breakdown; did you mean "channel"'):
        funnel(t, "checkout_started", "order_placed", by="chanel")
    assert counts(funnel(t, "checkout_started", "order_placed", window=3600)) == [1, 1]
    # the query's period bounds the events read: the order falls after `until`
    assert counts(funnel(t, "checkout_started", "order_placed", until=at(0.5))) == [1, 0]


# -- references ----------------------------------------------------------------------------
def random_events(seed: int, profiles: int, once: bool = False) -> list[Event]:
    """Second-resolution times in one minute (many ties), steps a..d and an interloper x,
    in a shuffled ingestion order. `once`: each of a..d at most once per profile."""
    rng = random.Random(seed)
    events: list[Event] = []
    for p in range(profiles):
        if once:
            names = [n for n in "abcd" if rng.random() < 0.8] + ["x"] * rng.randint(0, 3)
            rng.shuffle(names)
        else:
            names = [rng.choice("abcdx") for _ in range(rng.randint(1, 12))]
        for name in names:
            moment = T0 + timedelta(seconds=rng.randint(0, 60))
            events.append({"anon": f"r{p}", "event": name, "at": moment})
    rng.shuffle(events)
    return events


def windowfunnel(
    t: Territory, steps: Sequence[str], window: timedelta, mode: str = ""
) -> list[int]:
    """Per step, the profiles ClickHouse's windowFunnel takes to at least that step."""
    chdb = pytest.importorskip("chdb")
    table = t.engine.to_arrow(t.events().select("profile_id", "ts", "event"))
    events = table.append_column("us", table["ts"].cast(pa.int64()))  # noqa: F841 (read by chdb)
    conditions = ", ".join(f"ifNull(event, '') = '{s}'" for s in steps)
    micros = window // timedelta(microseconds=1)
    option = f", '{mode}'" if mode else ""
    levels = chdb.query(
        f"SELECT windowFunnel({micros}{option})(toUInt64(assumeNotNull(us)), {conditions}) "
        "AS level FROM Python(events) GROUP BY profile_id",
        "ArrowTable",
    )["level"].to_pylist()
    return [sum(1 for level in levels if level >= k) for k in range(1, len(steps) + 1)]


def test_ordered_equals_windowfunnel_on_random_data(
    world: World, territory: MakeTerritory, backend: str
) -> None:
    world.add(*random_events(seed=7, profiles=150))
    t = territory()
    cases = [
        (("a", "b", "c", "d"), timedelta(seconds=20)),
        (("b", "a", "d"), timedelta(seconds=10)),
        (("c", "x", "a", "b", "d"), timedelta(seconds=60)),
    ]
    for steps, window in cases[: 1 if backend == "spark" else None]:
        ours = counts(funnel(t, *steps, window=window))
        assert ours == windowfunnel(t, steps, window), steps
        assert ours[-1] > 0 and ours[1] < ours[0]  # the data reaches every step, not all do


def test_strict_equals_strict_order_when_each_step_happens_once(
    world: World, territory: MakeTerritory
) -> None:
    """ClickHouse's strict_order reads only the first attempt and lets an event of a step
    already reached repeat; with each step at most once per profile the two agree."""
    world.add(*random_events(seed=3, profiles=150, once=True))
    t = territory()
    window = timedelta(seconds=30)
    ours = counts(funnel(t, "a", "b", "c", "d", window=window, order="strict"))
    assert ours == windowfunnel(t, ("a", "b", "c", "d"), window, "strict_order")
    assert ours[2] > 0


def test_demo_equals_windowfunnel(demo_territory: Territory, backend: str) -> None:
    cases = [
        (("page_view", "product_viewed", "product_added", "order_placed"), timedelta(days=1)),
        (("page_view", "form_submitted", "order_placed"), timedelta(days=30)),
        (
            (
                "social_interaction",
                "page_view",
                "product_viewed",
                "product_added",
                "checkout_started",
                "order_placed",
                "order_completed",
                "invoice_issued",
                "payment_received",
                "email_delivered",
                "email_opened",
                "email_clicked",
            ),
            timedelta(days=365),
        ),
    ]
    for steps, window in cases[: 1 if backend == "spark" else None]:
        ours = counts(funnel(demo_territory, *steps, window=window))
        assert ours == windowfunnel(demo_territory, steps, window), steps
        assert ours[len(ours) // 2] > 0  # the demo gets past the middle step


def test_the_plain_funnel_walked_here_equals_the_engine_query(
    world: World, default_map: JourneyMap
) -> None:
    """On DuckDB the plain ordered funnel of distinct event names is read in path order and
    walked in this process (`funnel_local`); asked with a trend, the same query is the
    engine's. The steps agree after late events (three batches resolved in turn, so the kept
    order of paths already stored moved) and a merge (two visitors found to be one person);
    read sorted by the engine (rows out of storage order since), read in storage order (the
    table stored in path order again), and when the count of rows out of order is wrong."""
    events = random_events(seed=5, profiles=150)
    for batch in (events[::3], events[1::3], events[2::3]):
        world.add(*batch)
        world.update()
    inside = T0 + timedelta(seconds=30)
    world.add(
        {"anon": "r1", "user": "u", "event": "x", "at": inside},
        {"anon": "r2", "user": "u", "event": "x", "at": inside},
    )
    world.update()

    def check(state: str) -> None:
        cases: list[tuple[dict[str, Any], datetime]] = [
            ({"steps": ["a", "b", "c", "d"], "window": "20s"}, LATER),
            ({"steps": ["b", "a", "d"], "window": "10s"}, LATER),
            ({"steps": ["a", "?b", "c", "d"], "window": "30s"}, LATER),
            ({"steps": ["a", "?b", "?c", "d"], "window": "15s"}, LATER),
            ({"steps": ["a", "b", "c", "?d"], "window": "40s"}, LATER),
            (
                {"steps": ["x", "a", "b", "d"], "window": "60s"}
                | {"since": T0 + timedelta(seconds=5), "until": T0 + timedelta(seconds=50)},
                LATER,
            ),
            ({"steps": ["a", "b", "c"], "window": "20s"}, inside),  # an as-of inside the paths
        ]
        for fields, as_of in cases:
            t = Territory(world.warehouse, default_map, as_of)
            query = FunnelQuery(**fields)
            assert funnel_local.applies(query, t), fields
            here = run(query, t)
            engine = run(FunnelQuery(**fields, trend="day"), t)
            assert here.steps == engine.steps, (state, fields)
            assert here.steps[-1].profiles > 0, fields  # the data reaches the last step
            assert here.steps[1].profiles < here.steps[0].profiles, fields  # not everyone does
            assert here.steps[1].median_seconds_from_previous is not None, fields

    scan = world.warehouse.ibis.table("profile_events").select("profile_id")
    count = "UPDATE identity_state SET value = ? WHERE key = ?"
    assert world.warehouse.in_storage_order(scan) is None  # the merge's rows are out of order
    for state in ("sorted by the engine", "count says in order, it is not", "stored in order"):
        if state == "count says in order, it is not":
            world.warehouse.raw.execute(count, ["0", PATH_ORDER_KEY])
            assert world.warehouse.in_storage_order(scan) is not None
        elif state == "stored in order":
            world.warehouse.raw.execute(count, ["1000000", PATH_ORDER_KEY])
            world.update()  # nothing new; the count asks for the table stored in order
            assert world.warehouse.in_storage_order(scan) is not None
        check(state)
    t = Territory(world.warehouse, default_map, LATER)
    for steps, order in [
        (["a", "b", "a"], "ordered"),  # a repeated step
        (["a", "b where properties.x == 1"], "ordered"),  # a rule
        (["a", "touchpoint:form_contatti"], "ordered"),  # a touchpoint
        (["a", "b"], "strict"),
        (["a", "b"], "unordered"),
    ]:
        query = FunnelQuery(steps=steps, order=order)
        assert not funnel_local.applies(query, t), steps
    plain = FunnelQuery(steps=["a", "b"])
    assert funnel_local.applies(plain, t)
    for asked in ({"by": "channel"}, {"trend": "week"}, {"dropped_at": 2}):
        assert not funnel_local.applies(plain.model_copy(update=asked), t), asked


def test_a_path_stored_out_of_order_is_never_walked_so(
    world: World, default_map: JourneyMap
) -> None:
    """An early event that came late is appended after its profile's other rows. When that
    profile sorts last, the profiles still look grouped in storage order: only the path
    positions show the rows are not in path order, and the walk must not trust them."""
    world.add(
        *[
            {"anon": f"r{p}", "event": e, "at": T0 + timedelta(seconds=s)}
            for p in range(10)
            for e, s in (("b", 10), ("c", 20))
        ]
    )
    world.update()
    last = max(world.profile_id("anonymous_id", f"r{p}") for p in range(10))
    [[anon]] = world.warehouse.query(
        "SELECT value FROM identity_nodes WHERE profile_id = ? AND kind = 'anonymous_id'", [last]
    )
    world.add({"anon": anon, "event": "a", "at": T0 + timedelta(seconds=5)})
    world.update()
    world.warehouse.raw.execute(
        "UPDATE identity_state SET value = '0' WHERE key = ?", [PATH_ORDER_KEY]
    )
    scan = world.warehouse.ibis.table("profile_events").select("profile_id", "pos")
    stored = world.warehouse.in_storage_order(scan)
    assert stored is not None and stored["profile_id"].to_pylist()[-3:] == [last] * 3
    assert stored["pos"].to_pylist()[-3:] == [1, 2, 0]
    t = Territory(world.warehouse, default_map, LATER)
    result = run(FunnelQuery(steps=["a", "b", "c"], window="1m"), t)
    assert [s.profiles for s in result.steps] == [1, 1, 1]


Rule = Callable[[str], bool]
RULES: dict[str, tuple[str, Rule]] = {
    "a": ("a", lambda e: e == "a"),
    "b": ("b", lambda e: e == "b"),
    "c": ("c", lambda e: e == "c"),
    "d": ("d", lambda e: e == "d"),
    "ab": ('* where event in ["a", "b"]', lambda e: e in "ab"),
    "bc": ('* where event in ["b", "c"]', lambda e: e in "bc"),
    "any": ('* where event != "zzz"', lambda e: True),
}


def brute_force(
    rows: list[dict[str, Any]],
    steps: Sequence[str],
    optional: Sequence[bool],
    window: timedelta,
    order: str,
) -> dict[str, tuple[bool, ...]]:
    """funnel_reach's definitions, searched exhaustively per profile."""
    by_profile: dict[str, list[tuple[datetime, int, str]]] = {}
    for r in rows:
        by_profile.setdefault(r["profile_id"], []).append((r["ts"], r["seq"], r["event"]))
    rules = [RULES[s][1] for s in steps]
    out = {}
    for profile, events in by_profile.items():

        def first_step(e: str) -> int:
            return next((i for i, rule in enumerate(rules, 1) if rule(e)), 0)

        if order == "unordered":
            level = max(
                (
                    sum(
                        any(rule(e2) and ts <= t2 <= ts + window for t2, _, e2 in events)
                        for rule in rules
                    )
                    for ts, _, e in events
                    if first_step(e)
                ),
                default=0,
            )
            result = tuple(level >= k for k in range(1, len(steps) + 1))
        else:
            events.sort(key=lambda x: (x[0], first_step(x[2]), x[1]))
            result = tuple(
                _chain_exists(events, rules, optional, j, window, order)
                for j in range(1, len(steps) + 1)
            )
        if result[0]:
            out[profile] = result
    return out


def _chain_exists(
    events: list[tuple[datetime, int, str]],
    rules: Sequence[Rule],
    optional: Sequence[bool],
    j: int,
    window: timedelta,
    order: str,
) -> bool:
    """A chain to step j: the required steps before it, then j (an optional step is never
    needed), each its own event, in order, within the window; strict: consecutive events."""
    path = [i for i in range(1, j) if not optional[i - 1]] + [j]
    for start in range(len(events)):
        if order == "strict":
            run_ = events[start : start + len(path)]
            matches = all(rules[s - 1](e[2]) for s, e in zip(path, run_, strict=False))
            if len(run_) == len(path) and matches and run_[-1][0] - run_[0][0] <= window:
                return True
            continue
        if not rules[path[0] - 1](events[start][2]):
            continue
        position = start
        for s in path[1:]:  # the earliest next event of each step is the best
            found = [q for q in range(position + 1, len(events)) if rules[s - 1](events[q][2])]
            if not found:
                break
            position = found[0]
        else:
            if events[position][0] - events[start][0] <= window:
                return True
    return False


@pytest.mark.parametrize(
    ("order", "steps", "optional"),
    [
        ("ordered", ("a", "b", "c"), (False, False, False)),
        ("ordered", ("a", "a", "b"), (False, False, False)),
        ("ordered", ("ab", "bc", "c", "d"), (False, False, False, False)),
        ("ordered", ("a", "any", "b"), (False, False, False)),
        ("ordered", ("a", "b", "c", "d"), (False, True, False, False)),
        ("ordered", ("a", "b", "c", "d"), (False, True, True, False)),
        ("ordered", ("a", "b", "c", "d"), (False, False, False, True)),
        ("strict", ("a", "b", "c"), (False, False, False)),
        ("strict", ("ab", "bc", "c"), (False, False, False)),
        ("unordered", ("a", "b", "c", "d"), (False, False, False, False)),
        ("unordered", ("ab", "bc", "d"), (False, False, False)),
    ],
)
def test_reach_equals_brute_force(
    world: World,
    default_map: JourneyMap,
    order: str,
    steps: tuple[str, ...],
    optional: tuple[bool, ...],
) -> None:
    world.add(*random_events(seed=11, profiles=120))
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    window = timedelta(seconds=15)
    query = FunnelQuery(steps=[RULES[s][0] for s in steps], window=window, order=order)
    table = t.events()
    plain = set(steps) <= {"a", "b", "c", "d"} and len(set(steps)) == len(steps)
    per = reach(
        table,
        [s.condition(table, t) for s in query.steps],
        list(optional),
        window,
        query.order,
        distinct_events=plain,  # on DuckDB: the ASOF joins, else the window pass and joins
    )
    ours = {
        r["profile_id"]: tuple(r[reached(k)] for k in range(1, len(steps) + 1)) for r in t.rows(per)
    }
    rows = t.rows(table.select("profile_id", "ts", "seq", "event"))
    expected = brute_force(rows, steps, optional, window, order)
    assert ours == expected
    assert len({v for v in expected.values()}) >= 3  # the data tells the cases apart
    if order == "ordered" and plain:  # walked in this process (funnel_local) too
        walked = FunnelQuery(
            steps=[Step(event=s, optional=o) for s, o in zip(steps, optional, strict=True)],
            window=window,
        )
        assert funnel_local.applies(walked, t)
        totals = [sum(v[k] for v in expected.values()) for k in range(len(steps))]
        assert counts(run(walked, t)) == totals
