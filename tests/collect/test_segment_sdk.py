"""Segment's own Python SDK pointed at our collector: what it sends lands exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from segment.analytics.client import Client

from tests.collect.conftest import Collector


@pytest.mark.parametrize("gzip", [False, True])
def test_every_sdk_call_lands_exactly_once(collector: Collector, gzip: bool) -> None:
    user = f"sdk-{uuid.uuid4()}"
    anonymous = f"anon-{uuid.uuid4()}"
    errors: list[Any] = []
    client = Client(
        write_key=collector.write_key,
        host=collector.url,
        gzip=gzip,
        sync_mode=False,
        upload_size=4,
        on_error=lambda error, batch: errors.append(error),
        max_retries=2,
    )
    when = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    client.identify(
        user, {"email": "giulia@esempio.it", "plan": "caffè-premium"}, anonymous_id=anonymous
    )
    client.track(user, "order_completed", {"order_id": "A-17", "total": 59.9}, timestamp=when)
    client.page(
        user, category="Shop", name="Macchine", properties={"url": "https://aurora.it/macchine"}
    )
    client.screen(user, category="App", name="Carrello")
    client.group(user, "bar-centrale", {"name": "Bar Centrale", "employees": 6})
    client.alias(anonymous, user)
    client.flush()
    client.join()
    assert errors == []
    rows = collector.events(user=user)
    by_type = {str(r["type"]): r for r in rows}
    assert sorted(by_type) == ["alias", "group", "identify", "page", "screen", "track"]
    assert len(rows) == 6
    assert len({r["message_id"] for r in rows}) == 6
    track = by_type["track"]
    assert track["event"] == "order_completed"
    assert track["properties"] == {"order_id": "A-17", "total": 59.9}
    # The SDK sends timestamp and sentAt from the same clock: the event time is kept.
    assert (
        abs((datetime.fromisoformat(str(track["ts"])) - when.replace(tzinfo=None)).total_seconds())
        < 5
    )
    assert by_type["identify"]["traits"]["email"] == "giulia@esempio.it"  # type: ignore[index]
    assert by_type["identify"]["anonymous_id"] == anonymous
    assert by_type["page"]["properties"]["name"] == "Macchine"  # type: ignore[index]
    assert by_type["group"]["group_id"] == "bar-centrale"
    assert by_type["alias"]["previous_id"] == anonymous
    assert str(by_type["track"]["context"]["library"]["name"]).startswith("analytics-python")  # type: ignore[index]


def test_sdk_retry_of_the_same_batch_is_deduplicated(collector: Collector) -> None:
    user = f"sdk-{uuid.uuid4()}"
    client = Client(write_key=collector.write_key, host=collector.url, sync_mode=True)
    message_id = str(uuid.uuid4())
    for _ in range(3):
        client.track(user, "retried", {"n": 1}, message_id=message_id)
    assert len(collector.events(user=user)) == 1
