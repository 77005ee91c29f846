"""Lifecycle stages and personas on hand-built timelines, with exact entry times, and the
default map on the demo company."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from percorso.journey.lifecycle import Lifecycle, StagesReport
from percorso.journey.model import NO_PERSONA, JourneyMap, default_map_text, load_map_text
from percorso.warehouse.store import Warehouse
from tests.identity.conftest import T0, Event, World

D = timedelta(days=1)
US = timedelta(microseconds=1)

LIFECYCLE_MAP = """\
name: Ciclo di prova
phases:
  - {id: all, label: {it: Tutto, en: All}}
stages:
  - {id: suspect, label: {it: S, en: S}, when: "true"}
  - {id: prospect, label: {it: P, en: P}, when: identified()}
  - id: active
    label: {it: A, en: A}
    when: count(event == "page_viewed", last="30d") >= 3
  - {id: customer, label: {it: C, en: C}, when: ever(event == "order_completed")}
  - id: churned
    label: {it: X, en: X}
    when: >-
      ever(event == "order_completed")
      and not ever(event == "order_completed", last="180d")
transitions:
  suspect: [prospect, customer]
  prospect: [active, customer]
  active: [customer]
  customer: [churned]
  churned: [customer]
"""


def page(anon: str, at: datetime) -> Event:
    return {"anon": anon, "event": "page_viewed", "at": at}


def identify(anon: str, user: str, at: datetime, **traits: object) -> Event:
    return {"anon": anon, "user": user, "at": at, "traits": {"email": f"{user}@x.it", **traits}}


def order(user: str, at: datetime) -> Event:
    return {"user": user, "event": "order_completed", "at": at, "source": "sito-web"}


# ann: suspect, identifies, reads three pages in 30 days and stops, buys, churns
# exactly 180 days after her order, and is won back.
ANN = [
    page("A1", T0),
    identify("A1", "ann", T0 + 1 * D),
    page("A1", T0 + 2 * D),
    page("A1", T0 + 3 * D),
    order("ann", T0 + 40 * D),
    order("ann", T0 + 250 * D),
]
ANN_HISTORY = [
    ("suspect", T0),
    ("prospect", T0 + 1 * D),
    ("active", T0 + 3 * D),  # the third page in 30 days
    ("prospect", T0 + 30 * D),  # the first page left the window: backward, not designed
    ("customer", T0 + 40 * D),
    ("churned", T0 + 220 * D),  # 180 days after the order, to the microsecond
    ("customer", T0 + 250 * D),  # win-back
]
# bob only browses; cat identifies and buys two days later; dan identifies and buys at once.
BOB = [page("B1", T0 + 2 * D), page("B1", T0 + 9 * D)]
CAT = [identify("C1", "cat", T0 + 10 * D), order("cat", T0 + 12 * D)]
DAN = [
    page("D1", T0 + 20 * D),
    identify("D1", "dan", T0 + 25 * D),
    order("dan", T0 + 25 * D),
]
# A crawler is nobody's customer: its profile is left out.
CRAWLER = [{**page("R1", T0 + 1 * D), "device": "bot"}, {**page("R1", T0 + 2 * D), "device": "bot"}]
END = T0 + 300 * D


@pytest.fixture
def timelines(world: World) -> World:
    world.add(*ANN, *BOB, *CAT, *DAN, *CRAWLER)
    world.update()
    return world


@pytest.fixture(scope="module")
def lifecycle_map() -> JourneyMap:
    return load_map_text(LIFECYCLE_MAP, "ciclo.yaml")


def history_of(lifecycle: Lifecycle, profile_id: str) -> list[tuple[str, datetime]]:
    found = lifecycle.profile(profile_id)
    assert found is not None
    return [(entry.stage, entry.entered_at) for entry in found.history]


def test_stage_history_with_exact_times_and_backward_moves(
    timelines: World, lifecycle_map: JourneyMap
) -> None:
    lifecycle = Lifecycle(timelines.warehouse, lifecycle_map, END)
    ann = timelines.profile_id("user_id", "ann")
    assert history_of(lifecycle, ann) == ANN_HISTORY
    assert history_of(lifecycle, timelines.profile_id("anonymous_id", "B1")) == [
        ("suspect", T0 + 2 * D)
    ]
    assert history_of(lifecycle, timelines.profile_id("user_id", "cat")) == [
        ("prospect", T0 + 10 * D),
        ("customer", T0 + 12 * D),
        ("churned", T0 + 192 * D),
    ]
    # Identified and buying at the same moment: straight from suspect to customer.
    assert history_of(lifecycle, timelines.profile_id("user_id", "dan")) == [
        ("suspect", T0 + 20 * D),
        ("customer", T0 + 25 * D),
        ("churned", T0 + 205 * D),
    ]
    found = lifecycle.profile(ann)
    assert found is not None
    assert (found.stage, found.persona) == ("customer", NO_PERSONA)
    assert lifecycle.profile("p-nobody") is None
    assert lifecycle.profile(timelines.profile_id("anonymous_id", "R1")) is None


def test_history_table_links_each_entry_to_the_one_before(
    timelines: World, lifecycle_map: JourneyMap
) -> None:
    lifecycle = Lifecycle(timelines.warehouse, lifecycle_map, END)
    ann = timelines.profile_id("user_id", "ann")
    h = lifecycle.history()
    rows = timelines.warehouse.to_arrow(h.filter(h.profile_id == ann).order_by("entered_at"))
    entries = rows.to_pylist()
    assert [(r["previous"], r["stage"]) for r in entries] == [
        (None, "suspect"),
        *((a[0], b[0]) for a, b in pairwise(ANN_HISTORY)),
    ]
    assert [r["previous_at"] for r in entries] == [None, *(t for _, t in ANN_HISTORY[:-1])]
    assert [r["left_at"] for r in entries] == [*(t for _, t in ANN_HISTORY[1:]), None]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Before anyone's first event there is nobody.
        (T0 - US, {}),
        (T0, {"ann": "suspect"}),
        (T0 + 1 * D - US, {"ann": "suspect"}),
        (T0 + 1 * D, {"ann": "prospect"}),
        (T0 + 3 * D, {"ann": "active", "bob": "suspect"}),
        (
            T0 + 30 * D - US,
            {"ann": "active", "bob": "suspect", "cat": "customer", "dan": "customer"},
        ),
        (T0 + 30 * D, {"ann": "prospect", "bob": "suspect", "cat": "customer", "dan": "customer"}),
        (T0 + 40 * D, {"ann": "customer", "bob": "suspect", "cat": "customer", "dan": "customer"}),
        (T0 + 192 * D, {"ann": "customer", "bob": "suspect", "cat": "churned", "dan": "customer"}),
        (
            T0 + 220 * D - US,
            {"ann": "customer", "bob": "suspect", "cat": "churned", "dan": "churned"},
        ),
        (T0 + 220 * D, {"ann": "churned", "bob": "suspect", "cat": "churned", "dan": "churned"}),
        (END, {"ann": "customer", "bob": "suspect", "cat": "churned", "dan": "churned"}),
    ],
)
def test_as_of_gives_the_state_of_that_moment(
    timelines: World, lifecycle_map: JourneyMap, as_of: datetime, expected: dict[str, str]
) -> None:
    names = {
        timelines.profile_id("user_id", "ann"): "ann",
        timelines.profile_id("anonymous_id", "B1"): "bob",
        timelines.profile_id("user_id", "cat"): "cat",
        timelines.profile_id("user_id", "dan"): "dan",
    }
    lifecycle = Lifecycle(timelines.warehouse, lifecycle_map, as_of)
    current = timelines.warehouse.to_arrow(lifecycle.current()).to_pylist()
    assert {names[r["profile_id"]]: r["stage"] for r in current} == expected
    report = lifecycle.report()
    assert report.profiles == len(expected)
    assert sum(s.profiles for s in report.stages) == report.profiles
    assert {s.stage: s.profiles for s in report.stages if s.profiles} == dict(
        Counter(expected.values())
    )
    # The history up to then ends in the same stage.
    for profile_id, name in names.items():
        if name in expected:
            assert history_of(lifecycle, profile_id)[-1][0] == expected[name]


def test_the_report_counts_transitions_with_their_design_and_durations(
    timelines: World, lifecycle_map: JourneyMap
) -> None:
    report = Lifecycle(timelines.warehouse, lifecycle_map, END).report()
    assert report.profiles == 4  # the crawler is not one
    assert report.as_of == END
    assert report.map_name == "Ciclo di prova"
    assert [(s.stage, s.profiles, s.share) for s in report.stages] == [
        ("suspect", 1, 0.25),
        ("prospect", 0, 0.0),
        ("active", 0, 0.0),
        ("customer", 1, 0.25),
        ("churned", 2, 0.5),
    ]
    moves = [
        (t.source, t.target, t.profiles, t.moves, t.designed, t.median_days, t.p90_days)
        for t in report.transitions
    ]
    assert moves == [
        ("suspect", "prospect", 1, 1, True, 1.0, 1.0),
        ("suspect", "customer", 1, 1, True, 5.0, 5.0),
        ("prospect", "active", 1, 1, True, 2.0, 2.0),
        ("prospect", "customer", 2, 2, True, 6.0, 9.2),  # 2 and 10 days
        ("active", "prospect", 1, 1, False, 27.0, 27.0),
        ("customer", "churned", 3, 3, True, 180.0, 180.0),
        ("churned", "customer", 1, 1, True, 30.0, 30.0),
    ]
    assert report.undesigned_moves == 1
    assert [(p.persona, p.profiles, p.stages) for p in report.personas] == [
        (NO_PERSONA, 4, {"suspect": 1, "customer": 1, "churned": 2})
    ]


def test_median_and_p90_on_a_known_set(world: World) -> None:
    delays = [1, 2, 3, 4, 7, 10]  # days from the first visit to identifying
    for n, days in enumerate(delays):
        world.add(page(f"V{n}", T0), identify(f"V{n}", f"v{n}", T0 + days * D))
    world.update()
    journey_map = load_map_text(
        """\
name: Ritmo
phases: [{id: all, label: {it: Tutto, en: All}}]
stages:
  - {id: visitor, label: {it: V, en: V}, when: "true"}
  - {id: known, label: {it: K, en: K}, when: identified()}
""",
        "ritmo.yaml",
    )
    report = Lifecycle(world.warehouse, journey_map, T0 + 30 * D).report()
    (move,) = report.transitions
    # Interpolated: the median half way from 3 to 4, the 90th percentile half way from 7 to 10.
    assert (move.source, move.target, move.moves, move.profiles) == ("visitor", "known", 6, 6)
    assert move.median_days == 3.5
    assert move.p90_days == 8.5
    assert not move.designed  # the map declares no transitions
    assert report.undesigned_moves == 6


TRAITS_MAP = """\
name: Tratti
phases: [{id: all, label: {it: Tutto, en: All}}]
personas:
  - {id: big, label: {it: Grande, en: Big}, when: traits.company_size >= 50}
  - id: sleeping
    label: {it: Dormiente, en: Sleeping}
    when: no_activity("30d", source_kind != "mailer")
stages:
  - {id: suspect, label: {it: S, en: S}, when: "true"}
  - {id: sized, label: {it: M, en: M}, when: exists(traits.company_size)}
  - {id: big_account, label: {it: G, en: G}, when: traits.company_size >= 50}
transitions:
  suspect: [sized, big_account]
  sized: [big_account]
"""

# eva's company shrinks, then she goes quiet (a newsletter opened is not activity);
# fay is big and quiet (big wins: the first persona that holds); gus clears his size
# with a null, which is not a value; hal is anonymous.
TRAITS = [
    identify("E1", "eva", T0, company_size=80),
    identify("E1", "eva", T0 + 10 * D, company_size=20),
    {"user": "eva@x.it", "source": "Mailchimp", "event": "email_opened", "at": T0 + 35 * D},
    identify("F1", "fay", T0, company_size=120),
    identify("G1", "gus", T0, company_size=60),
    identify("G1", "gus", T0 + 1 * D, company_size=None),
    page("H1", T0 + 35 * D),
]


@pytest.fixture
def traits_world(world: World) -> World:
    world.add(*TRAITS)
    world.update()
    return world


@pytest.mark.parametrize(
    ("as_of", "stages", "personas"),
    [
        (
            T0 + 5 * D,
            {"eva": "big_account", "fay": "big_account", "gus": "big_account"},
            {"eva": "big", "fay": "big", "gus": "big"},
        ),
        (
            T0 + 15 * D,
            {"eva": "sized", "fay": "big_account", "gus": "big_account"},
            {"eva": NO_PERSONA, "fay": "big", "gus": "big"},
        ),
        (
            T0 + 40 * D - US,
            {"eva": "sized", "fay": "big_account", "gus": "big_account", "hal": "suspect"},
            {"eva": NO_PERSONA, "fay": "big", "gus": "big", "hal": NO_PERSONA},
        ),
        (
            T0 + 40 * D,
            {"eva": "sized", "fay": "big_account", "gus": "big_account", "hal": "suspect"},
            {"eva": "sleeping", "fay": "big", "gus": "big", "hal": NO_PERSONA},
        ),
        (
            T0 + 65 * D,
            {"eva": "sized", "fay": "big_account", "gus": "big_account", "hal": "suspect"},
            {"eva": "sleeping", "fay": "big", "gus": "big", "hal": "sleeping"},
        ),
    ],
)
def test_traits_latest_value_and_personas_first_match(
    traits_world: World, as_of: datetime, stages: dict[str, str], personas: dict[str, str]
) -> None:
    names = {
        traits_world.profile_id("user_id", "eva"): "eva",
        traits_world.profile_id("user_id", "fay"): "fay",
        traits_world.profile_id("user_id", "gus"): "gus",
        traits_world.profile_id("anonymous_id", "H1"): "hal",
    }
    journey_map = load_map_text(TRAITS_MAP, "tratti.yaml")
    lifecycle = Lifecycle(traits_world.warehouse, journey_map, as_of)
    current = traits_world.warehouse.to_arrow(lifecycle.current()).to_pylist()
    assert {names[r["profile_id"]]: r["stage"] for r in current} == stages
    assert {names[r["profile_id"]]: r["persona"] for r in current} == personas
    report = lifecycle.report()
    # Personas in the map's order, then those with none.
    order = [p.persona for p in report.personas]
    assert order == [p for p in ("big", "sleeping", NO_PERSONA) if p in personas.values()]
    for count in report.personas:
        assert count.profiles == sum(1 for p in personas.values() if p == count.persona)
        assert count.stages == dict(
            Counter(stages[n] for n, p in personas.items() if p == count.persona)
        )


def test_a_trait_that_changes_moves_the_stage_back(traits_world: World) -> None:
    journey_map = load_map_text(TRAITS_MAP, "tratti.yaml")
    lifecycle = Lifecycle(traits_world.warehouse, journey_map, T0 + 65 * D)
    eva = traits_world.profile_id("user_id", "eva")
    assert history_of(lifecycle, eva) == [("big_account", T0), ("sized", T0 + 10 * D)]
    (back,) = [t for t in lifecycle.report().transitions if t.source == "big_account"]
    assert (back.target, back.designed, back.median_days) == ("sized", False, 10.0)


def test_a_profile_no_stage_holds_for_is_counted_as_none(world: World) -> None:
    world.add(page("N1", T0), identify("K1", "kim", T0))
    world.update()
    journey_map = load_map_text(
        """\
name: Solo noti
phases: [{id: all, label: {it: Tutto, en: All}}]
personas: [{id: known, label: {it: N, en: K}, when: identified()}]
stages: [{id: known, label: {it: N, en: K}, when: identified()}]
""",
        "noti.yaml",
    )
    report = Lifecycle(world.warehouse, journey_map, T0 + D).report()
    assert [(s.stage, s.profiles) for s in report.stages] == [("known", 1), ("none", 1)]
    assert sum(s.profiles for s in report.stages) == report.profiles == 2
    assert [(p.persona, p.stages) for p in report.personas] == [
        ("known", {"known": 1}),
        (NO_PERSONA, {"none": 1}),
    ]


# --- the default map on the demo company -----------------------------------------------


def test_the_default_map_on_the_demo_gives_a_plausible_distribution(
    demo_warehouse: Warehouse,
) -> None:
    journey_map = load_map_text(default_map_text(), "default_map.yaml")
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    lifecycle = Lifecycle(demo_warehouse, journey_map, last)
    report: StagesReport = lifecycle.report()
    counts = {s.stage: s.profiles for s in report.stages}
    assert list(counts) == [s.id for s in journey_map.stages]
    # Every profile with an event that is not a crawler's has exactly one stage.
    people = demo_warehouse.query(
        """
        SELECT count(DISTINCT n.profile_id)
        FROM events e JOIN identity_event_nodes en USING (seq) JOIN identity_nodes n USING (node)
        WHERE e.device IS DISTINCT FROM 'bot'
        """
    )[0][0]
    current = demo_warehouse.to_arrow(lifecycle.current()).to_pylist()
    assert len(current) == len({r["profile_id"] for r in current}) == people == report.profiles
    assert sum(counts.values()) == report.profiles
    assert all(counts[stage] > 0 for stage in ("suspect", "prospect", "lead", "customer"))
    assert counts["suspect"] + counts["prospect"] > report.profiles / 2
    assert sum(p.profiles for p in report.personas) == report.profiles
    assert {t.source for t in report.transitions} <= set(counts)
    assert sum(t.moves for t in report.transitions if t.designed) > 10 * report.undesigned_moves
    # Whoever ordered is a customer, an advocate or churned.
    buyers = demo_warehouse.query(
        """
        SELECT count(DISTINCT n.profile_id)
        FROM events e JOIN identity_event_nodes en USING (seq) JOIN identity_nodes n USING (node)
        WHERE e.event IN ('order_completed', 'order_placed') AND e.ts <= ?
        """,
        [last],
    )[0][0]
    assert counts["customer"] + counts["advocate"] + counts["churned"] == buyers > 0


def test_sum_over_a_window_goes_up_and_down(world: World) -> None:
    world.add(
        identify("S1", "sal", T0),
        {**order("sal", T0 + 1 * D), "props": {"amount": 60}},
        {**order("sal", T0 + 10 * D), "props": {"amount": 50.5}},
        {**order("sal", T0 + 12 * D), "props": {"amount": "40"}},  # text: not an amount
        {"user": "sal", "event": "refund", "at": T0 + 15 * D, "props": {"amount": 500}},
    )
    world.update()
    journey_map = load_map_text(
        """\
name: Valore
phases: [{id: all, label: {it: Tutto, en: All}}]
stages:
  - {id: buyer, label: {it: B, en: B}, when: "true"}
  - id: vip
    label: {it: V, en: V}
    when: sum(properties.amount, event == "order_completed", last="30d") >= 100
""",
        "valore.yaml",
    )
    lifecycle = Lifecycle(world.warehouse, journey_map, T0 + 60 * D)
    assert history_of(lifecycle, world.profile_id("user_id", "sal")) == [
        ("buyer", T0),
        ("vip", T0 + 10 * D),  # 60 + 50.5
        ("buyer", T0 + 31 * D),  # the 60 left the window
    ]
