"""Which channel an event came through, from its source, campaign and referrer.

A pure function of the event, so it can be recomputed. The order of the checks
is the order a marketer reads a visit: the system that sent the event first
(a CRM stage change is `crm` whatever its URL), then the campaign tags the
company set, then where the visitor came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlsplit

Channel = Literal[
    "social",
    "search",
    "email",
    "paid",
    "referral",
    "direct",
    "form",
    "crm",
    "erp",
    "support",
    "survey",
]
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# The channels in words, for the business users who read the dashboard and the maps.
CHANNEL_WORDS: Mapping[str, Mapping[Channel, str]] = {
    "it": {
        "social": "social",
        "search": "ricerca",
        "email": "email",
        "paid": "a pagamento",
        "referral": "referral",
        "direct": "diretto",
        "form": "modulo",
        "crm": "CRM",
        "erp": "ERP",
        "support": "assistenza",
        "survey": "sondaggi",
    },
    "en": {
        "social": "social",
        "search": "search",
        "email": "email",
        "paid": "paid",
        "referral": "referral",
        "direct": "direct",
        "form": "form",
        "crm": "CRM",
        "erp": "ERP",
        "support": "support",
        "survey": "survey",
    },
}

SourceKind = Literal[
    "web", "app", "server", "social", "mailer", "forms", "crm", "erp", "helpdesk", "survey"
]

# Word in the source name -> kind of system. The first match wins; a source
# named "crm-salesforce" is a CRM, "sito-web" is a website.
SOURCE_WORDS: tuple[tuple[str, SourceKind], ...] = (
    ("crm", "crm"),
    ("salesforce", "crm"),
    ("hubspot", "crm"),
    ("pipedrive", "crm"),
    ("erp", "erp"),
    ("gestionale", "erp"),
    ("sap", "erp"),
    ("odoo", "erp"),
    ("helpdesk", "helpdesk"),
    ("support", "helpdesk"),
    ("assistenza", "helpdesk"),
    ("zendesk", "helpdesk"),
    ("freshdesk", "helpdesk"),
    ("ticket", "helpdesk"),
    ("survey", "survey"),
    ("sondagg", "survey"),
    ("nps", "survey"),
    ("questionari", "survey"),
    ("mailer", "mailer"),
    ("newsletter", "mailer"),
    ("mailchimp", "mailer"),
    ("brevo", "mailer"),
    ("sendinblue", "mailer"),
    ("email", "mailer"),
    ("form", "forms"),
    ("modul", "forms"),
    ("social", "social"),
    ("facebook", "social"),
    ("instagram", "social"),
    ("linkedin", "social"),
)

KIND_CHANNEL: Mapping[SourceKind, Channel] = {
    "crm": "crm",
    "erp": "erp",
    "helpdesk": "support",
    "survey": "survey",
    "mailer": "email",
    "forms": "form",
    "social": "social",
}

SEARCH_HOSTS = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "search.yahoo.",
    "yahoo.com",
    "ecosia.org",
    "baidu.com",
    "yandex.",
    "qwant.com",
    "search.brave.com",
    "startpage.com",
    "virgilio.it",
)
SOCIAL_HOSTS = (
    "facebook.com",
    "fb.com",
    "fb.me",
    "instagram.com",
    "linkedin.com",
    "lnkd.in",
    "t.co",
    "twitter.com",
    "x.com",
    "tiktok.com",
    "youtube.com",
    "youtu.be",
    "pinterest.",
    "reddit.com",
    "whatsapp.com",
    "wa.me",
    "telegram.org",
    "t.me",
    "threads.net",
    "bsky.app",
    "mastodon.social",
    "snapchat.com",
)
WEBMAIL_HOSTS = (
    "mail.google.com",
    "outlook.live.com",
    "outlook.office.com",
    "mail.yahoo.com",
    "webmail.",
    "mail.libero.it",
    "mail.virgilio.it",
    "posta.",
)

EMAIL_MEDIA = frozenset({"email", "e-mail", "e_mail", "newsletter", "mail", "dem"})
PAID_MEDIA = frozenset(
    {
        "cpc",
        "ppc",
        "paid",
        "paidsearch",
        "paid-search",
        "paid_search",
        "display",
        "cpm",
        "cpv",
        "banner",
        "retargeting",
        "remarketing",
        "paid-social",
        "paid_social",
        "paidsocial",
        "sponsored",
        "ads",
        "adv",
    }
)
SOCIAL_MEDIA = frozenset(
    {"social", "social-network", "social-media", "social_media", "sm", "organic-social"}
)
SEARCH_MEDIA = frozenset({"organic", "seo"})
REFERRAL_MEDIA = frozenset({"referral", "affiliate", "partner"})

FORM_EVENTS = frozenset(
    {
        "form submitted",
        "form_submitted",
        "form submit",
        "form_submit",
        "form completed",
        "modulo inviato",
        "lead submitted",
    }
)


@lru_cache(maxsize=4096)
def source_kind(source: str) -> SourceKind:
    """The kind of system a source name stands for; `web` when the name says nothing."""
    lowered = source.lower()
    for word, kind in SOURCE_WORDS:
        if word in lowered:
            return kind
    return "web"


@lru_cache(maxsize=65536)
def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _matches(host: str, patterns: tuple[str, ...]) -> bool:
    """`google.` matches any google.<tld> and its subdomains; `t.co` only t.co and *.t.co."""
    for p in patterns:
        if p.endswith("."):
            if host.startswith(p) or f".{p}" in host:
                return True
        elif host == p or host.endswith(f".{p}"):
            return True
    return False


_CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid", "li_fat_id")


@lru_cache(maxsize=65536)
def _url_campaign(url: str) -> tuple[tuple[str, str], ...]:
    """UTM tags and click ids of a URL; cached because landing URLs repeat."""
    found: dict[str, str] = {}
    for key, values in parse_qs(urlsplit(url).query).items():
        k = key.lower()
        if k.startswith("utm_") and values:
            found.setdefault(k.removeprefix("utm_"), values[0].lower())
        elif k in _CLICK_IDS:
            found.setdefault(k, "1")
    return tuple(found.items())


def _campaign(context: Mapping[str, Any], url: str | None) -> dict[str, str]:
    campaign = context.get("campaign")
    found: dict[str, str] = {}
    if isinstance(campaign, Mapping):
        found = {str(k).lower(): str(v).lower() for k, v in campaign.items() if v is not None}
    if url and ("utm_" in url or "clid" in url or "li_fat_id" in url):
        for key, value in _url_campaign(url):
            found.setdefault(key, value)
    return found


def classify_channel(
    *,
    source: str,
    event_type: str,
    event: str | None,
    context: Mapping[str, Any],
    properties: Mapping[str, Any],
) -> Channel:
    """The channel of one event; total (always answers one of CHANNELS)."""
    kind = source_kind(source)
    if kind in KIND_CHANNEL:
        return KIND_CHANNEL[kind]
    if event and event.strip().lower() in FORM_EVENTS:
        return "form"
    page = context.get("page") if isinstance(context.get("page"), Mapping) else {}
    assert isinstance(page, Mapping)
    url = page.get("url") or properties.get("url")
    url = url if isinstance(url, str) else None
    utm = _campaign(context, url)
    medium = utm.get("medium", "")
    source_tag = utm.get("source", "")
    if medium in EMAIL_MEDIA or source_tag in EMAIL_MEDIA:
        return "email"
    if medium in PAID_MEDIA or any(k in utm for k in ("gclid", "gbraid", "wbraid", "msclkid")):
        return "paid"
    if medium in SOCIAL_MEDIA or _social_tag(source_tag):
        return "social"
    if medium in SEARCH_MEDIA:
        return "search"
    if medium in REFERRAL_MEDIA:
        return "referral"
    referrer_obj = context.get("referrer")
    referrer = referrer_obj.get("url") if isinstance(referrer_obj, Mapping) else None
    if not isinstance(referrer, str) or not referrer:
        raw = page.get("referrer") or properties.get("referrer")
        referrer = raw if isinstance(raw, str) else None
    ref_host = _host(referrer)
    if not ref_host:
        return "social" if "fbclid" in utm or "ttclid" in utm or "li_fat_id" in utm else "direct"
    if ref_host == _host(url):
        return "direct"
    return _referrer_channel(ref_host)


SOCIAL_NAMES = frozenset(
    {"facebook", "instagram", "linkedin", "twitter", "tiktok", "youtube", "pinterest", "whatsapp"}
)


@lru_cache(maxsize=4096)
def _social_tag(tag: str) -> bool:
    """A utm_source naming a social network, by name or host; cached (tags repeat)."""
    return tag in SOCIAL_NAMES or _matches(tag, SOCIAL_HOSTS)


@lru_cache(maxsize=65536)
def _referrer_channel(host: str) -> Channel:
    """The channel of an external referrer's host; cached because referrers repeat."""
    if _matches(host, WEBMAIL_HOSTS):
        return "email"
    if _matches(host, SEARCH_HOSTS):
        return "search"
    if _matches(host, SOCIAL_HOSTS):
        return "social"
    return "referral"
