"""The dashboard's words and number formats, in Italian and English.

Every label goes through one catalogue so a page can never be half
translated: both languages must have the same keys (a test checks it), and a
missing key fails the page render instead of showing the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from markupsafe import Markup, escape

from percorso.events.channel import CHANNEL_WORDS

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")
DEFAULT_LANGUAGE: Language = "it"

MESSAGES: Mapping[Language, Mapping[str, str]] = {
    "it": {
        "language.name": "Italiano",
        "language.switch": "Leggi questa pagina in italiano",
        "page.title": "Percorso — panoramica",
        "brand.tagline": "Percorsi cliente da ogni segnale",
        "overview.heading": "Panoramica",
        "overview.lead": "Quanti eventi ha lo store, da dove arrivano e quando.",
        "card.events": "Eventi",
        "card.profiles": "Persone",
        "card.profiles_hint": "profili unificati da tutti gli identificativi",
        "card.failed": "Eventi falliti",
        "card.failed_hint": "rifiutati dal collector, conservati con il motivo",
        "card.sources": "Fonti",
        "card.first": "Primo evento",
        "card.last": "Ultimo evento",
        "empty.title": "Nessun evento ancora",
        "empty.body": "Nessun evento ancora: esegui {demo} per caricare un'azienda di esempio, "
        "oppure installa lo snippet sul tuo sito.",
        "empty.snippet": "Lo snippet da aggiungere alle pagine (crea la chiave con {keys}):",
        "empty.docs": "La guida è in {path}.",
        "chart.day": "Eventi per giorno",
        "chart.week": "Eventi per settimana",
        "chart.month": "Eventi per mese",
        "chart.bar": "{period}: {events}",
        "count.one": "{n} evento",
        "count.other": "{n} eventi",
        "chart.week_of": "settimana dal {day}",
        "chart.data": "Mostra i dati",
        "section.sources": "Eventi per fonte",
        "section.channels": "Eventi per canale",
        "table.source": "Fonte",
        "table.channel": "Canale",
        "table.period": "Periodo",
        "table.events": "Eventi",
        "table.share": "Quota",
        **{f"channel.{c}": w for c, w in CHANNEL_WORDS["it"].items()},
        "channel.unknown": "(sconosciuto)",
        "footer.api": "Gli stessi totali in JSON: {link}",
        "footer.docs": "Documentazione dell'API: {link}",
        "format.thousands": ".",
        "format.decimal": ",",
        "format.percent": "{value}%",
        "format.datetime": "%d/%m/%Y %H:%M UTC",
        "format.day": "%d/%m/%Y",
        "format.month": "%m/%Y",
        "value.none": "—",
    },
    "en": {
        "language.name": "English",
        "language.switch": "Read this page in English",
        "page.title": "Percorso — overview",
        "brand.tagline": "Customer journeys from every signal",
        "overview.heading": "Overview",
        "overview.lead": "How many events the store holds, where they come from and when.",
        "card.events": "Events",
        "card.profiles": "People",
        "card.profiles_hint": "profiles unified from every identifier",
        "card.failed": "Failed events",
        "card.failed_hint": "refused by the collector, kept with the reason",
        "card.sources": "Sources",
        "card.first": "First event",
        "card.last": "Last event",
        "empty.title": "No events yet",
        "empty.body": "No events yet: run {demo} to load a sample company, "
        "or install the snippet on your website.",
        "empty.snippet": "The snippet to add to your pages (create the key with {keys}):",
        "empty.docs": "The guide is in {path}.",
        "chart.day": "Events per day",
        "chart.week": "Events per week",
        "chart.month": "Events per month",
        "chart.bar": "{period}: {events}",
        "count.one": "{n} event",
        "count.other": "{n} events",
        "chart.week_of": "week of {day}",
        "chart.data": "Show the data",
        "section.sources": "Events per source",
        "section.channels": "Events per channel",
        "table.source": "Source",
        "table.channel": "Channel",
        "table.period": "Period",
        "table.events": "Events",
        "table.share": "Share",
        **{f"channel.{c}": w for c, w in CHANNEL_WORDS["en"].items()},
        "channel.unknown": "(unknown)",
        "footer.api": "The same totals as JSON: {link}",
        "footer.docs": "API documentation: {link}",
        "format.thousands": ",",
        "format.decimal": ".",
        "format.percent": "{value}%",
        "format.datetime": "%Y-%m-%d %H:%M UTC",
        "format.day": "%Y-%m-%d",
        "format.month": "%Y-%m",
        "value.none": "—",
    },
}


def negotiate(requested: str | None, accept_language: str | None) -> Language:
    """`?lang=` when it names a language we have, else the browser's preference, else Italian."""
    if requested:
        chosen = requested.strip().lower()
        for language in LANGUAGES:
            if chosen == language:
                return language
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            # Higher quality first; equal qualities keep the browser's order.
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    for _, _, primary in sorted(ranked):
        for language in LANGUAGES:
            if primary == language:
                return language
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Catalogue:
    """One language's labels and formats, as the templates use them."""

    language: Language

    @property
    def other(self) -> Language:
        """The language the switch link offers."""
        return "en" if self.language == "it" else "it"

    def __call__(self, key: str, **values: Any) -> Markup:
        """The label for `key`; `{name}` placeholders take escaped values (or Markup as is)."""
        return Markup(escape(MESSAGES[self.language][key])).format(**values)

    def text(self, key: str) -> str:
        return MESSAGES[self.language][key]

    def channel(self, channel: str | None) -> str:
        key = f"channel.{channel}"
        return self.text(key if key in MESSAGES[self.language] else "channel.unknown")

    def number(self, value: int) -> str:
        return f"{value:,}".replace(",", self.text("format.thousands"))

    def count(self, value: int) -> str:
        """ "1 evento", "2.500 eventi": both languages use the singular for one only."""
        key = "count.one" if value == 1 else "count.other"
        return self.text(key).format(n=self.number(value))

    def percent(self, part: int, whole: int) -> str:
        share = 100.0 * part / whole if whole else 0.0
        value = f"{share:.1f}".replace(".", self.text("format.decimal"))
        return self.text("format.percent").format(value=value)

    def moment(self, value: datetime | None) -> str:
        return value.strftime(self.text("format.datetime")) if value else self.text("value.none")

    def day(self, value: date) -> str:
        return value.strftime(self.text("format.day"))

    def month(self, value: date) -> str:
        return value.strftime(self.text("format.month"))
