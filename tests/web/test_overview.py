"""The overview page's chart and template, from hand-made totals (no server needed)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from percorso.app.web.i18n import Catalogue
from percorso.app.web.overview import PLOT_BOTTOM, PLOT_TOP, chart, render_overview, ticks
from percorso.warehouse.stats import ChannelTotal, DayTotal, SourceTotal, StoreStats


def days(*pairs: tuple[date, int]) -> list[DayTotal]:
    return [DayTotal(day=d, events=n) for d, n in pairs]


def stats(by_day: list[DayTotal]) -> StoreStats:
    total = sum(d.events for d in by_day)
    return StoreStats(
        events=total,
        failed_events=3,
        sources=["crm-vendite", "sito-web"],
        first_ts=datetime(2026, 3, 2, 9, 30) if by_day else None,
        last_ts=datetime(2026, 3, 4, 18, 5) if by_day else None,
        by_source=[
            SourceTotal(source="crm-vendite", events=total // 4),
            SourceTotal(source="sito-web", events=total - total // 4),
        ],
        by_channel=[
            ChannelTotal(channel=None, events=1),
            ChannelTotal(channel="crm", events=total // 4),
            ChannelTotal(channel="form", events=total - total // 4 - 1),
        ],
        by_day=by_day,
        profiles=total // 10,
    )


MARCH = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(
    ("rows", "bucket", "starts", "events"),
    [
        (days((MARCH, 5)), "day", [MARCH], [5]),
        # Days without events are bars of zero, not missing bars.
        (
            days((MARCH, 5), (MARCH + timedelta(days=3), 2)),
            "day",
            [MARCH + timedelta(days=i) for i in range(4)],
            [5, 0, 0, 2],
        ),
        # Past three months, weeks (starting on Monday).
        (
            days(
                (MARCH + timedelta(days=2), 4),
                (MARCH + timedelta(days=4), 1),
                (MARCH + timedelta(days=100), 7),
            ),
            "week",
            [MARCH + timedelta(weeks=i) for i in range(15)],
            [5] + [0] * 13 + [7],
        ),
        # Past two years, months.
        (
            days((date(2024, 1, 31), 2), (date(2024, 2, 1), 3), (date(2026, 3, 4), 9)),
            "month",
            [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(27)],
            [2, 3] + [0] * 24 + [9],
        ),
    ],
)
def test_chart_buckets(
    rows: list[DayTotal], bucket: str, starts: list[date], events: list[int]
) -> None:
    found = chart(rows)
    assert found is not None
    assert found.bucket == bucket
    assert [b.start for b in found.bars] == starts
    assert [b.events for b in found.bars] == events
    assert sum(events) == sum(r.events for r in rows)
    assert found.peak == max(events)
    tallest = max(found.bars, key=lambda b: b.events)
    assert (tallest.y, tallest.y + tallest.height) == (PLOT_TOP, PLOT_BOTTOM)
    assert all(b.height == 0 for b in found.bars if not b.events)
    assert all(b.height >= 1.5 for b in found.bars if b.events)
    xs = [b.x for b in found.bars]
    assert xs == sorted(xs)


def test_no_events_no_chart() -> None:
    assert chart([]) is None
    assert ticks(None, Catalogue("it")) == []


def test_ticks_name_the_first_middle_and_last_period() -> None:
    found = chart(days((MARCH, 1), (MARCH + timedelta(days=10), 1)))
    assert [(t.label, t.anchor) for t in ticks(found, Catalogue("it"))] == [
        ("02/03/2026", "start"),
        ("07/03/2026", "middle"),
        ("12/03/2026", "end"),
    ]
    weekly = chart(days((MARCH, 1), (MARCH + timedelta(days=200), 1)))
    assert ticks(weekly, Catalogue("en"))[0].label == "week of 2026-03-02"


def text_of(html: str) -> str:
    """The page's visible words, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "it",
            [
                "Panoramica",
                "Eventi falliti 3",
                "Primo evento 02/03/2026 09:30 UTC",
                "Eventi per giorno",
                "Eventi per fonte",
                "crm-vendite 250 25,0%",
                "Eventi per canale",
                "modulo 749",
                "CRM 250",
                "(sconosciuto) 1",
                "English",
            ],
        ),
        (
            "en",
            [
                "Overview",
                "Failed events 3",
                "First event 2026-03-02 09:30 UTC",
                "Events per day",
                "Events per source",
                "crm-vendite 250 25.0%",
                "Events per channel",
                "form 749",
                "CRM 250",
                "(unknown) 1",
                "Italiano",
            ],
        ),
    ],
)
def test_the_page_in_each_language(language: str, words: list[str]) -> None:
    html = render_overview(
        stats(days((MARCH, 600), (MARCH + timedelta(days=2), 400))),
        "it" if language == "it" else "en",
        collector="http://127.0.0.1:8000",
    )
    assert f'<html lang="{language}">' in html
    visible = text_of(html)
    for phrase in words:
        assert phrase in visible
    assert 'id="total-events" data-value="1000"' in html
    assert "empty-state" not in html
    # Largest first: the site before the CRM.
    assert visible.index("sito-web") < visible.index("crm-vendite")


def test_an_empty_store_says_how_to_get_events() -> None:
    html = render_overview(stats([]), "it", collector="http://127.0.0.1:8000")
    visible = text_of(html)
    assert "Nessun evento ancora: esegui percorso demo per caricare" in visible
    assert "<code>percorso demo</code>" in html
    # The tag to copy names this very server.
    assert '&lt;script src="http://127.0.0.1:8000/js/percorso.js" data-write-key=' in html
    assert "per-source" not in html
    assert "Primo evento — " in visible
