"""Segment-spec validation: each message type, what it requires, clock-skew correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from percorso.events.model import Message, explain
from percorso.events.normalise import EventBuilder, content_message_id, event_time

VALID: list[tuple[dict[str, Any], str]] = [
    ({"type": "track", "userId": "u1", "event": "order_completed"}, "order_completed"),
    ({"type": "identify", "userId": "u1", "traits": {"email": "a@b.it"}}, "identify"),
    ({"type": "page", "anonymousId": "a1", "name": "Home"}, "page_view"),
    ({"type": "screen", "userId": 42, "name": "Cart"}, "screen_view"),
    ({"type": "group", "userId": "u1", "groupId": "acme"}, "group"),
    ({"type": "alias", "previousId": "a1", "userId": "u1"}, "alias"),
]


@pytest.mark.parametrize(("raw", "event"), VALID)
def test_each_message_type_validates(raw: dict[str, Any], event: str) -> None:
    message = Message.model_validate(raw)
    assert message.type == raw["type"]
    assert message.event_name == event


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"type": "track", "userId": "u1"}, "a track needs 'event'"),
    ({"type": "track", "userId": "u1", "event": "  "}, "a track needs 'event'"),
    ({"type": "track", "event": "x"}, "needs 'userId' or 'anonymousId'"),
    ({"type": "identify", "userId": ""}, "needs 'userId' or 'anonymousId'"),
    ({"type": "group", "userId": "u1"}, "a group needs 'groupId'"),
    ({"type": "alias", "userId": "u1"}, "an alias needs both 'previousId' and 'userId'"),
    ({"type": "nonsense", "userId": "u1"}, "type"),
    ({"type": "track", "userId": True, "event": "x"}, "userId: Input should be a valid string"),
    ({"type": "track", "userId": "u1", "event": "x", "timestamp": "yesterday"}, "timestamp"),
    ({"type": "track", "userId": "u1", "event": "x", "properties": [1, 2]}, "properties"),
    ({"type": "track", "userId": "x" * 600, "event": "x"}, "userId"),
]


@pytest.mark.parametrize(("raw", "fragment"), INVALID)
def test_invalid_messages_are_explained(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Message.model_validate(raw)
    assert fragment in explain(caught.value)


def test_numeric_ids_become_strings() -> None:
    message = Message.model_validate({"type": "identify", "userId": 12345, "anonymousId": 1.5})
    assert message.user_id == "12345"
    assert message.anonymous_id == "1.5"


def test_ids_are_stripped_and_blank_ids_count_as_absent() -> None:
    message = Message.model_validate(
        {"type": "track", "userId": "  u1 ", "anonymousId": " ", "event": "e"}
    )
    assert message.user_id == "u1"
    assert not message.anonymous_id


def test_page_name_and_category_move_to_properties() -> None:
    message = Message.model_validate(
        {
            "type": "page",
            "anonymousId": "a",
            "name": "Prodotto",
            "category": "Shop",
            "properties": {"x": 1},
        }
    )
    assert message.event_properties == {"x": 1, "name": "Prodotto", "category": "Shop"}


RECEIVED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # No device time: the event happened when we received it.
        ({}, RECEIVED),
        # A device clock 1 hour fast: the 2-second gap between event and send is kept.
        (
            {"timestamp": "2026-05-01T13:00:00Z", "sentAt": "2026-05-01T13:00:02Z"},
            RECEIVED - timedelta(seconds=2),
        ),
        # originalTimestamp wins over timestamp as the device time (analytics.js).
        (
            {
                "originalTimestamp": "2026-05-01T09:59:50Z",
                "timestamp": "2000-01-01T00:00:00Z",
                "sentAt": "2026-05-01T10:00:00Z",
            },
            RECEIVED - timedelta(seconds=10),
        ),
        # Without sentAt a given timestamp is honoured as is (historical imports).
        ({"timestamp": "2025-01-01T08:00:00+01:00"}, datetime(2025, 1, 1, 7, 0, tzinfo=UTC)),
    ],
)
def test_clock_skew_correction(fields: dict[str, str], expected: datetime) -> None:
    message = Message.model_validate({"type": "track", "userId": "u", "event": "e", **fields})
    assert event_time(message, RECEIVED, None) == expected


def test_batch_sent_at_is_used_when_the_message_has_none() -> None:
    message = Message.model_validate(
        {"type": "track", "userId": "u", "event": "e", "timestamp": "2026-05-01T15:00:00Z"}
    )
    batch_sent = datetime(2026, 5, 1, 15, 0, 5, tzinfo=UTC)
    assert event_time(message, RECEIVED, batch_sent) == RECEIVED - timedelta(seconds=5)


def test_builder_rows_are_naive_utc_and_json() -> None:
    builder = EventBuilder()
    message = Message.model_validate(
        {"type": "track", "userId": "u", "event": "e", "properties": {"amount": 10}}
    )
    builder.add(message, source="erp", received_at=RECEIVED, message_id="m1")
    row = builder.table().to_pylist()[0]
    assert row["ts"] == datetime(2026, 5, 1, 12, 0)
    assert row["ts"].tzinfo is None
    assert row["properties"] == '{"amount":10}'
    assert row["channel"] == "erp"


def test_content_message_id_is_stable_and_order_insensitive() -> None:
    first = content_message_id("s", {"a": 1, "b": 2})
    assert first == content_message_id("s", {"b": 2, "a": 1})
    assert first != content_message_id("other", {"a": 1, "b": 2})
    assert first.startswith("pc-")
