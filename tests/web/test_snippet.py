"""The website snippet in headless Chromium, against a real `percorso serve`.

A test site on its own port (its own origin) plays the customer's website;
the snippet comes from the collector under test. What lands is read back as
warehouse rows after the server stops, or, on the server the tests share
(a start costs seconds), as the totals of a source of the test's own.
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import BrowserContext, Page, Request

from percorso import __version__
from percorso.app.api.app import create_app
from percorso.config import Settings
from percorso.warehouse.store import Warehouse
from tests.conftest import Server, make_key, start_server
from tests.web.conftest import run_async, wait_received
from tests.web.website import Site

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SCRIPT = Path(__file__).parents[2] / "src" / "percorso" / "app" / "web" / "static" / "percorso.js"


def stored_rows(home: Path) -> list[dict[str, Any]]:
    """Every stored event with its JSON columns parsed; call after `server.stop()`."""
    columns = ["message_id", "type", "event", "anonymous_id", "user_id", "channel", "device"]
    columns += ["ts", "received_at", "properties", "traits", "context"]
    with Warehouse(Settings(home=home).resolved_warehouse_url, read_only=True) as warehouse:
        found = warehouse.query(f"SELECT {', '.join(columns)} FROM events ORDER BY ts, seq")
    rows = [dict(zip(columns, values, strict=True)) for values in found]
    for row in rows:
        for name in ("properties", "traits", "context"):
            row[name] = orjson.loads(row[name])
    return rows


def loaded(page: Page) -> None:
    """The async script has run (a visitor takes longer than that to click)."""
    page.wait_for_function("window.percorso && window.percorso.loaded === true")


def sent_messages(requests: Iterable[Request]) -> list[dict[str, Any]]:
    """What the browser sent by fetch (a beacon's body is not shown to Playwright)."""
    return [m for r in requests if r.post_data for m in orjson.loads(r.post_data)["batch"]]


class Tally:
    """A source of its own on the shared server, and what its visits add to the totals."""

    def __init__(self, server: Server, source: str) -> None:
        self.server = server
        self.source = source
        self.key = make_key(Settings(home=server.home), source=source)
        self.received, _, self.channels = self._totals()

    def _totals(self) -> tuple[int, dict[str, int], dict[str, int]]:
        stats = httpx.get(f"{self.server.url}/api/stats", timeout=10).json()
        received = self.server.health()["collector"]["received"]  # type: ignore[index]
        by_source = {s["source"]: s["events"] for s in stats["by_source"]}
        by_channel = {c["channel"]: c["events"] for c in stats["by_channel"]}
        return int(received), by_source, by_channel

    def landed(self, n: int) -> dict[str, int]:
        """Wait for `n` events of this source; check none came twice; their channels."""
        wait_received(self.server, self.received + n)
        received, by_source, channels = self._totals()
        assert (received - self.received, by_source.get(self.source)) == (n, n)
        grown = {c: k - self.channels.get(c, 0) for c, k in channels.items()}
        return {c: k for c, k in grown.items() if k}


class Requests(list[Request]):
    """Requests the browser sent to a collector endpoint, beacons included."""

    def __init__(self, context: BrowserContext) -> None:
        super().__init__()
        self.context = context
        context.on("request", lambda r: self.append(r) if "/v1/" in r.url else None)

    def settled(self) -> Requests:
        """Playwright hands events over during its own calls: one round trip delivers them all."""
        for page in self.context.pages:
            page.evaluate("0")
        return self


@pytest.fixture
def collector_requests(context: BrowserContext) -> Requests:
    return Requests(context)


@pytest.fixture
def site(server: Server, write_key: str) -> Iterator[Site]:
    with Site(server.url, write_key).running() as running:
        yield running


def test_the_script_is_served_by_the_collector_with_its_version(settings: Settings) -> None:
    async def get() -> httpx.Response:
        # The route needs no stores, so the app answers without its lifespan.
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
            return await client.get("/js/percorso.js")

    response = run_async(get())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.text == SCRIPT.read_text()
    # The library version in every event is the package's.
    assert f'const VERSION = "{__version__}";' in response.text
    # Small enough to ship as is (about 13 KB, 5 KB gzipped), and plain ES2017
    # (no syntax from later editions).
    assert len(response.content) < 14 * 1024
    assert len(gzip.compress(response.content)) < 6 * 1024
    for later in ("?.", "??", "catch {", "catch{", "#private"):
        assert later not in response.text


@pytest.mark.browser
def test_a_visit_from_a_social_campaign_through_the_form_to_the_thank_you_page(
    server: Server,
    home: Path,
    site: Site,
    page: Page,
    collector_requests: Requests,
) -> None:
    started = datetime.now(UTC).replace(tzinfo=None)
    landing = site.url("/landing.html?utm_source=facebook&utm_medium=social&utm_campaign=primavera")
    page.goto(landing, referer="https://www.facebook.com/")
    loaded(page)
    page.evaluate("percorso.track('Offer Viewed', {offer: 'primavera', price: 49})")
    page.click("#to-form")
    page.wait_for_url("**/form.html")
    loaded(page)
    page.fill("input[name=email]", "  Giulia.Rossi@Example.it ")
    page.fill("input[name=first_name]", "Giulia")
    page.fill("input[name=last_name]", "Rossi")
    page.fill("input[name=phone]", "+39 333 1234567")
    page.fill("input[name=password]", "S3greta!Password")
    page.fill("input[name=card_number]", "4111111111111111")
    page.fill("textarea[name=message]", "Vorrei un preventivo")
    page.check("input[name=privacy]")
    page.click("#send")
    page.wait_for_url("**/thanks.html")
    loaded(page)
    page.reload()
    loaded(page)

    wait_received(server, 7)
    stats = httpx.get(f"{server.url}/api/stats").json()
    assert stats["events"] == 7
    assert stats["failed_events"] == 0
    assert {c["channel"]: c["events"] for c in stats["by_channel"]} == {"social": 6, "form": 1}
    health = server.health()
    # Exactly once: nothing was sent twice, nothing was dropped as a duplicate.
    assert health["collector"] == {
        "received": 7,
        "accepted": 7,
        "failed": 0,
        "rejected_requests": 0,
    }
    assert health["writer"]["duplicates"] == 0  # type: ignore[index]
    assert len(site.posted) == 1

    # Text/plain POSTs to /v1/batch (no CORS preflight), the key in the body.
    requests = collector_requests.settled()
    assert {(r.method, r.url) for r in requests} == {("POST", f"{server.url}/v1/batch")}
    assert all(r.headers["content-type"] == "text/plain" for r in requests)
    bodies = [orjson.loads(r.post_data or b"") for r in requests if r.post_data]
    assert bodies
    assert all(b["writeKey"] == site.write_key and b["sentAt"].endswith("Z") for b in bodies)
    # The form's messages leave by beacon, the one kind that outlives the page
    # (Chromium does not show a beacon's body to Playwright).
    assert [r.resource_type for r in requests].count("ping") == 1

    server.stop()
    rows = stored_rows(home)
    assert len(rows) == len({r["message_id"] for r in rows}) == 7
    assert all(UUID4.match(r["message_id"]) for r in rows)
    # One visitor: the same anonymous id on every page, across a reload.
    assert len({r["anonymous_id"] for r in rows}) == 1
    assert UUID4.match(rows[0]["anonymous_id"])
    assert all(r["user_id"] is None for r in rows)
    assert all(r["device"] == "desktop" for r in rows)
    # Clock-skew correction leaves browser times on the server's clock.
    assert all(started <= r["ts"] <= datetime.now(UTC).replace(tzinfo=None) for r in rows)
    for row in rows:
        assert row["context"]["library"] == {"name": "percorso.js", "version": __version__}
        assert row["context"]["locale"] == "it-IT"
        assert "HeadlessChrome" in row["context"]["userAgent"]
        text = orjson.dumps(row).decode()
        for secret in ("S3greta", "4111111111111111", "hidden-secret-123"):
            assert secret not in text

    campaign = {"source": "facebook", "medium": "social", "name": "primavera"}
    views = [r for r in rows if r["type"] == "page"]
    assert [v["properties"]["path"] for v in views] == [
        "/landing.html",
        "/form.html",
        "/thanks.html",
        "/thanks.html",
    ]
    first = views[0]
    assert first["event"] == "page_view"
    assert first["properties"] == {
        "url": landing,
        "path": "/landing.html",
        "title": "Offerta di primavera",
        "referrer": "https://www.facebook.com/",
        "search": "?utm_source=facebook&utm_medium=social&utm_campaign=primavera",
    }
    assert first["context"]["page"] == first["properties"]
    # Later pages keep the landing's campaign and external referrer: still social.
    for view in views:
        assert view["context"]["campaign"] == campaign
        assert view["context"]["referrer"] == {"url": "https://www.facebook.com/"}
        assert view["channel"] == "social"
    assert views[1]["context"]["page"]["referrer"] == landing
    assert views[2]["context"]["page"]["referrer"] == site.url("/form.html")
    assert views[2]["context"]["page"]["title"] == "Grazie"

    (offer,) = [r for r in rows if r["event"] == "Offer Viewed"]
    assert offer["properties"] == {"offer": "primavera", "price": 49}
    assert offer["channel"] == "social"
    assert offer["context"]["page"]["path"] == "/landing.html"

    (form,) = [r for r in rows if r["event"] == "form_submitted"]
    assert form["type"] == "track"
    assert form["channel"] == "form"
    assert form["properties"] == {
        "form_id": "preventivo",
        # Filled fields only, no hidden ones; names, never values.
        "fields": [
            "email",
            "first_name",
            "last_name",
            "phone",
            "password",
            "card_number",
            "message",
            "privacy",
        ],
    }
    (identify,) = [r for r in rows if r["type"] == "identify"]
    assert identify["traits"] == {
        "email": "Giulia.Rossi@Example.it",
        "first_name": "Giulia",
        "last_name": "Rossi",
        "phone": "+39 333 1234567",
    }
    assert identify["context"]["page"]["path"] == "/form.html"
    # The track and the identify arrived in one request: one receive time.
    assert identify["received_at"] == form["received_at"]
    # The identify comes from the same click as the form, so the journey joins up.
    assert identify["anonymous_id"] == form["anonymous_id"] == first["anonymous_id"]


@pytest.mark.browser
def test_an_ignored_form_sends_nothing_and_a_direct_visit_is_direct(
    shared_server: Server, page: Page, collector_requests: Requests
) -> None:
    tally = Tally(shared_server, "sito-ricerca")
    with Site(shared_server.url, tally.key).running() as site:
        page.goto(site.url("/form.html"))
        loaded(page)
        page.fill("input[name=q]", "giulia@example.it")
        page.click("#search-send")
        page.wait_for_url("**/thanks.html?q=*")
        loaded(page)
        assert tally.landed(2) == {"direct": 2}
    sent = sent_messages(collector_requests.settled())
    assert [m["properties"]["path"] for m in sent] == ["/form.html", "/thanks.html"]
    assert all("campaign" not in m["context"] and "referrer" not in m["context"] for m in sent)
    # No beacon either: the opted-out form sent nothing at all.
    assert [r.resource_type for r in collector_requests] == ["fetch", "fetch"]


@pytest.mark.browser
def test_calls_made_before_the_script_loads_are_sent_in_order_then_the_api(
    shared_server: Server, page: Page, collector_requests: Requests
) -> None:
    tally = Tally(shared_server, "sito-coda")
    with Site(shared_server.url, tally.key).running() as site:
        # /queued.html hosts the script itself and names the collector with data-host.
        page.goto(site.url("/queued.html"))
        loaded(page)
        page.evaluate(
            "percorso.push(['track', 'Pushed Later', {n: 1}]);"
            "percorso.page('Listino', {categoria: 'prezzi'})"
        )
        page.evaluate("percorso.reset(); percorso.track('After Reset')")
        tally.landed(6)
    requests = collector_requests.settled()
    assert {r.url for r in requests} == {f"{shared_server.url}/v1/batch"}
    # Calls made in the same tick share a request.
    assert [len(orjson.loads(r.post_data or b"")["batch"]) for r in requests] == [3, 2, 1]
    sent = sent_messages(requests)
    assert [(m["type"], m.get("event") or m.get("name"), m.get("userId")) for m in sent] == [
        ("page", None, None),
        ("identify", None, "cliente-42"),
        ("track", "Video Played", "cliente-42"),
        ("track", "Pushed Later", "cliente-42"),
        ("page", "Listino", "cliente-42"),
        ("track", "After Reset", None),
    ]
    assert sent[1]["traits"] == {"plan": "pro"}
    assert sent[2]["properties"] == {"title": "Chi siamo"}
    assert sent[4]["properties"]["categoria"] == "prezzi"
    assert sent[4]["properties"]["path"] == "/queued.html"
    # One visitor until reset(), then a new anonymous one.
    assert len({m["anonymousId"] for m in sent[:5]}) == 1
    assert UUID4.match(sent[5]["anonymousId"])
    assert sent[5]["anonymousId"] != sent[0]["anonymousId"]


@pytest.mark.browser
def test_blocked_local_storage_falls_back_to_a_first_party_cookie(
    shared_server: Server, context: BrowserContext, page: Page, collector_requests: Requests
) -> None:
    # As when a browser's settings block site data for scripts: storage throws.
    context.add_init_script(
        "Object.defineProperty(window, 'localStorage', {get() { throw new DOMException('blocked', 'SecurityError'); }});"
    )
    tally = Tally(shared_server, "sito-cookie")
    with Site(shared_server.url, tally.key).running() as site:
        page.goto(site.url("/landing.html"))
        loaded(page)
        page.goto(site.url("/form.html"))
        loaded(page)
        tally.landed(2)
    (cookie,) = [c for c in context.cookies() if c["name"] == "pc_aid"]
    assert UUID4.match(cookie["value"])
    year = cookie["expires"] - time.time()
    assert 364 * 86400 < year <= 365 * 86400
    assert {m["anonymousId"] for m in sent_messages(collector_requests.settled())} == {
        cookie["value"]
    }


@pytest.mark.browser
def test_global_privacy_control_is_respected_when_the_site_asks(
    shared_server: Server, context: BrowserContext, page: Page, collector_requests: Requests
) -> None:
    # The visitor's browser sends the Global Privacy Control signal.
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
    )
    tally = Tally(shared_server, "sito-privacy")
    with Site(shared_server.url, tally.key).running() as site:
        page.goto(site.url("/private.html"))
        loaded(page)
        page.evaluate("percorso.track('Ignored'); percorso.identify('u1', {email: 'a@b.it'})")
        storage = page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
        # A site that does not opt in to honouring the signal still measures.
        page.goto(site.url("/landing.html"))
        loaded(page)
        tally.landed(1)
    assert storage == [0, 0, ""]
    assert [m["properties"]["path"] for m in sent_messages(collector_requests.settled())] == [
        "/landing.html"
    ]


@pytest.mark.browser
def test_messages_refused_with_503_are_kept_and_sent_when_a_collector_accepts_them(
    home: Path, write_key: str, shared_server: Server, page: Page, collector_requests: Requests
) -> None:
    # A real 503: this collector refuses events while its disk is "full".
    full = start_server(home, env={"PERCORSO_MIN_FREE_DISK_BYTES": str(2**62)})
    with Site(full.url, write_key).running() as site:
        try:
            page.goto(site.url("/landing.html"))
            loaded(page)
            page.evaluate("percorso.track('Offline Click')")
            # Both messages wait in the local queue, none in flight.
            page.wait_for_function(
                "(() => { const q = JSON.parse(localStorage.getItem('pc_queue') || '[]');"
                " return q.length === 2 && q.every((e) => e.l === 0); })()"
            )
            page.goto("about:blank")
            assert full.health()["collector"]["received"] == 0  # type: ignore[index]
        finally:
            full.stop()
        refused = list(collector_requests.settled())
        statuses = {r.response().status for r in refused}  # type: ignore[union-attr]
        assert statuses == {503}
        # The site's next page (same origin, so the same queue) names a
        # collector that accepts; the queue leaves with that page's write key.
        tally = Tally(shared_server, "sito-ripresa")
        site.collector, site.write_key = shared_server.url, tally.key
        page.goto(site.url("/form.html"))
        loaded(page)
        tally.landed(3)
        page.wait_for_function("localStorage.getItem('pc_queue') === null")
    refused_ids = {m["messageId"] for m in sent_messages(refused)}
    delivered = [r for r in collector_requests if r.url.startswith(shared_server.url)]
    messages = [m for r in delivered for m in orjson.loads(r.post_data or b"")["batch"]]
    # The two refused messages, each once, with the new page's view.
    assert len(refused_ids) == 2
    assert refused_ids < {m["messageId"] for m in messages}
    assert sorted(m.get("event") or m["properties"]["path"] for m in messages) == [
        "/form.html",
        "/landing.html",
        "Offline Click",
    ]
    # A queued message keeps the time it happened; only sentAt is new.
    (old,) = [m for m in messages if m.get("event") == "Offline Click"]
    (new,) = [m for m in messages if m["properties"].get("path") == "/form.html"]
    assert old["timestamp"] < new["timestamp"]
