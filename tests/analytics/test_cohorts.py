"""Cohorts, retention and lifecycle: hand-counted edge cases on both engines, and the same
tables as a plain pandas computation on random and demo data."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import T0, World

from percorso.analytics import periods
from percorso.analytics.cohorts import RetentionQuery, RetentionResult, run
from percorso.analytics.periods import Period
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalyticsError, Territory, UnknownEvent
from percorso.journey.model import JourneyMap

# Weeks (Monday) of the hand-built world.
W0, W1, W2, W3, W4, W5 = (date(2026, 2, 23) + timedelta(weeks=n) for n in range(6))
END = datetime(2026, 4, 5, 12)  # Sunday of W5: W5 is the period still running


def _edge_world(world: World) -> None:
    world.add(
        # a: the last microsecond of Sunday (W0), then Monday midnight (W1).
        {"anon": "a", "at": datetime(2026, 3, 1, 23, 59, 59, 999999), "channel": "social"},
        {"anon": "a", "at": datetime(2026, 3, 2)},
        # b: W0 and W2, a gap in W1: dormant in W1, resurrecting in W2.
        {"anon": "b", "at": datetime(2026, 2, 24, 10)},
        {"anon": "b", "at": datetime(2026, 3, 10, 10)},
        # c: W1, an order in W2, W3.
        {"anon": "c", "at": datetime(2026, 3, 3, 10)},
        {"anon": "c", "event": "order_completed", "at": datetime(2026, 3, 10, 11)},
        {"anon": "c", "at": datetime(2026, 3, 17, 10)},
        # d: the last microsecond of March and the first of April, both in W5.
        {"anon": "d", "at": datetime(2026, 3, 31, 23, 59, 59, 999999)},
        {"anon": "d", "at": datetime(2026, 4, 1)},
    )


def _retained(result: RetentionResult) -> dict[tuple[date, str | None], list[int]]:
    return {(c.cohort, c.group): c.retained for c in result.cohorts}


def _lifecycle(result: RetentionResult) -> list[tuple[date, int, int, int, int]]:
    return [(p.period, p.new, p.returning, p.resurrecting, p.dormant) for p in result.lifecycle]


def test_weeks_months_gaps_and_a_cohort_step_counted_by_hand(
    world: World, territory: MakeTerritory
) -> None:
    _edge_world(world)
    t = territory(as_of=END)

    weekly = run(RetentionQuery(period="week", periods=4), t)
    assert weekly.current_period == W5
    # W0: a, b; W1: c; W5: d (its cohort has only begun, so one period).
    assert _retained(weekly) == {
        (W0, None): [2, 1, 1, 0, 0],
        (W1, None): [1, 1, 1, 0, 0],
        (W5, None): [1],
    }
    assert [c.size for c in weekly.cohorts] == [2, 1, 1]
    assert weekly.cohorts[0].retention == [1.0, 0.5, 0.5, 0.0, 0.0]
    # k=0: 4/4; k>=1 over the cohorts W0 and W1 (3 profiles): 2/3, 2/3, 0, 0.
    assert weekly.overall.average == [1.0, 0.6667, 0.6667, 0.0, 0.0]
    # Of a, b, c active at k=0, a and c are active at k=1; of a, c at k=1 only c at
    # k=2; b and c at k=2 are gone at k=3; nobody is active at k=3.
    assert weekly.overall.churn == [0.3333, 0.5, 1.0, None]
    assert _lifecycle(weekly) == [
        (W0, 2, 0, 0, 0),  # a, b new
        (W1, 1, 1, 0, -1),  # c new, a returning, b dormant
        (W2, 0, 1, 1, -1),  # c returning, b resurrecting, a dormant
        (W3, 0, 1, 0, -1),  # c returning, b dormant
        (W4, 0, 0, 0, -1),  # c dormant
        (W5, 1, 0, 0, 0),  # d new
    ]

    monthly = run(RetentionQuery(period="month", periods=4), t)
    # February: b (again in March); March: a, c, d (d again in April).
    assert _retained(monthly) == {
        (date(2026, 2, 1), None): [1, 1, 0],
        (date(2026, 3, 1), None): [3, 1],
    }
    assert _lifecycle(monthly) == [
        (date(2026, 2, 1), 1, 0, 0, 0),
        (date(2026, 3, 1), 3, 1, 0, 0),
        (date(2026, 4, 1), 0, 1, 0, -3),
    ]

    # A cohort by a step: c's first order (W2); c's W1 visit is before its cohort.
    ordered = run(RetentionQuery(period="week", periods=4, cohort=Step.parse("order_completed")), t)
    assert _retained(ordered) == {(W2, None): [1, 1, 0, 0]}
    assert ordered.cohort == "order_completed" and ordered.returning == "*"
    # Returning only with an order: nobody orders twice.
    again = run(
        RetentionQuery(
            period="week",
            periods=4,
            cohort=Step.parse("order_completed"),
            returning=Step.parse("order_completed"),
            lifecycle=False,
        ),
        t,
    )
    assert _retained(again) == {(W2, None): [1, 0, 0, 0]}
    assert again.lifecycle == []

    # Split by the channel of the event that put each profile in its cohort.
    split = run(RetentionQuery(period="week", periods=2, by="channel", lifecycle=False), t)
    assert _retained(split) == {
        (W0, "direct"): [1, 0, 1],
        (W0, "social"): [1, 1, 0],
        (W1, "direct"): [1, 1, 1],
        (W5, "direct"): [1],
    }
    assert [(g.group, g.size, g.average) for g in split.groups] == [
        ("direct", 3, [1.0, 0.5, 1.0]),
        ("social", 1, [1.0, 1.0, 0.0]),
    ]


def test_since_reports_later_cohorts_without_making_old_profiles_new(
    world: World, territory: MakeTerritory
) -> None:
    _edge_world(world)
    t = territory(as_of=END, since=datetime(2026, 3, 2))
    result = run(RetentionQuery(period="week", periods=1), t)
    # a (first seen in W0) is no cohort of W1 and returns, not new, in W1.
    assert _retained(result) == {(W1, None): [1, 1], (W5, None): [1]}
    assert _lifecycle(result)[0] == (W1, 1, 1, 0, -1)
    assert result.lifecycle[-1].period == W5


# -- a plain pandas reference -------------------------------------------------------------

FREQ = {"day": "D", "week": "W", "month": "M"}


def pandas_retention(
    events: pd.DataFrame, period: Period, horizon: int, as_of: datetime
) -> tuple[dict[tuple[date, int], int], list[float], dict[tuple[date, str], int]]:
    """Retained counts per (cohort, k), the weighted average curve and the lifecycle counts,
    from (profile_id, ts) rows, first seen cohorts, any event active."""
    per = events.ts.dt.to_period(FREQ[period])
    acts = pd.DataFrame({"profile_id": events.profile_id, "p": per}).drop_duplicates()
    acts["n"] = acts.p.array.asi8
    acts["c"] = acts.groupby("profile_id").n.transform("min")
    acts["k"] = acts.n - acts.c
    current = pd.Period(as_of, FREQ[period]).ordinal
    retained = acts[acts.k <= horizon].groupby(["c", "k"]).size().rename("retained").reset_index()
    table = {
        (_start_of(int(r.c), period), int(r.k)): int(r.retained) for r in retained.itertuples()
    }
    sizes = acts[acts.k == 0].groupby("c").size()
    average = []
    for k in range(min(horizon, current - int(sizes.index.min())) + 1):
        reached = sizes[sizes.index + k <= current]
        hits = retained[(retained.k == k) & retained.c.isin(reached.index)].retained.sum()
        average.append(round(float(hits / reached.sum()), 4))
    acts = acts.sort_values(["profile_id", "n"])
    before = acts.groupby("profile_id").n.shift(1)
    after = acts.groupby("profile_id").n.shift(-1)
    status = pd.Series("resurrecting", index=acts.index)
    status[before == acts.n - 1] = "returning"
    status[before.isna()] = "new"
    lifecycle = acts.groupby([acts.n, status]).size().to_dict()
    gone = acts[(after.isna() | (after > acts.n + 1)) & (acts.n + 1 <= current)]
    for n, count in (gone.n + 1).value_counts().items():
        lifecycle[(n, "dormant")] = -count
    dated = {
        (_start_of(int(n), period), kind): int(count) for (n, kind), count in lifecycle.items()
    }
    return table, average, dated


def _start_of(ordinal: int, period: Period) -> date:
    return pd.Period(ordinal=ordinal, freq=FREQ[period]).start_time.date()


def _ours(
    result: RetentionResult,
) -> tuple[dict[tuple[date, int], int], dict[tuple[date, str], int]]:
    table = {(c.cohort, k): n for c in result.cohorts for k, n in enumerate(c.retained) if n}
    lifecycle = {
        (p.period, kind): count
        for p in result.lifecycle
        for kind, count in (
            ("new", p.new),
            ("returning", p.returning),
            ("resurrecting", p.resurrecting),
            ("dormant", p.dormant),
        )
        if count
    }
    return table, lifecycle


def _compare_with_pandas(t: Territory, period: Period, horizon: int) -> RetentionResult:
    rows = t.rows(t.events().select("profile_id", "ts"))
    events = pd.DataFrame(rows)
    table, average, lifecycle = pandas_retention(events, period, horizon, t.as_of)
    result = run(RetentionQuery(period=period, periods=horizon), t)
    ours_table, ours_lifecycle = _ours(result)
    assert ours_table == table
    assert result.overall.average == average
    assert ours_lifecycle == lifecycle
    return result


def _random_events(seed: int, profiles: int, days: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for n in range(profiles):
        born = rng.uniform(0, days * 0.8)
        for _ in range(rng.randint(1, 12)):
            at = T0 + timedelta(days=born + rng.expovariate(1 / 25))
            # Some events on the last microsecond of a day, to walk on the boundaries.
            if rng.random() < 0.2:
                at = at.replace(hour=23, minute=59, second=59, microsecond=999999)
            events.append(
                {"anon": f"p{n}", "at": at, "event": rng.choice(("page_viewed", "order_completed"))}
            )
    return events


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_retention_equals_pandas_on_random_data(
    world: World, default_map: JourneyMap, period: Period
) -> None:
    # DuckDB only: the demo's comparison below runs on both engines.
    world.add(*_random_events(seed=7, profiles=60, days=150))
    world.update()
    t = Territory(world.warehouse, default_map, T0 + timedelta(days=200))
    result = _compare_with_pandas(t, period, horizon={"day": 40, "week": 10, "month": 4}[period])
    assert sum(c.size for c in result.cohorts) == 60


def test_retention_equals_pandas_after_late_events_and_at_an_as_of_inside_the_paths(
    world: World, territory: MakeTerritory
) -> None:
    # Any-event retention reads the path order identity keeps: events arriving in batches,
    # older ones late, must move it; an as-of inside the paths cuts them.
    events = _random_events(seed=11, profiles=40, days=120)
    random.Random(3).shuffle(events)
    for start in range(0, len(events), len(events) // 3 + 1):
        world.add(*events[start : start + len(events) // 3 + 1])
        world.update()
    for as_of, cut in (
        (T0 + timedelta(days=70, hours=13), True),
        (T0 + timedelta(days=400), False),
    ):
        t = territory(as_of=as_of)
        seen = len(t.rows(t.events().select("ts")))
        assert 0 < seen < len(events) if cut else seen == len(events)
        for period, horizon in (("day", 30), ("week", 10), ("month", 4)):
            _compare_with_pandas(t, period, horizon)


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_retention_equals_pandas_on_the_demo(demo_territory: Territory, period: Period) -> None:
    result = _compare_with_pandas(demo_territory, period, horizon=12)
    assert len(result.cohorts) > 10


def test_period_numbers_agree_with_python_at_every_boundary(
    world: World, territory: MakeTerritory
) -> None:
    moments = [
        datetime(2026, 3, 1, 23, 59, 59, 999999),  # the last microsecond of a Sunday
        datetime(2026, 3, 2),  # Monday midnight
        datetime(2024, 2, 29, 12),
        datetime(2026, 3, 31, 23, 59, 59, 999999),
        datetime(1970, 1, 5),  # the first Monday of the numbering
        datetime(1970, 1, 4, 23, 59, 59, 500000),
        datetime(1969, 12, 31, 23, 59, 59, 500000),  # half a second before the epoch
        datetime(1969, 12, 29),  # a Monday before it
        datetime(1969, 12, 28, 23, 59, 59, 999999),
        datetime(1900, 1, 1, 0, 0, 0, 1),
    ]
    world.add(*({"anon": f"x{n}", "at": at} for n, at in enumerate(moments)))
    t = territory()
    events = t.events()
    numbered = events.select(
        "ts",
        **{p: periods.index(events.ts, p) for p in ("day", "week", "month")},
    )
    rows = sorted(t.rows(numbered), key=lambda r: r["ts"])
    assert [r["ts"] for r in rows] == sorted(moments)
    for r in rows:
        for p in ("day", "week", "month"):
            assert r[p] == periods.index_of(r["ts"], p), (r["ts"], p)
            first_day = periods.start(r[p], p)
            assert first_day <= r["ts"].date(), (r["ts"], p)


# -- queries that cannot run ----------------------------------------------------------------


def test_bad_retention_queries_say_what_to_fix(world: World, default_map: JourneyMap) -> None:
    world.add({"anon": "a", "event": "order_completed", "at": 0})
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    with pytest.raises(UnknownEvent, match=r'"order_complete" is not an event.*"order_completed"'):
        run(RetentionQuery(cohort=Step.parse("order_complete")), t)
    with pytest.raises(AnalyticsError, match="cannot be optional"):
        run(RetentionQuery(returning=Step.parse("?order_completed")), t)
    with pytest.raises(AnalyticsError, match='"chanel" is not a breakdown; did you mean "channel"'):
        run(RetentionQuery(by="chanel"), t)
    with pytest.raises(AnalyticsError, match="is not a touchpoint"):
        run(RetentionQuery(returning=Step.parse("touchpoint:nowhere")), t)


@pytest.mark.parametrize(
    "fields",
    [{"period": "year"}, {"periods": 0}, {"periods": 401}, {"by": ""}, {"cohorts": 3}],
)
def test_malformed_retention_queries_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RetentionQuery.model_validate(fields)
