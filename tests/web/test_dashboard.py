"""The dashboard's overview page from a real server, and in headless Chromium."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from percorso.app.api.app import create_app
from percorso.config import Settings
from tests.conftest import Server, make_key
from tests.web.conftest import run_async, wait_received

SOURCES = {
    # source name -> (what it sends, how many)
    "sito-vetrina": (
        [{"type": "page", "name": "Home"}, {"type": "track", "event": "form_submitted"}],
        3,
    ),
    "crm-vendite": ([{"type": "track", "event": "Deal Won"}], 2),
    "helpdesk-clienti": ([{"type": "track", "event": "Ticket Opened"}], 1),
}


@pytest.fixture(scope="module")
def dashboard(shared_server: Server) -> Server:
    """The shared server after three sources sent a few events, as Segment's libraries do."""
    collector = shared_server.health()["collector"]
    assert isinstance(collector, dict)
    before = int(collector["received"])
    sent = 0
    for source, (messages, times) in SOURCES.items():
        key = make_key(Settings(home=shared_server.home), source=source)
        batch = [
            {**m, "anonymousId": f"visitatore-{i}", "timestamp": f"2026-03-{10 + i:02d}T09:00:00Z"}
            for i in range(times)
            for m in messages
        ]
        response = httpx.post(
            f"{shared_server.url}/v1/batch", json={"batch": batch}, auth=(key, ""), timeout=10
        )
        assert response.status_code == 200, response.text
        sent += len(batch)
    wait_received(shared_server, before + sent)
    return shared_server


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("query", "headers", "language", "phrases"),
    [
        (
            "",
            {},
            "it",
            ["Panoramica", "Eventi per fonte", "Eventi per canale", "modulo", "assistenza", "CRM"],
        ),
        (
            "?lang=en",
            {"Accept-Language": "it-IT"},
            "en",
            ["Overview", "Events per source", "Events per channel", "form", "support", "CRM"],
        ),
        (
            "",
            {"Accept-Language": "en-US,en;q=0.9,it;q=0.8"},
            "en",
            ["Overview", "Failed events", "First event"],
        ),
        (
            "?lang=it",
            {"Accept-Language": "en-US"},
            "it",
            ["Eventi falliti", "Primo evento", "Ultimo evento"],
        ),
    ],
)
def test_the_overview_in_both_languages(
    dashboard: Server, query: str, headers: dict[str, str], language: str, phrases: list[str]
) -> None:
    response = httpx.get(f"{dashboard.url}/{query}", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == language
    assert "accept-language" in response.headers["vary"].lower()
    html = response.text
    assert f'<html lang="{language}">' in html
    text = visible_text(html)
    for phrase in phrases:
        assert phrase in text
    stats = httpx.get(f"{dashboard.url}/api/stats", timeout=10).json()
    assert f'id="total-events" data-value="{stats["events"]}"' in html
    for source in SOURCES:
        assert f'data-source="{source}"' in html
    assert "empty-state" not in html
    # The switch offers the other language.
    other = "en" if language == "it" else "it"
    assert f'id="language-switch" href="?lang={other}"' in html


def test_static_files_are_served_from_the_package(dashboard: Server) -> None:
    css = httpx.get(f"{dashboard.url}/static/dashboard.css", timeout=10)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".panel" in css.text
    assert httpx.get(f"{dashboard.url}/static/nothing.css", timeout=10).status_code == 404


def test_an_empty_store_shows_how_to_start(settings: Settings) -> None:
    """In process, with the app's own lifespan: real stores in a fresh home."""

    async def pages() -> list[httpx.Response]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1:8000"
            ) as client:
                return [
                    await client.get("/", headers={"Accept-Language": "it-IT,it;q=0.9"}),
                    await client.get("/?lang=en"),
                ]

    italian, english = run_async(pages())
    assert italian.status_code == english.status_code == 200
    assert "Nessun evento ancora: esegui percorso demo" in visible_text(italian.text)
    assert "No events yet: run percorso demo" in visible_text(english.text)
    for response in (italian, english):
        assert 'id="empty-state"' in response.text
        assert 'id="total-events" data-value="0"' in response.text
        assert "http://127.0.0.1:8000/js/percorso.js" in response.text
        assert "per-source" not in response.text


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# The browser decodes the screenshot: how many colours, how much is not background.
PIXELS = """async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, img.width, img.height).data;
  const colours = new Set();
  let inked = 0, seen = 0;
  for (let i = 0; i < d.length; i += 4 * 5) {
    seen++;
    colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 40) inked++;
  }
  return {colours: colours.size, inked: inked / seen};
}"""


@pytest.mark.browser
def test_the_overview_in_chromium_shows_the_stores_totals(
    dashboard: Server, page: Page, tmp_path: Path
) -> None:
    # The context's locale is it-IT, so the browser asks for Italian.
    page.goto(f"{dashboard.url}/")
    stats = httpx.get(f"{dashboard.url}/api/stats", timeout=10).json()
    thousands = "."
    assert page.locator("html").get_attribute("lang") == "it"
    shown = page.locator("#total-events").inner_text()
    assert int(shown.replace(thousands, "")) == stats["events"]
    assert (
        int(page.locator("#failed-events").inner_text().replace(thousands, ""))
        == stats["failed_events"]
    )
    assert int(page.locator("#source-count").inner_text()) == len(stats["sources"])
    rows: dict[str, Any] = {}
    for row in page.locator("#per-source tbody tr").all():
        name = row.get_attribute("data-source")
        rows[str(name)] = int(row.locator("td.num").inner_text().replace(thousands, ""))
    assert rows == {s["source"]: s["events"] for s in stats["by_source"]}
    shown_channels = page.locator("#per-channel tbody tr").count()
    assert shown_channels == len(stats["by_channel"])
    bars = page.locator("svg.chart rect.bar")
    assert sum(int(b.get_attribute("data-events") or 0) for b in bars.all()) == stats["events"]
    # The stylesheet applied: the cards sit side by side, not stacked.
    boxes = [c.bounding_box() for c in page.locator(".card").all()]
    assert boxes[0] is not None and boxes[1] is not None
    assert boxes[0]["y"] == boxes[1]["y"]

    shot = tmp_path / "overview.png"
    data = page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes() == data
    width, height = png_size(data)
    assert width == 1280 and height >= 900
    page.goto("about:blank")
    pixels = page.evaluate(PIXELS, "data:image/png;base64," + base64.b64encode(data).decode())
    assert pixels["colours"] > 50
    assert 0.03 < pixels["inked"] < 0.9

    # The switch leads to the same page in English.
    page.goto(f"{dashboard.url}/")
    page.click("#language-switch")
    page.wait_for_url("**/?lang=en")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("#total-events").inner_text() == f"{stats['events']:,}"
