"""Attribution: every model's credits on journeys worked out by hand, the lookback's edges,
the Markov removal effects against an exact solution in fractions, and the whole demo
against a plain-Python reading of the same rules."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import T0, World

from percorso.analytics import markov
from percorso.analytics.attribution import (
    MARKETING,
    MODELS,
    AttributionQuery,
    AttributionResult,
    run,
)
from percorso.analytics.territory import AnalyticsError, Territory, UnknownEvent
from percorso.journey.model import JourneyMap
from percorso.warehouse.store import Warehouse

DAY = 1440  # minutes


def credits(result: AttributionResult) -> dict[str, dict[str, float]]:
    """model -> name -> conversions credited, leaving out the names a model gave nothing."""
    return {
        m.model: {c.name: c.conversions for c in m.credits if c.conversions} for m in result.models
    }


def approx(expected: Mapping[str, float | Fraction]) -> Any:
    return pytest.approx({k: float(v) for k, v in expected.items()}, abs=1e-4)


def test_every_model_on_journeys_worked_by_hand(world: World, territory: MakeTerritory) -> None:
    world.add(
        # a1: social, email, search, then orders 100 (1, 2 and 3 days after them).
        {"anon": "a1", "event": "page_viewed", "channel": "social", "at": 0},
        {"anon": "a1", "event": "page_viewed", "channel": "email", "at": DAY},
        {"anon": "a1", "event": "page_viewed", "channel": "search", "at": 2 * DAY},
        {"anon": "a1", "event": "order_completed", "at": 3 * DAY, "props": {"total": 100}},
        # a2: search, orders 50.
        {"anon": "a2", "event": "page_viewed", "channel": "search", "at": 0},
        {"anon": "a2", "event": "order_completed", "at": DAY, "props": {"total": 50}},
        # a3: only direct visits (no touch), orders 30.
        {"anon": "a3", "event": "page_viewed", "at": 0},
        {"anon": "a3", "event": "order_completed", "at": 10, "props": {"total": 30}},
        # a4: email twice in a row (one touch, at the latest), social, orders 20.
        {"anon": "a4", "event": "page_viewed", "channel": "email", "at": 0},
        {"anon": "a4", "event": "page_viewed", "channel": "email", "at": DAY},
        {"anon": "a4", "event": "page_viewed", "channel": "social", "at": 2 * DAY},
        {"anon": "a4", "event": "order_completed", "at": 3 * DAY, "props": {"total": 20}},
        # a5: paid, and no order: a journey that did not convert.
        {"anon": "a5", "event": "page_viewed", "channel": "paid", "at": 0},
        # a crm event is no marketing touch.
        {"anon": "a1", "event": "contact_created", "channel": "crm", "at": 3 * DAY - 1},
    )
    query = AttributionQuery.model_validate(
        {"conversion": "order_completed", "half_life": "1d", "value": "properties.total"}
    )
    result = run(query, territory())
    assert (result.conversions, result.touched, result.value) == (4, 3, 200.0)
    # Paths: a1 [social, email, search], a2 [search], a4 [email, social] (the two emails
    # merged: email at day 1, age 2 days); a3 has none and goes to (none).
    # time_decay (half-life 1 day), weights 2^-age: a1 1/4, 1/2, 1 -> 1/7, 2/7, 4/7;
    # a4 email 1/2, social 1 -> 1/3, 2/3.
    # position_based (0.4, 0.4): a1 0.4, 0.2, 0.4; a4 0.5, 0.5; a2 1.
    # markov: start -> social, search, email, paid (1/4 each); social -> email 1/2, conv 1/2;
    # email -> search 1/2, social 1/2; search -> conv; paid -> null. So search = 1,
    # social = email = 1 and P = 3/4. Without social: email = 1/2, P = 3/8, effect 1/2.
    # Without email: social = 1/2, P = 3/8, effect 1/2. Without search: social = 1/2 email
    # + 1/2, email = 1/2 social -> social 2/3, email 1/3, P = 1/4, effect 2/3. Without paid:
    # 0. Shares 3/10, 3/10, 4/10 of the 3 touched conversions.
    assert credits(result) == {
        "first_touch": approx({"social": 1, "email": 1, "search": 1, "(none)": 1}),
        "last_touch": approx({"search": 2, "social": 1, "(none)": 1}),
        "linear": approx(
            {
                "social": Fraction(1, 3) + Fraction(1, 2),
                "email": Fraction(1, 3) + Fraction(1, 2),
                "search": Fraction(4, 3),
                "(none)": 1,
            }
        ),
        "time_decay": approx(
            {
                "social": Fraction(1, 7) + Fraction(2, 3),
                "email": Fraction(2, 7) + Fraction(1, 3),
                "search": Fraction(11, 7),
                "(none)": 1,
            }
        ),
        "position_based": approx({"social": 0.9, "email": 0.7, "search": 1.4, "(none)": 1}),
        "markov": approx({"social": 0.9, "email": 0.9, "search": 1.2, "(none)": 1}),
    }
    assert (result.conversion_probability, result.journeys) == (0.75, 4)
    by_model = {m.model: {c.name: c for c in m.credits} for m in result.models}
    markov_credit = by_model["markov"]
    effects = {n: c.removal_effect for n, c in markov_credit.items()}
    assert effects.pop("(none)") is None  # no state of the chain
    assert effects == approx({"social": 0.5, "email": 0.5, "search": Fraction(2, 3), "paid": 0})
    # Value: linear a1 100/3 each, a2 50 to search, a4 10 each, a3 30 to (none).
    linear = by_model["linear"]
    assert {n: c.value for n, c in linear.items()} == {
        "social": 43.33,
        "email": 43.33,
        "search": 83.33,
        "(none)": 30.0,
        "paid": 0.0,
    }
    assert linear["search"].share == pytest.approx(Fraction(4, 3) / 4, abs=1e-4)
    # Markov value: the touched value (170) by the shares; (none) keeps a3's 30.
    assert {n: c.value for n, c in markov_credit.items()} == {
        "social": 51.0,
        "email": 51.0,
        "search": 68.0,
        "(none)": 30.0,
        "paid": 0.0,
    }


def test_the_lookback_its_edges_and_first_conversions_only(
    world: World, territory: MakeTerritory
) -> None:
    world.add(
        # b1: search 30 days + 1 minute before (out), social exactly 30 days before (in),
        # email at the order's very moment but ingested before it (in); paid at the same
        # moment after it (out of order 1); then a second order a day later.
        {"anon": "b1", "event": "page_viewed", "channel": "search", "at": 0},
        {"anon": "b1", "event": "page_viewed", "channel": "social", "at": 1},
        {"anon": "b1", "event": "page_viewed", "channel": "email", "at": 30 * DAY + 1},
        {"anon": "b1", "event": "order_completed", "at": 30 * DAY + 1},
        {"anon": "b1", "event": "page_viewed", "channel": "paid", "at": 30 * DAY + 1},
        {"anon": "b1", "event": "order_completed", "at": 31 * DAY + 1},
    )
    t = territory()
    every = run(AttributionQuery.model_validate({"conversion": "order_completed"}), t)
    # Order 1: [social, email]. Order 2 looks back on its own (from day 1 + 1 minute, so
    # without social): the email serves it too, then paid: [email, paid].
    assert credits(every)["first_touch"] == approx({"social": 1, "email": 1})
    assert credits(every)["last_touch"] == approx({"email": 1, "paid": 1})
    assert credits(every)["linear"] == approx({"social": 0.5, "email": 1, "paid": 0.5})
    first = run(
        AttributionQuery.model_validate(
            {
                "conversion": "order_completed",
                "all_conversions": False,
                "lookback": "1h",
                "models": ["last_touch"],
            }
        ),
        t,
    )
    # Only order 1; an hour back holds the email alone.
    assert (first.conversions, credits(first)["last_touch"]) == (1, approx({"email": 1}))


@pytest.mark.parametrize(
    ("touches", "weights", "expected"),
    [
        (["social"], (0.4, 0.4), {"social": 1}),
        (["social", "email"], (0.4, 0.4), {"social": 0.5, "email": 0.5}),
        (["social", "email"], (0.3, 0.5), {"social": 0.375, "email": 0.625}),
        (["social", "email", "search"], (0.4, 0.4), {"social": 0.4, "email": 0.2, "search": 0.4}),
        (
            ["social", "email", "search", "paid"],
            (0.3, 0.5),
            {"social": 0.3, "email": 0.1, "search": 0.1, "paid": 0.5},
        ),
        (["social", "email", "social"], (0.5, 0.5), {"social": 1}),
    ],
)
def test_position_based_with_one_two_and_more_touches(
    world: World,
    default_map: JourneyMap,
    touches: list[str],
    weights: tuple[float, float],
    expected: dict[str, float],
) -> None:
    world.add(
        *[{"anon": "c1", "channel": ch, "at": i} for i, ch in enumerate(touches)],
        {"anon": "c1", "event": "order_completed", "at": len(touches)},
    )
    world.update()
    query = AttributionQuery.model_validate(
        {"conversion": "order_completed", "models": ["position_based"], "position_weights": weights}
    )
    result = run(query, Territory(world.warehouse, default_map, LATER))
    assert credits(result)["position_based"] == approx(expected)


def test_touchpoints_are_the_maps_and_a_rule_picks_the_conversions(
    world: World, territory: MakeTerritory
) -> None:
    world.add(
        {"anon": "d1", "event": "ad_clicked", "channel": "social", "at": 0},  # social_ads
        {"anon": "d1", "event": "page_viewed", "channel": "social", "at": 1},  # no touchpoint
        {"anon": "d1", "event": "email_opened", "channel": "email", "at": 2},  # marketing_email
        {"anon": "d1", "event": "order_completed", "at": 3, "props": {"total": 80}},
        {"anon": "d2", "event": "ad_clicked", "channel": "social", "at": 0},
        {"anon": "d2", "event": "order_completed", "at": 3, "props": {"total": 20}},  # too small
    )
    query = AttributionQuery.model_validate(
        {
            "conversion": "order_completed where properties.total > 50",
            "level": "touchpoint",
            "models": ["first_touch", "linear", "markov"],
        }
    )
    result = run(query, territory())
    # d1 converts after [social_ads, marketing_email]; d2's order is no conversion, so its
    # ad is a journey that did not convert. start -> social_ads; social_ads ->
    # marketing_email 1/2, null 1/2; marketing_email -> conversion: P = 1/2. Without either
    # touchpoint P is 0 (effect 1 each): 0.5 each of the one conversion.
    assert result.conversion == "order_completed where properties.total > 50"
    assert credits(result) == {
        "first_touch": approx({"social_ads": 1}),
        "linear": approx({"social_ads": 0.5, "marketing_email": 0.5}),
        "markov": approx({"social_ads": 0.5, "marketing_email": 0.5}),
    }
    assert result.conversion_probability == 0.5


# --- Markov: the implementation's numpy solve against exact fractions ------------------


def absorption(counts: Mapping[tuple[str, str], int], removed: str | None = None) -> Fraction:
    """P(conversion from (start)) by Gauss-Jordan elimination in fractions."""
    states = sorted({s for s, _ in counts} | {d for _, d in counts})
    transient = [s for s in states if s not in (markov.CONVERSION, markov.NULL)]
    out = {s: sum(n for (a, _), n in counts.items() if a == s) for s in transient}
    index = {s: i for i, s in enumerate(transient)}
    size = len(transient)
    # Rows of [I - Q | r].
    rows = [[Fraction(int(i == j)) for j in range(size)] + [Fraction(0)] for i in range(size)]
    for (a, b), n in counts.items():
        p = Fraction(n, out[a])
        if b == markov.CONVERSION:
            rows[index[a]][size] += p
        elif b != markov.NULL and b != removed:
            rows[index[a]][index[b]] -= p
    for col in range(size):
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [v - factor * w for v, w in zip(rows[r], rows[col], strict=True)]
    return rows[index[markov.START]][size]


def count_moves(paths: Iterable[tuple[list[str], bool]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for names, converted in paths:
        states = [markov.START, *names, markov.CONVERSION if converted else markov.NULL]
        for move in itertools.pairwise(states):
            counts[move] = counts.get(move, 0) + 1
    return counts


@pytest.mark.parametrize(
    "paths",
    [
        # A loop (email <-> social), a dead channel and a channel on both kinds of path.
        [
            (["social", "email", "social", "search"], True),
            (["email", "social"], True),
            (["search"], False),
            (["email", "search", "email"], False),
            (["paid", "email"], True),
            (["paid"], False),
            (["referral"], False),
        ],
        # Nothing converts: every effect is 0.
        [(["social"], False), (["email", "social"], False)],
        # One channel carries everything.
        [(["email"], True), (["email"], False)],
    ],
)
def test_removal_effects_match_an_exact_solution(paths: list[tuple[list[str], bool]]) -> None:
    counts = count_moves(paths)
    found = markov.removal_effects(counts)
    base = absorption(counts)
    assert found.conversion_probability == pytest.approx(float(base))
    channels = {n for names, _ in paths for n in names}
    expected = {c: (1 - absorption(counts, c) / base) if base else Fraction(0) for c in channels}
    assert found.effects == approx(expected)


# --- The demo against a plain-Python reading of the rules ------------------------------


def reference(
    territory: Territory, query: AttributionQuery
) -> tuple[dict[str, dict[str, float]], float]:
    """Every model's credits and the chain's conversion probability, computed one
    conversion at a time in Python from the raw labelled events."""
    t = territory.labelled()
    rows = territory.rows(
        t.select("profile_id", "ts", "seq", "event", "channel", "touchpoint").order_by(
            ["profile_id", "ts", "seq"]
        )
    )
    assert query.conversion.event is not None and query.conversion.where is None
    journeys: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        journeys.setdefault(r["profile_id"], []).append(r)
    got: dict[str, dict[str, float]] = {m: {} for m in MODELS}
    paths: list[tuple[list[str], bool]] = []

    def add(model: str, name: str, credit: float) -> None:
        got[model][name] = got[model].get(name, 0.0) + credit

    def touch_name(r: dict[str, Any]) -> str | None:
        if r["event"] == query.conversion.event or r["channel"] not in query.channels:
            return None
        return r["touchpoint"] if query.level == "touchpoint" else r["channel"]

    def merged(touches: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
        return [
            x for i, x in enumerate(touches) if i + 1 == len(touches) or touches[i + 1][1] != x[1]
        ]

    epoch = datetime(1970, 1, 1)
    for events in journeys.values():
        orders = [i for i, r in enumerate(events) if r["event"] == query.conversion.event]
        if not query.all_conversions:
            orders = orders[:1]
        for i in orders:
            at = events[i]["ts"]
            touches = merged(
                [
                    (r["ts"], name)
                    for r in events[:i]
                    if (name := touch_name(r)) and r["ts"] >= at - query.lookback
                ]
            )
            if not touches:
                for model in MODELS:
                    add(model, "(none)", 1.0)
                continue
            paths.append(([name for _, name in touches], True))
            n = len(touches)
            ages = [
                math.floor((at - epoch).total_seconds()) - math.floor((ts - epoch).total_seconds())
                for ts, _ in touches
            ]
            weights = [2 ** (-a / query.half_life.total_seconds()) for a in ages]
            first, last = query.position_weights
            for k, (_, name) in enumerate(touches):
                add("first_touch", name, float(k == 0))
                add("last_touch", name, float(k == n - 1))
                add("linear", name, 1 / n)
                add("time_decay", name, weights[k] / sum(weights))
                if n == 1:
                    position = 1.0
                elif n == 2:
                    position = (first if k == 0 else last) / (first + last)
                else:
                    position = (
                        first if k == 0 else last if k == n - 1 else (1 - first - last) / (n - 2)
                    )
                add("position_based", name, position)
        after = orders[-1] + 1 if orders else 0
        if not query.all_conversions and orders:
            continue
        rest = [(r["ts"], name) for r in events[after:] if (name := touch_name(r))]
        if rest:
            end = rest[-1][0]
            lost = merged([x for x in rest if x[0] >= end - query.lookback])
            paths.append(([name for _, name in lost], False))
    counts = count_moves(paths)
    base = absorption(counts)
    effects = {c: 1 - absorption(counts, c) / base for c in {n for p, _ in paths for n in p}}
    total = sum(effects.values())
    touched = sum(1 for _, converted in paths if converted)
    got["markov"] = {c: float(e / total * touched) for c, e in effects.items()}
    if "(none)" in got["first_touch"]:
        got["markov"]["(none)"] = got["first_touch"]["(none)"]
    return got, float(base)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"level": "touchpoint", "lookback": "14d"},
        {"all_conversions": False, "channels": [*MARKETING, "direct"], "half_life": "2d"},
    ],
    ids=["defaults", "touchpoints-14d", "first-only-with-direct"],
)
def test_the_demo_matches_a_plain_python_reading(
    demo_warehouse: Warehouse, default_map: JourneyMap, fields: dict[str, Any]
) -> None:
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    territory = Territory(demo_warehouse, default_map, last)
    query = AttributionQuery.model_validate(
        {"conversion": "order_completed", "value": "properties.total", **fields}
    )
    result = run(query, territory)
    expected, probability = reference(territory, query)
    assert result.conversions > 20 and result.touched > 10  # the demo has something to say
    got = credits(result)
    for model in MODELS:
        want = {k: v for k, v in expected[model].items() if round(v, 4)}
        assert got[model] == pytest.approx(want, abs=2e-4), model
        # Each model shares out exactly the conversions, and their value.
        found = next(m for m in result.models if m.model == model)
        assert sum(c.conversions for c in found.credits) == pytest.approx(
            result.conversions, abs=1e-2
        )
        assert sum(c.value or 0 for c in found.credits) == pytest.approx(result.value, abs=0.1)
    assert result.conversion_probability == pytest.approx(probability, abs=1e-4)


# --- Queries that cannot run ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"position_weights": [0.7, 0.5]}, "each at least 0, together more than 0 and at most 1"),
        ({"position_weights": [0, 0]}, "together more than 0"),
        ({"models": ["linear", "linear"]}, "name each model once"),
        ({"models": []}, "at least 1 item"),
        ({"models": ["shapley"]}, "'first_touch', 'last_touch', 'linear'"),
        ({"channels": ["tv"]}, "'social', 'search', 'email'"),
        ({"channels": ["email", "email"]}, "name each channel once"),
        ({"lookback": "0d"}, '"0d" is not a duration: write a number and a unit'),
        ({"lookback": "3 months"}, '"3 months" is not a duration'),
        ({"lookback": "5000d"}, "lookback must be between 1 second and 3650 days"),
        ({"half_life": 0}, "half_life must be between 1 second and 3650 days"),
        (
            {"value": "total"},
            'value "total" is not a property path: write one such as properties.total',
        ),
        ({"value": "properties."}, "is not a property path"),
        ({"level": "campaign"}, "'channel' or 'touchpoint'"),
    ],
)
def test_a_query_that_makes_no_sense_says_why(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AttributionQuery.model_validate({"conversion": "order_completed", **fields})


def test_an_unknown_or_optional_conversion_says_what_to_do(
    world: World, default_map: JourneyMap
) -> None:
    world.add({"anon": "e1", "event": "order_completed", "at": 0})
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    with pytest.raises(UnknownEvent, match=re.escape('did you mean "order_completed"?')):
        run(AttributionQuery.model_validate({"conversion": "order_complete"}), t)
    with pytest.raises(AnalyticsError, match=re.escape('cannot be optional: drop the "?"')):
        run(AttributionQuery.model_validate({"conversion": "?order_completed"}), t)
    with pytest.raises(AnalyticsError, match="is not a touchpoint of the journey map"):
        run(AttributionQuery.model_validate({"conversion": "touchpoint:ordine"}), t)
    query = AttributionQuery.model_validate(
        {"conversion": "order_completed", "lookback": timedelta(hours=3)}
    )
    assert query.lookback == timedelta(hours=3)
    # A period with no conversion: every model answers, with nothing to share out.
    world.add({"anon": "e1", "channel": "email", "at": 5})
    world.update()
    later = run(
        query, Territory(world.warehouse, default_map, LATER, since=T0 + timedelta(minutes=1))
    )
    assert (later.conversions, later.touched, later.journeys) == (0, 0, 1)
    assert [
        (m.model, [(c.name, c.conversions, c.share) for c in m.credits]) for m in later.models
    ] == [(model, [("email", 0.0, 0.0)]) for model in MODELS]  # every model lists every name
