"""The seam every analysis stands on: the same profile events on every backend, and
steps that say clearly what is wrong with them."""

from __future__ import annotations

import re

import pytest
from tests.analytics.conftest import MakeTerritory
from tests.identity.conftest import World

from percorso.analytics.breakdown import check, with_breakdown
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalyticsError, UnknownEvent
from percorso.journey.predicates import PredicateError


def test_profile_events_are_the_same_on_every_backend(
    world: World, territory: MakeTerritory
) -> None:
    world.add(
        {"anon": "a1", "event": "page_viewed", "at": 0},
        {"anon": "a1", "user": "u1", "traits": {"email": "x@example.it"}, "at": 1},
        {"user": "u1", "event": "order_completed", "at": 2, "props": {"total": 30}},
        {"anon": "bot", "event": "page_viewed", "device": "bot", "at": 3},
    )
    t = territory()
    rows = t.rows(t.events().select("profile_id", "event").order_by("event"))
    assert len({r["profile_id"] for r in rows}) == 1  # one person, the bot left out
    assert [r["event"] for r in rows] == ["order_completed", "page_viewed", None]


def test_steps_select_events_touchpoints_and_rules(world: World, territory: MakeTerritory) -> None:
    world.add(
        {"anon": "a1", "event": "order_completed", "at": 0, "props": {"total": 30}},
        {"anon": "a1", "event": "order_completed", "at": 1, "props": {"total": 80}},
        {"anon": "a1", "event": "page_viewed", "at": 2},
    )
    t = territory()
    table = t.labelled()
    step = Step.parse("order_completed where properties.total > 50")
    step.check(t)
    picked = t.rows(table.filter(step.condition(table, t)).select("ts"))
    assert len(picked) == 1
    assert step.label == "order_completed where properties.total > 50"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "names nothing"),
        ("?", "names nothing"),
        ("*", "add a rule"),
        ("touchpoint:", "write the touchpoint's id"),
        ("order_completed where", 'ends with "where"'),
    ],
)
def test_a_step_that_cannot_be_read_says_why(text: str, message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        Step.parse(text)


def test_unknown_event_touchpoint_and_rule(world: World, territory: MakeTerritory) -> None:
    world.add({"anon": "a1", "event": "checkout_started", "at": 0})
    t = territory()
    with pytest.raises(
        UnknownEvent, match=r'"chekout_started" is not an event.*"checkout_started"'
    ):
        Step.parse("chekout_started").check(t)
    with pytest.raises(AnalyticsError, match="is not a touchpoint of the journey map"):
        Step.parse("touchpoint:nowhere").check(t)
    with pytest.raises(PredicateError):
        Step.parse("checkout_started where propertie.x == 1").check(t)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("channel", {"a1": "social", "a2": "email"}),
        ("properties.plan", {"a1": "gold", "a2": "(none)"}),
        ("first_touch", {"a1": "social", "a2": "email"}),
        ("persona", {"a1": "consumer", "a2": "consumer"}),
        ("stage", {"a1": "suspect", "a2": "suspect"}),
    ],
)
def test_breakdowns_by_event_and_by_profile(
    world: World, territory: MakeTerritory, by: str, expected: dict[str, str]
) -> None:
    world.add(
        {
            "anon": "a1",
            "event": "page_viewed",
            "at": 0,
            "channel": "social",
            "props": {"plan": "gold"},
        },
        {"anon": "a2", "event": "page_viewed", "at": 1, "channel": "email"},
    )
    t = territory()
    table = with_breakdown(t.events(), by, t)
    rows = t.rows(table.select("anonymous_id", "breakdown"))
    assert {r["anonymous_id"]: r["breakdown"] for r in rows} == expected


def test_an_unknown_breakdown_says_which_exist() -> None:
    with pytest.raises(
        AnalyticsError, match=re.escape('"chanel" is not a breakdown; did you mean "channel"')
    ):
        check("chanel")
    with pytest.raises(AnalyticsError, match=re.escape('write a key after "properties."')):
        check("properties.")
