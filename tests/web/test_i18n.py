"""The dashboard's catalogue: complete in both languages, negotiated like a browser expects."""

from __future__ import annotations

from datetime import date, datetime
from string import Formatter

import pytest

from percorso.app.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, MESSAGES, Catalogue, negotiate
from percorso.events.channel import CHANNELS


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(message) if name}


def test_both_languages_have_the_same_keys() -> None:
    assert set(LANGUAGES) == set(MESSAGES)
    italian = set(MESSAGES["it"])
    for language in LANGUAGES:
        assert set(MESSAGES[language]) == italian, language


@pytest.mark.parametrize("key", sorted(MESSAGES["it"]))
def test_every_message_is_filled_and_takes_the_same_placeholders(key: str) -> None:
    found = {language: MESSAGES[language][key] for language in LANGUAGES}
    assert all(text.strip() for text in found.values())
    assert len({frozenset(placeholders(text)) for text in found.values()}) == 1


def test_every_channel_has_a_name_in_every_language() -> None:
    for language in LANGUAGES:
        assert {f"channel.{c}" for c in CHANNELS} <= set(MESSAGES[language])


@pytest.mark.parametrize(
    ("channel", "italian", "english"),
    [
        ("social", "social", "social"),
        ("search", "ricerca", "search"),
        ("email", "email", "email"),
        ("paid", "a pagamento", "paid"),
        ("referral", "referral", "referral"),
        ("direct", "diretto", "direct"),
        ("form", "modulo", "form"),
        ("crm", "CRM", "CRM"),
        ("erp", "ERP", "ERP"),
        ("support", "assistenza", "support"),
        ("survey", "sondaggi", "survey"),
        (None, "(sconosciuto)", "(unknown)"),
        ("teletext", "(sconosciuto)", "(unknown)"),
    ],
)
def test_channel_names(channel: str | None, italian: str, english: str) -> None:
    assert Catalogue("it").channel(channel) == italian
    assert Catalogue("en").channel(channel) == english


@pytest.mark.parametrize(
    ("requested", "accept_language", "expected"),
    [
        (None, None, "it"),
        (None, "", "it"),
        ("en", None, "en"),
        ("EN", "it-IT", "en"),
        ("it", "en-US,en;q=0.9", "it"),
        # An unknown ?lang= falls back to the browser rather than failing the page.
        ("fr", "en-GB", "en"),
        (None, "en-US,en;q=0.9,it;q=0.8", "en"),
        (None, "it-IT,it;q=0.9,en-US;q=0.8", "it"),
        (None, "de-DE,de;q=0.9,en;q=0.5", "en"),
        (None, "fr-FR, it;q=0.4, en;q=0.6", "en"),
        (None, "en;q=0, it", "it"),
        (None, "en;q=0", "it"),
        (None, "de, fr", "it"),
        (None, "*", "it"),
        (None, "en;q=abc, it;q=0.1", "it"),
    ],
)
def test_negotiate(requested: str | None, accept_language: str | None, expected: str) -> None:
    assert negotiate(requested, accept_language) == expected
    assert DEFAULT_LANGUAGE == "it"


@pytest.mark.parametrize(
    ("t", "number", "shares", "moment", "day", "count_one", "count_many"),
    [
        (
            Catalogue("it"),
            "1.234.567",
            ("33,3%", "0,0%"),
            "05/03/2026 14:07 UTC",
            "05/03/2026",
            "1 evento",
            "2.500 eventi",
        ),
        (
            Catalogue("en"),
            "1,234,567",
            ("33.3%", "0.0%"),
            "2026-03-05 14:07 UTC",
            "2026-03-05",
            "1 event",
            "2,500 events",
        ),
    ],
)
def test_formats(
    t: Catalogue,
    number: str,
    shares: tuple[str, str],
    moment: str,
    day: str,
    count_one: str,
    count_many: str,
) -> None:
    assert t.number(1_234_567) == number
    # An empty store has no shares to divide: 0, not a division error.
    assert (t.percent(1, 3), t.percent(0, 0)) == shares
    assert t.moment(datetime(2026, 3, 5, 14, 7, 9)) == moment
    assert t.moment(None) == "—"
    assert t.day(date(2026, 3, 5)) == day
    assert t.count(1) == count_one
    assert t.count(2500) == count_many


def test_labels_escape_values_but_keep_markup() -> None:
    t = Catalogue("en")
    assert str(t("chart.bar", period="<b>", events="1 event")) == "&lt;b&gt;: 1 event"
    assert str(Catalogue("it")("empty.docs", path="a&b")) == "La guida è in a&amp;b."
    with pytest.raises(KeyError):
        t("no.such.key")
