"""The drawn maps as HTML: words in the chosen language, numbers per language,
pain points marked, everything escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from percorso.events.channel import CHANNELS
from percorso.events.device import DEVICES
from percorso.journey.catalogue import LANGUAGES, WORDS, Words
from percorso.journey.render import page_size, render_integrations_html, render_map_html
from percorso.journey.views import IntegrationView, MapView
from tests.journey.samples import sample_integrations, sample_map


@pytest.fixture
def journey() -> MapView:
    """A small shop's map: five phases, two or three touchpoints each, pain points."""
    return sample_map()


@pytest.fixture
def integrations() -> IntegrationView:
    return sample_integrations()


def text_of(html: str) -> str:
    """The page's visible words, tags removed and entities decoded."""
    body = html.split("<body>", 1)[1]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# ---------------------------------------------------------------- catalogue


def test_both_languages_have_the_same_words() -> None:
    assert set(WORDS["it"]) == set(WORDS["en"])
    for key in WORDS["it"]:
        assert set(re.findall(r"{(\w+)}", WORDS["it"][key])) == set(
            re.findall(r"{(\w+)}", WORDS["en"][key])
        ), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_channel_and_device_has_words(language: str) -> None:
    for channel in CHANNELS:
        assert f"channel.{channel}" in WORDS[language]  # type: ignore[index]
    for device in DEVICES:
        assert f"device.{device}" in WORDS[language]  # type: ignore[index]


@pytest.mark.parametrize(
    ("language", "value", "decimals", "expected"),
    [
        ("it", 12345, 0, "12.345"),
        ("en", 12345, 0, "12,345"),
        ("it", 1234567.25, 1, "1.234.567,2"),
        ("en", 1234567.25, 1, "1,234,567.2"),
        ("it", 0, 0, "0"),
        ("en", 999, 0, "999"),
    ],
)
def test_numbers_per_language(language: str, value: float, decimals: int, expected: str) -> None:
    assert Words(language).number(value, decimals) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "share", "expected"),
    [("it", 0.452, "45,2%"), ("en", 0.452, "45.2%"), ("it", None, "—"), ("en", 1.0, "100.0%")],
)
def test_percent_per_language(language: str, share: float | None, expected: str) -> None:
    assert Words(language).percent(share) == expected  # type: ignore[arg-type]


# ---------------------------------------------------------------- wall map


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_map_shows_every_phase_and_touchpoint_in_the_language(
    journey: MapView, language: str
) -> None:
    text = text_of(render_map_html(journey, language))  # type: ignore[arg-type]
    other = "en" if language == "it" else "it"
    for column in journey.phases:
        assert getattr(column.label, language) in text
        for touchpoint in column.touchpoints:
            assert getattr(touchpoint.label, language) in text
    assert getattr(journey.persona_label, language) in text
    # Labels that differ between the languages appear in one only.
    assert getattr(journey.phases[0].label, other) not in text
    assert getattr(journey.phases[0].touchpoints[0].label, other) not in text


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("it", ["12.345", "45,2%", "31,8%", "9,2 giorni", "20.412", "6.765 persi", "Dati al", "20/11/2025"], ["12,345", "45.2%"]),
        ("en", ["12,345", "45.2%", "31.8%", "9.2 days", "20,412", "6,765 lost", "Data as of", "2025-11-20"], ["12.345", "45,2%"]),
    ],
)  # fmt: skip
def test_the_map_formats_numbers_for_the_language(
    journey: MapView, language: str, expected: list[str], absent: list[str]
) -> None:
    text = text_of(render_map_html(journey, language))  # type: ignore[arg-type]
    for shown in expected:
        assert shown in text, shown
    for wrong in absent:
        assert wrong not in text, wrong


def test_the_map_without_persona_says_all_profiles(journey: MapView) -> None:
    every = journey.model_copy(update={"persona": None, "persona_label": None})
    assert "Tutti i profili" in text_of(render_map_html(every, "it"))
    assert "All profiles" in text_of(render_map_html(every, "en"))


def test_pain_points_are_marked_on_the_map_and_listed(journey: MapView) -> None:
    html = render_map_html(journey, "en")
    # The quote form card (pain=True and pain point 1) is drawn as a pain point.
    card = re.search(
        r'<div class="card([^"]*)" data-touchpoint="quote">(.*?)</div>\s*</div>', html, re.S
    )
    assert card is not None and "pain" in card.group(1)
    assert "Pain point" in card.group(2) and '<span class="marker">1</span>' in card.group(2)
    # A calm card is not.
    calm = re.search(r'<div class="card([^"]*)" data-touchpoint="catalogue">', html)
    assert calm is not None and "pain" not in calm.group(1)
    # The purchase phase's drop-off (pain=True, pain point 2) has a red arrow and its number.
    purchase = re.search(
        r'lane-conversion" data-phase="purchase"[^>]*>(.*?)</div>\s*</div>', html, re.S
    )
    assert purchase is not None
    assert 'class="arrow pain' in purchase.group(
        1
    ) and '<span class="marker">2</span>' in purchase.group(1)
    awareness = re.search(r'lane-conversion" data-phase="awareness"[^>]*>(.*?)</div>', html, re.S)
    assert awareness is not None and "pain" not in awareness.group(1)
    # The margin lists both, with what was lost.
    text = text_of(html)
    assert "The quote form loses two visitors in three" in text
    assert "3,805 profiles lost" in text and "514 profiles lost" in text
    assert text.count("Pain point") == 3  # two cards/arrows flagged and the margin's heading


def test_the_map_escapes_labels(journey: MapView) -> None:
    html = render_map_html(journey, "it")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_pages_are_self_contained_and_sized(
    journey: MapView, integrations: IntegrationView
) -> None:
    for view, html in (
        (journey, render_map_html(journey, "it")),
        (integrations, render_integrations_html(integrations, "it")),
    ):
        # Nothing to fetch: url(#id) points inside the page (the SVG's arrowheads).
        assert not re.search(r"(src|href)=|url\((?!#)|@import|<script", html)
        width, height = page_size(view)
        assert f"@page {{ size: {width}px {height}px; margin: 0; }}" in html
        assert f"html, body {{ width: {width}px; height: {height}px; }}" in html


def test_the_page_grows_with_phases_and_touchpoints(journey: MapView) -> None:
    width, height = page_size(journey)
    fewer = journey.model_copy(update={"phases": journey.phases[:4]})
    assert page_size(fewer)[0] < width
    taller = journey.model_copy(deep=True)
    taller.phases[1].touchpoints.extend(journey.phases[0].touchpoints)
    assert page_size(taller)[0] == width and page_size(taller)[1] > height


def test_an_empty_map_still_renders() -> None:
    empty = MapView(
        title="Vuota",
        persona=None,
        persona_label=None,
        as_of=datetime(2025, 1, 1, tzinfo=UTC),
        map_version=None,
        profiles=0,
        phases=[],
        pain_points=[],
    )
    text = text_of(render_map_html(empty, "it"))
    assert "Nessun punto critico misurato." in text and "non salvata" in text
    assert page_size(empty)[0] > 0 and page_size(empty)[1] > 0


# ---------------------------------------------------------------- integration map


@pytest.mark.parametrize(
    ("language", "coverages"),
    [
        ("it", ["90,0%", "80,0%", "73,3%", "40,0%", "96,1%"]),
        ("en", ["90.0%", "80.0%", "73.3%", "40.0%", "96.1%"]),
    ],
)
def test_the_integration_map_shows_each_flows_coverage(
    integrations: IntegrationView, language: str, coverages: list[str]
) -> None:
    html = render_integrations_html(integrations, language)  # type: ignore[arg-type]
    text = text_of(html)
    for coverage in coverages:
        assert text.count(coverage) == 2, coverage  # on the arrow and in the table
    for flow in integrations.flows:
        assert getattr(flow.label, language) in text
    for system in integrations.systems:
        assert getattr(system.label, language) in text
    # Five flows with a population are drawn; the empty one is drawn dashed.
    assert len(re.findall(r'<path class="flow ', html)) == 6
    assert '<path class="flow none"' in html


def test_low_coverage_flows_are_red(integrations: IntegrationView) -> None:
    html = render_integrations_html(integrations, "en")
    grades = re.findall(r'<path class="flow (\w+)" data-flow="(\d+)"', html)
    assert grades == [("good", "1"), ("good", "2"), ("fair", "3"), ("poor", "4"), ("good", "5"), ("none", "6")]  # fmt: skip
    row = re.search(r'<tr class="(\w+)" data-flow="4">', html)
    assert row is not None and row.group(1) == "poor"


def test_a_flow_to_an_unknown_system_is_listed_not_drawn(integrations: IntegrationView) -> None:
    broken = integrations.model_copy(deep=True)
    broken.flows[0].target = "gone"
    html = render_integrations_html(broken, "en")
    assert len(re.findall(r'<path class="flow ', html)) == 5
    assert "not drawn: system missing from the map" in text_of(html)
