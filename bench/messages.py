"""Realistic Segment traffic for the benchmarks: what analytics.js sends from an Italian shop.

A mix of page (55%), track (35%) and identify (10%) calls from a pool of
visitors, with the context a browser library fills in (one of 20 real user
agents, page url/referrer/title, locale, screen, UTM campaign on a third of
visits) and 5-10 properties per event: 500-700 bytes a message, as on a real
site. Deterministic for a seed, so every run sends the same bytes.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E236 Instagram 327.0.3.30.90 (iPhone14,5; iOS 17_4; it_IT; it; scale=3.00; 1170x2532; 589906542)",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
)

SITE = "https://www.rossiarredi.it"
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Arredamenti Rossi — mobili su misura"),
    ("/divani", "Divani"),
    ("/divani/milano-3-posti", "Divano Milano 3 posti in velluto"),
    ("/divani/ferrara-angolare", "Divano angolare Ferrara"),
    ("/tavoli/allungabili", "Tavoli allungabili"),
    ("/cucine/configuratore", "Configura la tua cucina"),
    ("/blog/come-scegliere-il-divano", "Come scegliere il divano giusto | Blog"),
    ("/negozi/bologna", "Il nostro negozio di Bologna"),
    ("/contatti", "Contatti e preventivi"),
    ("/carrello", "Il tuo carrello"),
    ("/checkout/spedizione", "Spedizione — Checkout"),
    ("/account/ordini", "I miei ordini"),
)
REFERRERS: tuple[str, ...] = (
    "",
    "",
    "https://www.google.it/",
    "https://www.google.com/",
    "https://www.bing.com/search?q=divano+velluto",
    "https://duckduckgo.com/",
    "https://l.facebook.com/",
    "https://www.instagram.com/",
    "https://www.linkedin.com/",
    "https://mail.google.com/",
    "https://www.houzz.it/foto/soggiorno-moderno",
    f"{SITE}/divani",
)
CAMPAIGNS: tuple[dict[str, str], ...] = (
    {
        "source": "google",
        "medium": "cpc",
        "name": "divani-primavera-2025",
        "term": "divano velluto",
    },
    {
        "source": "facebook",
        "medium": "paid_social",
        "name": "saldi-estate",
        "content": "carosello-1",
    },
    {"source": "newsletter", "medium": "email", "name": "nl-2025-05-15", "content": "hero-cta"},
    {"source": "instagram", "medium": "social", "name": "influencer-giulia", "content": "story"},
    {"source": "bing", "medium": "cpc", "name": "brand", "term": "arredamenti rossi"},
)
TRACKS: tuple[str, ...] = (
    "Product Viewed",
    "Product Added",
    "Product List Filtered",
    "Checkout Started",
    "Order Completed",
    "Form Submitted",
    "Newsletter Subscribed",
    "Video Played",
)
PRODUCTS: tuple[tuple[str, str, str, float], ...] = (
    ("DV-MIL-3P", "Divano Milano 3 posti", "divani", 1290.0),
    ("DV-FER-ANG", "Divano angolare Ferrara", "divani", 2150.0),
    ("TV-ALL-180", "Tavolo allungabile Bologna 180", "tavoli", 849.0),
    ("SD-VIE-NOC", "Sedia Vienna noce", "sedie", 129.0),
    ("LB-MOD-2A", "Libreria modulare Parma", "librerie", 459.0),
    ("LT-ORO-160", "Letto contenitore Oro 160", "letti", 990.0),
)
CITIES: tuple[str, ...] = ("Bologna", "Milano", "Roma", "Torino", "Firenze", "Napoli", "Verona")
NAMES: tuple[str, ...] = ("Giulia", "Marco", "Sara", "Luca", "Chiara", "Andrea", "Elena", "Paolo")
SURNAMES: tuple[str, ...] = ("Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci", "Greco")


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _track_properties(rng: random.Random, event: str) -> dict[str, Any]:
    sku, name, category, price = rng.choice(PRODUCTS)
    if event in ("Product Viewed", "Product Added"):
        return {
            "product_id": sku,
            "sku": sku,
            "name": name,
            "category": category,
            "price": price,
            "currency": "EUR",
            "quantity": rng.randint(1, 3),
            "variant": rng.choice(("velluto blu", "lino beige", "rovere", "noce")),
        }
    if event in ("Checkout Started", "Order Completed"):
        quantity = rng.randint(1, 4)
        return {
            "order_id": f"AR-{rng.randint(100_000, 999_999)}",
            "revenue": round(price * quantity, 2),
            "shipping": rng.choice((0.0, 49.0, 89.0)),
            "tax": round(price * quantity * 0.22, 2),
            "currency": "EUR",
            "coupon": rng.choice(("", "BENVENUTO10", "ESTATE25")),
            "products": [{"product_id": sku, "price": price, "quantity": quantity}],
        }
    if event == "Product List Filtered":
        return {
            "list_id": category,
            "category": category,
            "filters": [{"type": "colore", "value": rng.choice(("blu", "grigio", "verde"))}],
            "sorts": [{"type": "prezzo", "value": "asc"}],
            "results": rng.randint(3, 60),
        }
    if event == "Video Played":
        return {
            "video_id": f"yt-{rng.getrandbits(40):x}",
            "title": "Come montare il divano Milano",
            "position": rng.randint(0, 120),
            "total_length": 214,
            "quality": "hd1080",
            "sound": 80,
        }
    return {
        "form_id": rng.choice(("preventivo", "contatti", "newsletter-footer")),
        "form_name": "Richiedi un preventivo",
        "fields": 6,
        "city": rng.choice(CITIES),
        "consent_marketing": rng.random() < 0.6,
    }


class Traffic:
    """Visitors browsing the site; `messages(n)` is what their browsers send."""

    def __init__(self, seed: int = 7, visitors: int = 5_000) -> None:
        self.rng = random.Random(seed)
        self.visitors = [
            (_id(self.rng), self.rng.choice(USER_AGENTS), self.rng.random() < 0.25)
            for _ in range(visitors)
        ]
        self.start = datetime(2025, 5, 20, 8, 0, tzinfo=UTC)

    def message(self, index: int) -> dict[str, Any]:
        rng = self.rng
        anonymous_id, user_agent, known = rng.choice(self.visitors)
        path, title = rng.choice(PAGES)
        referrer = rng.choice(REFERRERS)
        campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.25 else None
        search = ""
        if campaign is not None:
            search = "?" + "&".join(
                f"utm_{'campaign' if k == 'name' else k}={v.replace(' ', '+')}"
                for k, v in campaign.items()
            )
        moment = self.start + timedelta(milliseconds=index * 37 + rng.randint(0, 999))
        context: dict[str, Any] = {
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "userAgent": user_agent,
            "locale": "it-IT",
        }
        if campaign is not None:
            context["campaign"] = dict(campaign)
        message: dict[str, Any] = {
            "messageId": f"ajs-next-{rng.getrandbits(128):032x}",
            "anonymousId": anonymous_id,
            "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "context": context,
        }
        page = {"path": path, "referrer": referrer, "url": SITE + path + search}
        if known:
            message["userId"] = f"cli-{int(anonymous_id[:8], 16) % 900_000 + 100_000}"
        draw = rng.random()
        if draw < 0.55:
            message["type"] = "page"
            message["name"] = title.split(" | ")[0]
            # analytics.js puts the page in the properties of a page call.
            message["properties"] = {**page, "search": search, "title": title}
        elif draw < 0.90:
            event = rng.choice(TRACKS)
            message["type"] = "track"
            message["event"] = event
            message["properties"] = _track_properties(rng, event)
            context["page"] = page
        else:
            first, last = rng.choice(NAMES), rng.choice(SURNAMES)
            message["type"] = "identify"
            message["userId"] = message.get("userId") or f"cli-{rng.randint(100_000, 999_999)}"
            context["page"] = page
            message["traits"] = {
                "email": f"{first}.{last}{rng.randint(1, 99)}@example.it".lower(),
                "firstName": first,
                "lastName": last,
                "phone": f"+393{rng.randint(10, 49)}{rng.randint(1_000_000, 9_999_999)}",
                "city": rng.choice(CITIES),
                "newsletter": rng.random() < 0.5,
                "createdAt": (moment - timedelta(days=rng.randint(0, 900))).date().isoformat(),
            }
        return message

    def messages(self, count: int) -> list[dict[str, Any]]:
        return [self.message(index) for index in range(count)]


def batch_bodies(messages: list[dict[str, Any]], size: int = 500) -> list[bytes]:
    """`/v1/batch` bodies of `size` messages, serialised once so sending costs no CPU.

    As analytics libraries do, the batch carries `sentAt` (here: a second after
    its last message), so the collector applies its clock-skew correction.
    """
    bodies = []
    for start in range(0, len(messages), size):
        chunk = messages[start : start + size]
        last = datetime.fromisoformat(chunk[-1]["timestamp"])
        sent_at = (last + timedelta(seconds=1)).isoformat(timespec="milliseconds")
        bodies.append(orjson.dumps({"batch": chunk, "sentAt": sent_at.replace("+00:00", "Z")}))
    return bodies
