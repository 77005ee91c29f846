"""The shape of the journeys: stages, hand-off losses, repeat purchases, churn, rhythms."""

from __future__ import annotations

import pytest

from percorso.demo.vocabulary import EVENTS
from tests.demo.conftest import Demo

LOCAL_HOUR = "hour(timezone('Europe/Rome', ts::TIMESTAMPTZ))"


def test_every_source_sends_only_its_vocabulary(demo: Demo) -> None:
    found: dict[str, set[str]] = {}
    for source, event in demo.rows("SELECT DISTINCT source, event FROM events"):
        found.setdefault(str(source), set()).add(str(event))
    assert set(found) == set(EVENTS)
    for source, vocabulary in EVENTS.items():
        assert found[source] <= vocabulary, source
    assert found["sito-web"] >= {"page_view", "order_completed", "form_submitted", "identify"}


def test_type_matches_event(demo: Demo) -> None:
    pairs = {(str(t), str(e)) for t, e in demo.rows("SELECT DISTINCT type, event FROM events")}
    for kind, event in pairs:
        expected = {"page_view": "page", "identify": "identify"}.get(event, "track")
        assert kind == expected, event


def test_every_stage_is_reached_and_suspects_are_the_biggest_group(demo: Demo) -> None:
    stages = dict(demo.rows("SELECT stage, count(*) FROM people WHERE persona != 'bot' GROUP BY 1"))
    assert set(stages) == {"suspect", "prospect", "lead", "customer", "churned"}
    assert max(stages, key=lambda s: stages[s]) == "suspect"
    assert demo.value("SELECT bool_and(segment IS NULL) FROM people WHERE persona = 'bot'") is True
    assert {r[0] for r in demo.rows("SELECT DISTINCT segment FROM people")} == {"B2C", "B2B", None}


def test_anonymous_visits_on_several_devices_are_later_identified(demo: Demo) -> None:
    people = demo.value(
        """
        WITH browser AS (
            SELECT person_id, anonymous_id, any_value(device) AS device,
                   min(ts) FILTER (WHERE user_id IS NULL) AS anonymous_since,
                   min(ts) FILTER (WHERE user_id IS NOT NULL) AS identified_since
            FROM owned WHERE source = 'sito-web' AND anonymous_id IS NOT NULL GROUP BY ALL
        )
        SELECT count(*) FROM (
            SELECT person_id FROM browser WHERE anonymous_since < identified_since
            GROUP BY 1 HAVING count(DISTINCT device) >= 2
        )
        """
    )
    assert people >= 5


def test_mobile_visitors_abandon_forms_more_than_desktop_ones(demo: Demo) -> None:
    rates = dict(
        demo.rows(
            """
            WITH visit AS (
                SELECT anonymous_id, ts::DATE AS day, any_value(device) AS device,
                       bool_or(event = 'page_view' AND properties->>'path'
                               IN ('/contatti', '/preventivo', '/newsletter')) AS opened,
                       bool_or(event = 'form_submitted') AS sent
                FROM events WHERE source = 'sito-web' GROUP BY ALL
            )
            SELECT device, 1 - avg(sent::INT) FROM visit WHERE opened GROUP BY 1
            """
        )
    )
    assert rates["mobile"] > rates["desktop"] + 0.1
    assert 0.05 < rates["desktop"] < rates["tablet"] < rates["mobile"] < 0.8


def test_visitors_from_social_media_are_identified_less_often(demo: Demo) -> None:
    rates = dict(
        demo.rows(
            """
            WITH web AS (
                SELECT person_id, arg_min(channel, ts) AS first_channel, bool_or(user_id IS NOT NULL) AS known
                FROM owned WHERE source = 'sito-web' AND event = 'page_view' AND device != 'bot'
                GROUP BY 1
            )
            SELECT first_channel, avg(known::INT) FROM web GROUP BY 1
            """
        )
    )
    assert rates["social"] < rates["search"]
    assert rates["social"] < rates["direct"]


def test_hand_offs_lose_people(demo: Demo) -> None:
    def people_with(kind: str, without: str) -> int:
        return int(
            demo.value(
                f"""
            SELECT count(DISTINCT person_id) FROM truth WHERE identifier_kind = '{kind}'
            AND person_id NOT IN (SELECT person_id FROM truth WHERE identifier_kind = '{without}')
            """
            )
        )

    form_without_crm = demo.value(
        """
        SELECT count(DISTINCT person_id) FROM owned WHERE source = 'forms'
        AND person_id NOT IN (SELECT person_id FROM truth WHERE identifier_kind = 'crm_id')
        """
    )
    subscribers = demo.rows(
        """
        SELECT person_id IN (SELECT person_id FROM truth WHERE identifier_kind = 'crm_id'), count(*)
        FROM (SELECT DISTINCT person_id FROM owned WHERE event = 'subscribed') GROUP BY 1
        """
    )
    assert form_without_crm > 0
    assert people_with("erp_id", without="crm_id") > 0  # accounts an agent opened by phone
    assert dict(subscribers)[False] > dict(subscribers)[True]


def test_customers_reorder_and_buy_more_than_coffee(demo: Demo) -> None:
    repeat = demo.value(
        "SELECT count(*) FROM (SELECT user_id FROM events WHERE event = 'order_placed' GROUP BY 1 HAVING count(*) >= 3)"
    )
    assert repeat >= 20
    cross_sell = demo.value(
        """
        WITH lines AS (
            SELECT user_id, ts, unnest(from_json(properties->'lines', '[{"sku":"VARCHAR"}]')).sku AS sku
            FROM events WHERE event = 'order_placed'
        ),
        machine AS (SELECT user_id, min(ts) AS bought FROM lines WHERE sku LIKE 'MAC-AUR%' GROUP BY 1)
        SELECT count(DISTINCT l.user_id) FROM lines l JOIN machine m USING (user_id)
        WHERE l.ts > m.bought AND (l.sku LIKE 'ACC-%' OR l.sku LIKE 'ABB-%')
        """
    )
    assert cross_sell >= 5


def test_churned_customers_order_nothing_after_churning(demo: Demo) -> None:
    churned = demo.value("SELECT count(*) FROM people WHERE churned")
    assert churned > 0
    assert demo.value("SELECT bool_and(churned_at IS NOT NULL) FROM people WHERE churned") is True
    late = demo.value(
        """
        SELECT count(*) FROM owned o JOIN people p USING (person_id)
        WHERE p.churned AND o.event IN ('order_placed', 'order_completed') AND o.ts >= p.churned_at
        """
    )
    assert late == 0
    assert demo.value("SELECT count(*) FROM people WHERE won_back") > 0


def test_bad_support_makes_churn_more_likely(demo: Demo) -> None:
    rows = dict(
        demo.rows(
            """
            WITH ticket AS (
                SELECT person_id, properties->>'ticket_id' AS id, bool_or(event = 'ticket_closed') AS closed
                FROM owned WHERE source = 'helpdesk' GROUP BY ALL
            ),
            unhappy AS (SELECT DISTINCT person_id FROM ticket WHERE NOT closed)
            SELECT person_id IN (SELECT person_id FROM unhappy), avg(churned::INT)
            FROM people WHERE stage IN ('customer', 'churned') GROUP BY 1
            """
        )
    )
    assert rows[True] > rows[False]


def test_tickets_resolved_first_time_slow_and_never(demo: Demo) -> None:
    closed = dict(
        demo.rows(
            "SELECT (properties->>'first_contact_resolution')::BOOL, count(*) FROM events "
            "WHERE event = 'ticket_closed' GROUP BY 1"
        )
    )
    assert closed[True] > 0 and closed[False] > 0
    opened, shut = demo.rows(
        "SELECT count(*) FILTER (WHERE event = 'ticket_opened'), count(*) FILTER (WHERE event = 'ticket_closed') "
        "FROM events"
    )[0]
    assert shut < opened


@pytest.mark.parametrize(
    ("where", "low", "high"),
    [
        ("source = 'crm' AND event != 'contact_created'", 0.9, 1.0),
        ("source = 'erp' AND properties->>'channel' IN ('agente', 'telefono')", 0.9, 1.0),
    ],
)
def test_back_office_works_office_hours(demo: Demo, where: str, low: float, high: float) -> None:
    share = demo.value(
        f"SELECT avg(({LOCAL_HOUR} BETWEEN 8 AND 18)::INT) FROM events WHERE {where}"
    )
    assert low <= share <= high


def test_consumers_browse_in_the_evening_and_buy_gifts_in_december(demo: Demo) -> None:
    evening, morning = demo.rows(
        f"""
        SELECT avg(({LOCAL_HOUR} BETWEEN 19 AND 22)::INT), avg(({LOCAL_HOUR} BETWEEN 8 AND 11)::INT)
        FROM owned JOIN people USING (person_id)
        WHERE event = 'page_view' AND persona = 'privato'
        """
    )[0]
    assert evening > 1.5 * morning
    orders = dict(
        demo.rows(
            "SELECT strftime(ts, '%Y-%m'), count(*) FROM events WHERE event = 'order_completed' GROUP BY 1"
        )
    )
    assert orders["2025-12"] > 1.2 * orders["2025-11"]
    first, last = demo.rows(
        "SELECT count(*) FILTER (WHERE ts < '2025-11-01'), count(*) FILTER (WHERE ts >= '2026-05-01') FROM events"
    )[0]
    assert last > first


def test_a_browser_is_identified_before_its_events_carry_the_user(demo: Demo) -> None:
    early = demo.rows(
        """
        SELECT anonymous_id, user_id, arg_min(event, ts) AS first_event
        FROM events WHERE source = 'sito-web' AND user_id IS NOT NULL AND anonymous_id IS NOT NULL
        GROUP BY ALL HAVING first_event != 'identify' LIMIT 5
        """
    )
    assert early == []
