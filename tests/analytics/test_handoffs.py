"""Hand-off gaps: hand-built journeys with every figure derived by hand, the demo company's
deliberate drop-offs, and a plain pandas reading of the definitions as the reference."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from tests.analytics.conftest import MakeTerritory
from tests.analytics.test_mining import SMALL_MAP
from tests.identity.conftest import T0, World

from percorso.analytics.handoffs import NOTHING, HandoffQuery, HandoffResult, run
from percorso.analytics.territory import AnalyticsError, Territory
from percorso.journey.model import JourneyMap, load_map_text
from percorso.warehouse.store import Warehouse

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def small_map() -> JourneyMap:
    return load_map_text(SMALL_MAP, "small map")


def _summary(result: HandoffResult) -> list[tuple[Any, ...]]:
    return [
        (h.source, h.target, h.profiles, h.continued, h.baseline_share, h.lost, h.median_hours)
        for h in result.handoffs
    ]


def test_departments_at_the_touchpoint_level(
    world: World, territory: MakeTerritory, small_map: JourneyMap
) -> None:
    # Departments on the small map: ad, catalogue, form marketing; quote, order sales;
    # survey, ticket service. The window is 30 days.
    journeys: dict[str, list[tuple[str, timedelta]]] = {
        "P1": [("form_submitted", 0 * DAY), ("quote_sent", 1 * DAY), ("order_completed", 3 * DAY)],
        "P2": [("form_submitted", 0 * DAY), ("quote_sent", 2 * DAY)],
        "P3": [
            ("form_submitted", 0 * DAY),
            ("quote_sent", 10 * DAY),
            ("survey_answered", 70 * DAY),
        ],
        "P4": [
            ("ad_clicked", 0 * DAY),
            ("product_viewed", MINUTE),
            ("product_viewed", 2 * MINUTE),  # the same step as the page before
            ("form_submitted", 1 * DAY),
        ],
        "P5": [("product_viewed", 0 * DAY), ("form_submitted", HOUR)],
        "P6": [("ad_clicked", 0 * DAY), ("form_submitted", 3 * HOUR), ("ticket_opened", 5 * DAY)],
    }
    for anon, events in journeys.items():
        world.add(*({"anon": anon, "event": e, "at": T0 + when} for e, when in events))
    t = territory(journey_map=small_map)
    result = run(HandoffQuery(by="department"), t)

    # Marketing stays, first per profile: P4 ad -> catalogue (1 minute; the catalogue step
    # ends at +2 min, the form follows within 30 days: went on), P5 catalogue -> form (1 h;
    # nothing after), P6 ad -> form (3 h; the ticket 5 days later): 2 of 3, median 1 h.
    # marketing -> sales: P1 (24 h, the order follows), P2 (48 h, nothing), P3 (240 h, the
    # survey 60 days later: too late) -> 1 of 3 went on; lost 3 x (2/3 - 1/3) = 1.
    # marketing -> service: P6 form -> ticket (5 days - 3 h = 117 h; nothing after): lost 2/3.
    # sales -> service: P3 quote -> survey (60 days = 1440 h); the sales stay P1 quote ->
    # order did not go on either (baseline 0): lost 0.
    assert _summary(result) == [
        ("marketing", "sales", 3, 1, 0.6667, 1.0, 48.0),
        ("marketing", "service", 1, 0, 0.6667, 0.7, 117.0),
        ("sales", "service", 1, 0, 0.0, 0.0, 1440.0),
    ]
    top = result.handoffs[0]
    assert (top.continued_share, top.baseline_scope, top.baseline_median_hours) == (
        0.3333,
        "source",
        1.0,
    )
    # P2 stopped; P3 came back only after the window, through service.
    assert [(d.value, d.profiles) for d in top.went] == [(NOTHING, 1), ("service", 1)]
    assert [(s.value, s.profiles, s.continued_share, s.median_hours) for s in result.stays] == [
        ("marketing", 3, 0.6667, 1.0),
        ("sales", 1, 0.0, 48.0),
    ]
    # Stops: sales P1 (after the order) P2 P3 (60 days of silence); marketing P4 P5 of six;
    # service P3 P6 of two.
    assert [(s.value, s.profiles, s.stopped) for s in result.stops] == [
        ("sales", 3, 3),
        ("marketing", 6, 2),
        ("service", 2, 2),
    ]
    assert result.judged_until == datetime(2030, 1, 1) - timedelta(days=30)

    # A window longer than the data judges nothing: the last weeks are not losses.
    unjudged = run(HandoffQuery(by="department", window=timedelta(days=3650)), t)
    assert (unjudged.handoffs, unjudged.stays, unjudged.stops) == ([], [], [])


def test_devices_at_the_event_level(world: World, territory: MakeTerritory) -> None:
    # Event level: each event's own device; an event with none (the order) is no step but the
    # journey going on. Consecutive events of one name and device are one step.
    journeys: dict[str, list[tuple[str, str | None, timedelta]]] = {
        "Q1": [
            ("page_viewed", "mobile", 0 * DAY),
            ("page_viewed", "mobile", MINUTE),
            ("product_viewed", "desktop", DAY + MINUTE),
            ("order_completed", None, 2 * DAY),
        ],
        "Q2": [("page_viewed", "mobile", 0 * DAY), ("page_viewed", "desktop", 2 * HOUR)],
        "Q3": [
            ("page_viewed", "mobile", 0 * DAY),
            ("product_viewed", "mobile", MINUTE),
            ("page_viewed", "desktop", 40 * DAY),
        ],
        "Q4": [
            ("page_viewed", "mobile", 0 * DAY),
            ("product_viewed", "mobile", 10 * MINUTE),
            ("checkout_started", "mobile", DAY),
        ],
        "Q5": [
            ("page_viewed", "mobile", 0 * DAY),
            ("product_viewed", "mobile", 30 * MINUTE),
            ("order_completed", None, 3 * DAY),
        ],
    }
    for anon, events in journeys.items():
        world.add(
            *({"anon": anon, "event": e, "device": d, "at": T0 + when} for e, d, when in events)
        )
    t = territory()
    result = run(HandoffQuery(by="device", level="event"), t)

    # Mobile stays, first per profile: Q3 (1 min; then 40 days of nothing), Q4 (10 min; the
    # checkout the next day), Q5 (30 min; the order 3 days later): 2 of 3, median 10 min.
    # mobile -> desktop: Q1 (24 h; the order the next day), Q2 (2 h; nothing), Q3 (40 days -
    # 1 min; nothing): 1 of 3 went on, lost 3 x (2/3 - 1/3) = 1, median 24 h.
    assert _summary(result) == [("mobile", "desktop", 3, 1, 0.6667, 1.0, 24.0)]
    assert result.handoffs[0].baseline_median_hours == 0.17
    assert [(d.value, d.profiles) for d in result.handoffs[0].went] == [(NOTHING, 2)]


def test_department_needs_touchpoints(world: World, small_map: JourneyMap) -> None:
    t = Territory(world.warehouse, small_map, T0)
    with pytest.raises(
        AnalyticsError,
        match=re.escape("departments belong to the map's touchpoints, not to events"),
    ):
        run(HandoffQuery(by="department", level="event"), t)
    bare = Territory(world.warehouse, small_map.model_copy(update={"touchpoints": []}), T0)
    with pytest.raises(AnalyticsError, match="declares no touchpoints"):
        run(HandoffQuery(), bare)


@pytest.mark.parametrize(
    "bad",
    [
        {"by": "system"},
        {"level": "phase"},
        {"window": "PT0S"},
        {"window": "P5000D"},
        {"top": 0},
        {"extra": 1},
    ],
)
def test_malformed_queries_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        HandoffQuery.model_validate(bad)


# --- the demo company ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_warehouse: Warehouse, default_map: JourneyMap) -> Territory:
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    return Territory(demo_warehouse, default_map, last)


def test_the_demos_drop_offs_show(demo: Territory) -> None:
    """The generator loses people on purpose (demo/journeys.py): visitors from social media
    engage less, mobile visitors give up on forms more often, a form's lead reaches sales only
    when the webhook works and sales qualify it."""
    channels = run(HandoffQuery(by="channel", level="event"), demo)
    top = channels.handoffs[0]
    assert (top.source, top.target) == ("social", "direct")
    assert top.continued_share < top.baseline_share  # type: ignore[operator]
    assert top.went[0].value == NOTHING

    devices = {s.value: s for s in run(HandoffQuery(by="device"), demo).stops}
    assert devices["mobile"].share > devices["desktop"].share + 0.05

    touches = run(HandoffQuery(by="channel"), demo)
    to_sales = next(h for h in touches.handoffs if (h.source, h.target) == ("form", "in_person"))
    assert to_sales.lost > 0
    assert to_sales.went[0].value == NOTHING


@pytest.mark.parametrize(("by", "level"), [("channel", "touchpoint"), ("device", "event")])
def test_the_definitions_read_plainly(demo: Territory, by: str, level: str) -> None:
    """The same figures from the demo's rows with pandas, following the module's doc."""
    window = timedelta(days=30)
    result = run(HandoffQuery.model_validate({"by": by, "level": level, "top": 500}), demo)
    frame = _reference_rows(demo, by, level)
    until = demo.as_of - window
    crossings: dict[tuple[str, str], list[bool]] = {}
    stops: dict[str, tuple[set[str], set[str]]] = {}
    for profile, rows in frame.groupby("profile_id", sort=False):
        steps = _steps(rows)
        seen: set[tuple[str, str]] = set()
        for i, (value, _, ended, next_at) in enumerate(steps):
            if ended <= until:
                mine = stops.setdefault(value, (set(), set()))
                mine[0].add(str(profile))
                if next_at is None or next_at - ended > window:
                    mine[1].add(str(profile))
            if i + 1 < len(steps):
                target, _, to_ended, to_next = steps[i + 1]
                pair = (value, target)
                if to_ended <= until and pair not in seen:
                    seen.add(pair)
                    went_on = to_next is not None and to_next - to_ended <= window
                    crossings.setdefault(pair, []).append(went_on)
    found = {(h.source, h.target): (h.profiles, h.continued) for h in result.handoffs}
    assert found == {
        pair: (len(runs), sum(runs)) for pair, runs in crossings.items() if pair[0] != pair[1]
    }
    assert {s.value: s.profiles for s in result.stays} == {
        a: len(runs) for (a, b), runs in crossings.items() if a == b
    }
    assert {s.value: (s.profiles, s.stopped) for s in result.stops} == {
        value: (len(every), len(stopped)) for value, (every, stopped) in stops.items()
    }


def _reference_rows(demo: Territory, by: str, level: str) -> pd.DataFrame:
    if level == "touchpoint":
        labelled = demo.labelled()
        table = labelled.filter(labelled.touchpoint.notnull())
        frame = pd.DataFrame(
            demo.rows(table.select("profile_id", "ts", "seq", "touchpoint", "device"))
        )
        frame["what"] = frame.touchpoint
        of = {tp.id: getattr(tp, by) for tp in demo.journey_map.touchpoints}
        frame["value"] = frame.touchpoint.map(of) if by != "device" else frame.device
    else:
        events = demo.events()
        frame = pd.DataFrame(
            demo.rows(events.select("profile_id", "ts", "seq", "event", "type", by))
        )
        frame["what"] = frame.event.fillna(frame.type)
        frame["value"] = frame[by]
    frame = frame.sort_values(["profile_id", "ts", "seq"])
    frame["next_at"] = frame.groupby("profile_id").ts.shift(-1)
    return frame[frame.value.notna()]


def _steps(rows: pd.DataFrame) -> list[tuple[str, Any, Any, Any]]:
    """(value, started, ended, next_at of its last row) per step of one profile."""
    steps: list[tuple[str, Any, Any, Any]] = []
    key = None
    for what, value, ts, next_at in zip(rows.what, rows.value, rows.ts, rows.next_at, strict=True):
        nxt = None if pd.isna(next_at) else next_at
        if (what, value) == key:
            steps[-1] = (value, steps[-1][1], ts, nxt)
        else:
            steps.append((value, ts, ts, nxt))
            key = (what, value)
    return steps
