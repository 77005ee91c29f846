"""The drawn maps' fixed words and number formats, in Italian and English.

Both languages have the same keys (a test checks it), so a wall map can never
be half translated; a missing key fails the render instead of printing the key.
Labels that come from the journey map itself (phases, touchpoints, KPIs) are
`Bilingual` in the view and do not pass through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from percorso.events.channel import CHANNEL_WORDS
from percorso.journey.views import Bilingual

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")

WORDS: Mapping[Language, Mapping[str, str]] = {
    "it": {
        "map.subtitle": "Mappa del percorso cliente",
        "map.persona": "Persona",
        "map.all_profiles": "Tutti i profili",
        "map.as_of": "Dati al",
        "map.version": "Versione della mappa",
        "map.version_none": "non salvata",
        "map.profiles": "Profili misurati",
        "map.phase": "Fase {n}",
        "lane.touchpoints": "Punti di contatto",
        "lane.channels": "Canali",
        "lane.departments": "Reparti",
        "lane.systems": "Sistemi",
        "lane.volume": "Profili nella fase",
        "lane.conversion": "Passano alla fase successiva",
        "lane.time": "Tempo nella fase",
        "lane.kpis": "Indicatori (KPI)",
        "card.events": "eventi",
        "card.profiles": "profili",
        "card.nps": "NPS",
        "card.sentiment": "Sentiment",
        "pain.badge": "Punto critico",
        "pain.heading": "Punti critici",
        "pain.none": "Nessun punto critico misurato.",
        "pain.lost": "{n} profili persi",
        "volume.share": "{share} del totale",
        "conversion.lost": "{n} persi",
        "conversion.last": "fase finale",
        "time.median": "mediana",
        "time.days": "{n} giorni",
        "kpi.target": "obiettivo {value}",
        "unit.profiles": "{n} profili",
        "unit.events": "{n} eventi",
        "value.none": "—",
        "empty.list": "—",
        "legend.heading": "Legenda",
        "legend.pain": "punto critico: tra le perdite peggiori",
        "legend.good": "buono: NPS ≥ {nps}, sentiment ≥ {sentiment}",
        "legend.fair": "da migliorare: NPS ≥ {nps}, sentiment ≥ {sentiment}",
        "legend.poor": "scarso: valori più bassi",
        "footer.made": "Generata da Percorso",
        "integrations.subtitle": "Mappa delle integrazioni",
        "integrations.systems": "Sistemi",
        "integrations.flows": "Flussi",
        "integrations.below": "copertura sotto il {share}",
        "integrations.high": "copertura dal {share} in su",
        "integrations.empty": "nessun profilo da portare",
        "integrations.hours": "{n} h",
        "integrations.profiles": "{n} profili",
        "integrations.not_drawn": "non disegnato: sistema non presente nella mappa",
        "table.flow": "Flusso",
        "table.from": "Da",
        "table.to": "A",
        "table.coverage": "Copertura",
        "table.reached": "Arrivati / attesi",
        "table.hours": "Ore (mediana)",
        **{f"channel.{c}": w for c, w in CHANNEL_WORDS["it"].items()},
        "channel.in_person": "di persona",
        "channel.phone": "telefono",
        "channel.word_of_mouth": "passaparola",
        "department.marketing": "Marketing",
        "department.sales": "Vendite",
        "department.service": "Assistenza",
        "department.administration": "Amministrazione",
        "device.any": "ogni dispositivo",
        "device.desktop": "desktop",
        "device.mobile": "smartphone",
        "device.tablet": "tablet",
        "device.bot": "bot",
        "device.other": "altro",
        "format.thousands": ".",
        "format.decimal": ",",
        "format.day": "%d/%m/%Y",
    },
    "en": {
        "map.subtitle": "Customer journey map",
        "map.persona": "Persona",
        "map.all_profiles": "All profiles",
        "map.as_of": "Data as of",
        "map.version": "Map version",
        "map.version_none": "not saved",
        "map.profiles": "Profiles measured",
        "map.phase": "Phase {n}",
        "lane.touchpoints": "Touchpoints",
        "lane.channels": "Channels",
        "lane.departments": "Departments",
        "lane.systems": "Systems",
        "lane.volume": "Profiles in the phase",
        "lane.conversion": "Go on to the next phase",
        "lane.time": "Time in the phase",
        "lane.kpis": "Indicators (KPIs)",
        "card.events": "events",
        "card.profiles": "profiles",
        "card.nps": "NPS",
        "card.sentiment": "Sentiment",
        "pain.badge": "Pain point",
        "pain.heading": "Pain points",
        "pain.none": "No pain point measured.",
        "pain.lost": "{n} profiles lost",
        "volume.share": "{share} of the total",
        "conversion.lost": "{n} lost",
        "conversion.last": "final phase",
        "time.median": "median",
        "time.days": "{n} days",
        "kpi.target": "target {value}",
        "unit.profiles": "{n} profiles",
        "unit.events": "{n} events",
        "value.none": "—",
        "empty.list": "—",
        "legend.heading": "Legend",
        "legend.pain": "pain point: among the worst drop-offs",
        "legend.good": "good: NPS ≥ {nps}, sentiment ≥ {sentiment}",
        "legend.fair": "fair: NPS ≥ {nps}, sentiment ≥ {sentiment}",
        "legend.poor": "poor: lower values",
        "footer.made": "Made with Percorso",
        "integrations.subtitle": "Integration map",
        "integrations.systems": "Systems",
        "integrations.flows": "Flows",
        "integrations.below": "coverage below {share}",
        "integrations.high": "coverage {share} or more",
        "integrations.empty": "no profile to carry",
        "integrations.hours": "{n} h",
        "integrations.profiles": "{n} profiles",
        "integrations.not_drawn": "not drawn: system missing from the map",
        "table.flow": "Flow",
        "table.from": "From",
        "table.to": "To",
        "table.coverage": "Coverage",
        "table.reached": "Reached / expected",
        "table.hours": "Hours (median)",
        **{f"channel.{c}": w for c, w in CHANNEL_WORDS["en"].items()},
        "channel.in_person": "in person",
        "channel.phone": "phone",
        "channel.word_of_mouth": "word of mouth",
        "department.marketing": "Marketing",
        "department.sales": "Sales",
        "department.service": "Service",
        "department.administration": "Administration",
        "device.any": "any device",
        "device.desktop": "desktop",
        "device.mobile": "smartphone",
        "device.tablet": "tablet",
        "device.bot": "bot",
        "device.other": "other",
        "format.thousands": ",",
        "format.decimal": ".",
        "format.day": "%Y-%m-%d",
    },
}


@dataclass(frozen=True)
class Words:
    """One language's words and number formats, as the templates use them.

    Returns plain strings: the templates autoescape whatever they print.
    """

    language: Language

    def __call__(self, key: str, **values: str) -> str:
        return WORDS[self.language][key].format(**values)

    def label(self, text: Bilingual) -> str:
        return text.it if self.language == "it" else text.en

    def channel(self, channel: str) -> str:
        """A known channel in words; a company's own channel name as it wrote it."""
        return WORDS[self.language].get(f"channel.{channel}", channel)

    def department(self, department: str) -> str:
        return WORDS[self.language].get(f"department.{department}", department)

    def device(self, device: str) -> str:
        return WORDS[self.language].get(f"device.{device}", device)

    def number(self, value: float, decimals: int = 0) -> str:
        """12.345 / 12,345; with decimals 4,5 / 4.5."""
        # Python's "," grouping and "." decimal point are swapped through a
        # placeholder so Italian gets 12.345,6 without touching the locale.
        text = f"{value:,.{decimals}f}"
        thousands, decimal = self("format.thousands"), self("format.decimal")
        return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def percent(self, share: float | None, decimals: int = 1) -> str:
        """A share 0..1 as 45,2% / 45.2%; None as a dash."""
        if share is None:
            return self("value.none")
        return f"{self.number(share * 100, decimals)}%"

    def signed(self, value: float, decimals: int = 0) -> str:
        """+32 / −12: NPS and sentiment read better with their sign."""
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + self.number(abs(value), decimals)

    def day(self, value: datetime) -> str:
        return value.strftime(self("format.day"))

    def kpi(self, value: float | None, unit: str) -> str:
        """A KPI value in its unit: profiles and events counted, shares in %, days."""
        if value is None:
            return self("value.none")
        if unit == "share":
            return self.percent(value)
        if unit == "days":
            return self("time.days", n=self.number(value, 1))
        if unit in ("profiles", "events"):
            return self(f"unit.{unit}", n=self.number(value))
        decimals = 0 if float(value).is_integer() else 1
        return f"{self.number(value, decimals)} {unit}".rstrip()
