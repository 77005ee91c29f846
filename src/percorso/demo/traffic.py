"""Where website visits come from, and the browsers they arrive in.

The demo fills `channel` and `device` itself instead of running every row
through the event builder; to stay exactly what the product's classifiers
would say, it asks `classify_channel` and `classify_device` once per distinct
combination of inputs they read (entry, form or not, user agent) and reuses
the answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from percorso.demo.calendar import DATES, day_of
from percorso.demo.people import DeviceKind
from percorso.events.channel import FORM_EVENTS, classify_channel
from percorso.events.device import classify_device

USER_AGENTS: tuple[str, ...] = (
    # desktop
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    # mobile
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; 2201117TY) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.146 Mobile Safari/537.36",
    # tablet
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.81 Safari/537.36",
    # crawlers
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
)
AGENTS_BY_KIND: dict[DeviceKind | str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # indexes into USER_AGENTS, and how common each is in Italy
    "desktop": ((0, 1, 2, 3, 4), (50, 14, 8, 24, 4)),
    "mobile": ((5, 6, 7, 8), (48, 26, 8, 18)),
    "tablet": ((9, 10), (70, 30)),
    "bot": ((11, 12, 13, 14), (45, 20, 20, 15)),
}


def user_agent_for(rng: random.Random, kind: DeviceKind | str) -> int:
    indexes, weights = AGENTS_BY_KIND[kind]
    return rng.choices(indexes, weights)[0]


@dataclass(frozen=True)
class Entry:
    """How a session lands: campaign tags, a click id, or the page it came from."""

    name: str
    kind: str
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    click_id: str | None = None


ENTRIES: tuple[Entry, ...] = (
    Entry("direct", "direct"),
    Entry("google", "search", "https://www.google.com/"),
    Entry("google.it", "search", "https://www.google.it/"),
    Entry("bing", "search", "https://www.bing.com/"),
    Entry("google-ads", "paid", utm_source="google", utm_medium="cpc", click_id="gclid"),
    Entry("instagram", "social", "https://l.instagram.com/"),
    Entry("facebook", "social", "https://m.facebook.com/"),
    Entry("linkedin", "social", "https://www.linkedin.com/"),
    Entry(
        "facebook-ads",
        "paid-social",
        utm_source="facebook",
        utm_medium="paid-social",
        click_id="fbclid",
    ),
    Entry(
        "instagram-ads",
        "paid-social",
        utm_source="instagram",
        utm_medium="paid-social",
        click_id="fbclid",
    ),
    Entry("linkedin-ads", "paid-social", utm_source="linkedin", utm_medium="paid-social"),
    Entry("gamberorosso", "referral", "https://www.gamberorosso.it/"),
    Entry("cucchiaio", "referral", "https://www.cucchiaio.it/"),
    Entry("dissapore", "referral", "https://www.dissapore.com/"),
    Entry("newsletter", "email", utm_source="newsletter", utm_medium="email"),
    Entry("gmail", "email", "https://mail.google.com/"),
)
ENTRY: dict[str, int] = {e.name: i for i, e in enumerate(ENTRIES)}
INTERNAL = -1
"""A page reached from another page of the site: no entry."""

# First-visit entries per rhythm (consumers find the shop on Instagram, offices on Google).
FIRST_ENTRIES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "b2c": (
        tuple(
            ENTRY[n]
            for n in (
                "direct",
                "google",
                "google.it",
                "bing",
                "google-ads",
                "instagram",
                "facebook",
                "facebook-ads",
                "instagram-ads",
                "gamberorosso",
                "cucchiaio",
                "dissapore",
            )
        ),
        (12, 18, 8, 2, 12, 12, 6, 9, 9, 4, 4, 4),
    ),
    "b2b": (
        tuple(
            ENTRY[n]
            for n in (
                "direct",
                "google",
                "google.it",
                "bing",
                "google-ads",
                "linkedin",
                "linkedin-ads",
                "facebook",
                "gamberorosso",
            )
        ),
        (14, 26, 10, 4, 16, 10, 10, 4, 6),
    ),
}
RETURN_ENTRIES: tuple[tuple[int, ...], tuple[int, ...]] = (
    tuple(
        ENTRY[n]
        for n in ("direct", "google", "google.it", "google-ads", "instagram", "facebook-ads")
    ),
    (45, 25, 8, 10, 7, 5),
)


def ad_campaign(entry: Entry, moment: int) -> str:
    """Paid campaigns follow the season: gifts in December, offices in September."""
    when = DATES[min(day_of(moment), len(DATES) - 1)]
    season = {12: "natale", 11: "black-friday", 9: "rientro", 6: "estate", 7: "estate", 8: "estate"}
    theme = season.get(when.month, "sempre-on")
    if entry.utm_source == "linkedin":
        theme = "caffe-ufficio"
    elif entry.utm_source == "google":
        theme = "brand" if when.day % 3 == 0 else "macchine-espresso"
    return f"{theme}-{when.year}"


def landing_query(
    entry: Entry, campaign: str | None, click: str | None, user_id: str | None
) -> str:
    """The query string a tagged link adds to the landing page."""
    parts: list[str] = []
    if entry.utm_source:
        parts += [f"utm_source={entry.utm_source}", f"utm_medium={entry.utm_medium}"]
        if campaign:
            parts.append(f"utm_campaign={campaign}")
    if entry.click_id and click:
        parts.append(f"{entry.click_id}={click}")
    if user_id:
        # analytics.js identifies a visitor arriving with ajs_uid (newsletter links carry it).
        parts.append(f"ajs_uid={user_id}")
    return "?" + "&".join(parts) if parts else ""


class Classifier:
    """The product's channel and device answers, asked once per distinct input."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, int, bool], str] = {}
        self._devices: dict[int, str | None] = {}

    def web_channel(
        self, entry: int, event: str, context: Mapping[str, Any], properties: Mapping[str, Any]
    ) -> str:
        is_form = event.strip().lower() in FORM_EVENTS
        key = ("web", entry, is_form)
        found = self._channels.get(key)
        if found is None:
            found = classify_channel(
                source="sito-web",
                event_type="track",
                event=event,
                context=context,
                properties=properties,
            )
            self._channels[key] = found
        return found

    def source_channel(self, source: str) -> str:
        """Channel of a server-side source: decided by the kind of system alone."""
        key = (source, INTERNAL, False)
        found = self._channels.get(key)
        if found is None:
            found = classify_channel(
                source=source, event_type="track", event=None, context={}, properties={}
            )
            self._channels[key] = found
        return found

    def device(self, user_agent: int) -> str | None:
        if user_agent not in self._devices:
            self._devices[user_agent] = classify_device({"userAgent": USER_AGENTS[user_agent]})
        return self._devices[user_agent]
