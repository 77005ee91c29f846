"""Channel classification table: source system first, then campaign tags, then referrer."""

from __future__ import annotations

from typing import Any

import pytest

from percorso.events.channel import CHANNELS, classify_channel, source_kind

CASES: list[tuple[str, str | None, dict[str, Any], str]] = [
    # (source, event, context, expected channel)
    ("crm", "deal_stage_changed", {}, "crm"),
    ("erp-gestionale", "order_placed", {"page": {"url": "https://x.it/?utm_medium=email"}}, "erp"),
    ("helpdesk", "ticket_opened", {}, "support"),
    ("zendesk", "ticket_closed", {}, "support"),
    ("surveys", "survey_answered", {}, "survey"),
    ("mailer", "email_opened", {}, "email"),
    ("mailchimp", "email_clicked", {}, "email"),
    ("forms", "form_submitted", {}, "form"),
    ("social", "social_interaction", {}, "social"),
    ("sito-web", "form_submitted", {"page": {"url": "https://shop.it/contatti"}}, "form"),
    ("sito-web", "page_view", {"campaign": {"medium": "email", "source": "newsletter"}}, "email"),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/?utm_source=nl&utm_medium=newsletter"}},
        "email",
    ),
    ("sito-web", "page_view", {"campaign": {"medium": "cpc", "source": "google"}}, "paid"),
    ("sito-web", "page_view", {"page": {"url": "https://shop.it/?gclid=abc"}}, "paid"),
    ("sito-web", "page_view", {"campaign": {"medium": "social", "source": "facebook"}}, "social"),
    ("sito-web", "page_view", {"campaign": {"source": "instagram"}}, "social"),
    ("sito-web", "page_view", {"campaign": {"medium": "organic"}}, "search"),
    ("sito-web", "page_view", {"campaign": {"medium": "referral"}}, "referral"),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://www.google.it/"}},
        "search",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://duckduckgo.com/"}},
        "search",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://l.facebook.com/l.php"}},
        "social",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://t.co/abc"}},
        "social",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://www.linkedin.com/feed"}},
        "social",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://mail.google.com/mail/u/0"}},
        "email",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://blog.partner.it/post"}},
        "referral",
    ),
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/b", "referrer": "https://shop.it/a"}},
        "direct",
    ),
    ("sito-web", "page_view", {"page": {"url": "https://shop.it/"}}, "direct"),
    ("sito-web", "page_view", {}, "direct"),
    ("sito-web", "page_view", {"page": {"url": "https://shop.it/?fbclid=1"}}, "social"),
    # The session's landing referrer (context.referrer) wins over the internal page referrer.
    (
        "sito-web",
        "page_view",
        {
            "referrer": {"url": "https://www.bing.com/"},
            "page": {"url": "https://shop.it/b", "referrer": "https://shop.it/a"},
        },
        "search",
    ),
    # Lookalike hosts are not search engines.
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "https://notgoogle.example.com/"}},
        "referral",
    ),
    # A referrer that is not a URL says nothing about where the visitor came from.
    (
        "sito-web",
        "page_view",
        {"page": {"url": "https://shop.it/", "referrer": "not a url"}},
        "direct",
    ),
]


@pytest.mark.parametrize(("source", "event", "context", "expected"), CASES)
def test_classify_channel(
    source: str, event: str | None, context: dict[str, Any], expected: str
) -> None:
    found = classify_channel(
        source=source, event_type="track", event=event, context=context, properties={}
    )
    assert found == expected
    assert found in CHANNELS


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sito-web", "web"),
        ("crm-hubspot", "crm"),
        ("gestionale", "erp"),
        ("assistenza", "helpdesk"),
        ("brevo", "mailer"),
        ("typeform-moduli", "forms"),
        ("nps-surveys", "survey"),
        ("app-ios", "web"),
    ],
)
def test_source_kind(name: str, kind: str) -> None:
    assert source_kind(name) == kind


def test_page_url_in_properties_is_used_when_context_has_none() -> None:
    found = classify_channel(
        source="sito-web",
        event_type="page",
        event="page_view",
        context={},
        properties={"url": "https://shop.it/?utm_medium=cpc"},
    )
    assert found == "paid"
