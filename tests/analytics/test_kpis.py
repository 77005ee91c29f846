"""The KPI library on a small hand-built company: every KPI, counted by hand, overall and
split by period, touchpoint, phase and persona; and the queries it refuses."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from tests.analytics.conftest import LATER, MakeTerritory
from tests.identity.conftest import World

from percorso.analytics.kpi_library import KPIS
from percorso.analytics.kpis import KpiQuery, KpiResult, run
from percorso.analytics.territory import AnalyticsError, Territory
from percorso.journey.model import JourneyMap

AS_OF = datetime(2026, 5, 10)  # May is not over: retention compares March with April only
DOCS = Path(__file__).parents[2] / "docs" / "kpis.md"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


def page(anon: str, when: datetime, path: str, **extra: Any) -> dict[str, Any]:
    props = {"path": path, "referrer": extra.pop("referrer", "")}
    return {"anon": anon, "type": "page", "event": "page_view", "at": when, "props": props, **extra}


def track(anon: str, event: str, when: datetime, **props: Any) -> dict[str, Any]:
    return {"anon": anon, "event": event, "at": when, "props": props}


def _company(world: World) -> None:
    world.add(
        # a: a 3-page session (gaps of 10 and exactly 30 minutes), then a 1-page one (gap 31).
        page("a", at(3, 2, 10, 0), "/"),  # word_of_mouth
        page("a", at(3, 2, 10, 10), "/prodotti/x"),  # website_catalogue
        page("a", at(3, 2, 10, 40), "/prodotti/y"),
        page("a", at(3, 2, 11, 11), "/prodotti/z"),
        track("a", "page_scrolled", at(3, 2, 10, 5), percent=50),
        track("a", "page_scrolled", at(3, 2, 10, 41), percent=100),
        track("a", "page_scrolled", at(3, 2, 10, 42)),  # no depth: not counted
        track("a", "email_delivered", at(3, 3), campaign="c1"),
        track("a", "email_opened", at(3, 3, 11), campaign="c1"),
        track("a", "email_clicked", at(3, 3, 11, 1), campaign="c1"),
        track("a", "email_delivered", at(4, 1), campaign="c2"),  # a is active in April
        track("a", "survey_answered", at(3, 4), survey="nps", score=10),
        track("a", "survey_answered", at(3, 4, 11), survey="csat", score=5),
        track("a", "survey_answered", at(3, 4, 12), survey="ces", score=6),
        track("a", "survey_answered", at(3, 4, 13), survey="nps"),  # no score: not counted
        track("a", "ticket_opened", at(3, 20), ticket_id="T3", via="chat"),  # never answered
        # b: one page from a search (a bounce), two opens of the same send.
        page("b", at(3, 2, 12), "/", channel="search"),  # search_ads
        track("b", "page_scrolled", at(3, 2, 12, 1), percent=30),
        track("b", "email_delivered", at(3, 3), campaign="c1"),
        track("b", "email_opened", at(3, 3, 12), campaign="c1"),
        track("b", "email_opened", at(3, 3, 13), campaign="c1"),
        track("b", "survey_answered", at(3, 5), survey="nps", score=6),
        track("b", "survey_answered", at(3, 5, 11), survey="csat", score=3),
        track("b", "survey_answered", at(3, 5, 12), survey="ces", score=3),
        track("b", "ticket_opened", at(3, 10, 9), ticket_id="T1", via="email"),
        track("b", "ticket_replied", at(3, 10, 10, 30), ticket_id="T1"),  # 90 minutes
        track("b", "ticket_replied", at(3, 10, 14), ticket_id="T1"),
        track("b", "ticket_closed", at(3, 11), ticket_id="T1", first_contact_resolution=False),
        # c: a checkout bought 23 hours later (the ERP echoes the web order), another 25 hours.
        track("c", "checkout_started", at(3, 6, 10)),
        track("c", "order_completed", at(3, 7, 9), order_id="W1", total=100),
        track("c", "order_placed", at(3, 7, 9, 2), order_id="OV1", web_order_id="W1", total=100),
        track("c", "survey_answered", at(3, 8), survey="nps", score=8),
        track("c", "survey_answered", at(3, 9), survey="nps", score=9),
        track("c", "checkout_started", at(4, 5, 10)),
        track("c", "order_completed", at(4, 6, 11), order_id="W2", total=50),
        # d: an agent's order (a business), a ticket answered in 30 minutes, a checkout too
        # recent to judge.
        track("d", "order_placed", at(4, 2), order_id="OV9", total=300, channel="agente"),
        track("d", "survey_answered", at(4, 3), survey="csat", score=4),
        track("d", "ticket_opened", at(4, 7, 9), ticket_id="T2", via="telefono"),
        track("d", "ticket_replied", at(4, 7, 9, 30), ticket_id="T2"),
        track("d", "ticket_closed", at(4, 7, 10), ticket_id="T2", first_contact_resolution=True),
        track("d", "checkout_started", at(5, 9, 23)),
        # e: one page that is no touchpoint.
        page("e", at(3, 15), "/chi-siamo", referrer="https://example.org/"),
    )


def _values(result: KpiResult) -> dict[str, tuple[float | None, float, float]]:
    return {k.id: (k.value, k.numerator, k.denominator) for k in result.kpis}


def _groups(result: KpiResult, kpi: str) -> dict[str, tuple[float | None, float, float]] | None:
    found = next(k for k in result.kpis if k.id == kpi)
    if found.groups is None:
        return None
    return {g.group: (g.value, g.numerator, g.denominator) for g in found.groups}


# KPIs that read no JSON text, so that Spark runs them today.
PLAIN = {
    # sessions a1 (3 pages), a2, b1, e1 (1 page each): 3 bounces / 4 sessions
    "bounce_rate": (0.75, 3.0, 4.0),
    # depths 50, 100, 30 (one scroll without a depth is left out)
    "scroll_depth": (60.0, 180.0, 3.0),
    # seen a, b, c, d, e; with an order c, d
    "conversion_rate": (0.4, 2.0, 5.0),
    # c's March checkout bought in 23 h, its April one in 25 h; d's is under 24 h old
    "checkout_abandonment": (0.5, 1.0, 2.0),
    # active in March a, b, c, e; again in April a, c (May is not over)
    "retention": (0.5, 2.0, 4.0),
    "churn_rate": (0.5, 2.0, 4.0),
    # closed T1 (not at first contact), T2 (at first contact)
    "first_contact_resolution": (0.5, 1.0, 2.0),
}
TEXT = {
    # sends (a, c1), (a, c2), (b, c1); opened (a, c1), (b, c1); clicked (a, c1)
    "open_rate": (0.6667, 2.0, 3.0),
    "ctr": (0.3333, 1.0, 3.0),
    # a 10 (+1), b 6 (-1), c 8 (0), c 9 (+1): 100 × 1 / 4
    "nps": (25.0, 1.0, 4.0),
    # a 5, b 3, d 4: two of three answers are 4 or 5
    "csat": (0.6667, 2.0, 3.0),
    # a 6, b 3
    "ces": (4.5, 9.0, 2.0),
    # c: W1 (and its ERP copy) and W2; d: OV9
    "repeat_purchase_rate": (0.5, 1.0, 2.0),
    # T1 answered in 90 minutes, T2 in 30; T3 never
    "response_time": (60.0, 120.0, 2.0),
    # c 100 + 50, d 300, over 2 customers
    "clv_historical": (225.0, 450.0, 2.0),
}


def test_kpis_without_json_text_counted_by_hand_overall_and_by_month(
    world: World, territory: MakeTerritory
) -> None:
    _company(world)
    t = territory(as_of=AS_OF)
    result = run(KpiQuery(kpis=list(PLAIN), by="period"), t)
    assert _values(result) == PLAIN
    assert _groups(result, "bounce_rate") == {"2026-03-01": (0.75, 3.0, 4.0)}
    # March: a, b, c, e seen, c bought; April: a, c, d seen, c and d bought; May: d.
    assert _groups(result, "conversion_rate") == {
        "2026-03-01": (0.25, 1.0, 4.0),
        "2026-04-01": (0.6667, 2.0, 3.0),
        "2026-05-01": (0.0, 0.0, 1.0),
    }
    assert _groups(result, "checkout_abandonment") == {
        "2026-03-01": (0.0, 0.0, 1.0),
        "2026-04-01": (1.0, 1.0, 1.0),
    }
    # Retention belongs to the later month of the two it compares.
    assert _groups(result, "retention") == {"2026-04-01": (0.5, 2.0, 4.0)}
    assert _groups(result, "first_contact_resolution") == {
        "2026-03-01": (0.0, 0.0, 1.0),
        "2026-04-01": (1.0, 1.0, 1.0),
    }


def test_kpis_reading_json_text_and_map_labels_counted_by_hand(
    world: World, territory: MakeTerritory
) -> None:
    _company(world)
    t = territory(as_of=AS_OF)
    everything = run(KpiQuery(), t)
    assert _values(everything) == {**PLAIN, **TEXT}
    assert [k.id for k in everything.kpis] == [k.id for k in KPIS]

    by_touchpoint = run(KpiQuery(kpis=["bounce_rate", "nps", "clv_historical"], by="touchpoint"), t)
    # Bounce rate by where each session landed.
    assert _groups(by_touchpoint, "bounce_rate") == {
        "search_ads": (1.0, 1.0, 1.0),  # b1
        "word_of_mouth": (0.0, 0.0, 1.0),  # a1
        "website_catalogue": (1.0, 1.0, 1.0),  # a2
        "(none)": (1.0, 1.0, 1.0),  # e1
    }
    # NPS of the people who touched each touchpoint: a +1, b -1, c 0 and +1, d none.
    assert _groups(by_touchpoint, "nps") == {
        "search_ads": (-100.0, -1.0, 1.0),  # b
        "word_of_mouth": (100.0, 1.0, 1.0),  # a
        "website_catalogue": (100.0, 1.0, 1.0),  # a
        "cart_checkout": (50.0, 1.0, 2.0),  # c (and d)
        "web_order": (50.0, 1.0, 2.0),  # c
        "marketing_email": (0.0, 0.0, 2.0),  # a, b
        "online_help_desk": (0.0, 0.0, 2.0),  # a (chat), b (email)
        "support_team": (-100.0, -1.0, 1.0),  # b (and d)
        "surveys": (25.0, 1.0, 4.0),  # a, b, c (and d)
    }

    by_phase = run(KpiQuery(kpis=["bounce_rate", "clv_historical"], by="phase"), t)
    assert _groups(by_phase, "bounce_rate") == {
        "awareness": (0.5, 1.0, 2.0),  # a1, b1
        "consideration": (1.0, 1.0, 1.0),  # a2
        "(none)": (1.0, 1.0, 1.0),  # e1
    }
    # Customers c (150) and d (300): both reached purchase and advocacy, d retention.
    assert _groups(by_phase, "clv_historical") == {
        "purchase": (225.0, 450.0, 2.0),
        "retention": (300.0, 300.0, 1.0),
        "advocacy": (225.0, 450.0, 2.0),
    }

    by_month = run(KpiQuery(kpis=["clv_historical"], by="period"), t)
    clv = by_month.kpis[0]
    assert clv.value == 225.0 and clv.groups is None
    assert clv.groups_note is not None and "whole history" in clv.groups_note


def test_kpis_by_persona(world: World, territory: MakeTerritory) -> None:
    _company(world)
    t = territory(as_of=AS_OF)
    result = run(KpiQuery(kpis=["conversion_rate", "clv_historical", "nps"], by="persona"), t)
    # d ordered through an agent: a business; a, b, c, e are consumers.
    assert _groups(result, "conversion_rate") == {
        "business": (1.0, 1.0, 1.0),
        "consumer": (0.25, 1.0, 4.0),
    }
    assert _groups(result, "clv_historical") == {
        "business": (300.0, 300.0, 1.0),
        "consumer": (150.0, 150.0, 1.0),
    }
    assert _groups(result, "nps") == {"consumer": (25.0, 1.0, 4.0)}


def test_a_kpi_with_nothing_to_count_says_so(world: World, default_map: JourneyMap) -> None:
    world.add(page("a", at(3, 2), "/"))
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    result = run(KpiQuery(kpis=["ces", "bounce_rate"]), t)
    ces, bounce = result.kpis
    assert (ces.value, ces.numerator, ces.denominator) == (None, 0.0, 0.0)
    assert ces.note == "no CES answers in the period"
    assert (bounce.value, bounce.note) == (1.0, None)


def test_an_unknown_kpi_says_which_exist(world: World, default_map: JourneyMap) -> None:
    world.add(page("a", at(3, 2), "/"))
    world.update()
    t = Territory(world.warehouse, default_map, LATER)
    with pytest.raises(
        AnalyticsError, match=re.escape('"bounce" is not a KPI; did you mean "bounce_rate"?')
    ):
        run(KpiQuery(kpis=["bounce"]), t)
    # The same KPI twice is measured once.
    assert [k.id for k in run(KpiQuery(kpis=["nps", "nps"]), t).kpis] == ["nps"]


@pytest.mark.parametrize(
    "fields",
    [
        {"kpis": []},
        {"kpis": ["nps"] * (len(KPIS) + 1)},
        {"by": "channel"},
        {"period": "year"},
        {"kpi": ["nps"]},
    ],
)
def test_malformed_kpi_queries_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        KpiQuery.model_validate(fields)


def test_every_kpi_is_documented_in_both_languages() -> None:
    text = DOCS.read_text(encoding="utf-8")
    italian, _, english = text.partition("## English")
    for kpi in KPIS:
        assert f"| `{kpi.id}` | {kpi.label.it}" in italian, f"{kpi.id} is not in the Italian table"
        assert f"| `{kpi.id}` | {kpi.label.en}" in english, f"{kpi.id} is not in the English table"
