"""`channel` and `device` are what the product's own classifiers say for each row."""

from __future__ import annotations

import orjson
import pytest

from percorso.events.channel import CHANNELS, classify_channel
from percorso.events.device import classify_device
from tests.demo.conftest import Demo


@pytest.mark.parametrize(
    "source", ["sito-web", "social", "mailer", "forms", "crm", "erp", "helpdesk", "surveys"]
)
def test_channel_and_device_agree_with_classifiers_on_a_sample(demo: Demo, source: str) -> None:
    rows = demo.rows(
        f"""
        SELECT type, event, channel, device, properties, context FROM events
        WHERE source = '{source}'
        ORDER BY hash(message_id) LIMIT 400
        """
    )
    assert rows
    for kind, event, channel, device, properties, context in rows:
        ctx = orjson.loads(str(context))
        props = orjson.loads(str(properties))
        expected = classify_channel(
            source=source, event_type=str(kind), event=str(event), context=ctx, properties=props
        )
        assert channel == expected, (event, ctx)
        assert device == classify_device(ctx), ctx.get("userAgent")


def test_landing_pages_carry_every_acquisition_channel(demo: Demo) -> None:
    channels = {r[0] for r in demo.rows("SELECT DISTINCT channel FROM events")}
    assert channels == set(CHANNELS)
    web = {r[0] for r in demo.rows("SELECT DISTINCT channel FROM events WHERE source = 'sito-web'")}
    assert {"social", "search", "email", "paid", "referral", "direct", "form"} <= web


def test_devices_include_every_kind_and_crawlers(demo: Demo) -> None:
    devices = {
        r[0] for r in demo.rows("SELECT DISTINCT device FROM events WHERE source = 'sito-web'")
    }
    assert devices == {"desktop", "mobile", "tablet", "bot"}
