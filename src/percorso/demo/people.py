"""Who the demo company meets: consumers, offices and bars, with their names and contacts.

Each person owns the truth about their identifiers (emails, phone, devices);
the systems only ever see those through their own, messier, eyes.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from percorso.demo.names import (
    B2C_DOMAIN_WEIGHTS,
    B2C_DOMAINS,
    BAR_KINDS,
    BAR_NAMES,
    CITIES,
    EN_FIRST,
    EN_LAST,
    IT_FIRST,
    IT_LAST,
    MOBILE_PREFIXES,
    OFFICE_KINDS,
)

Persona = Literal["privato", "ufficio", "bar", "bot"]
Segment = Literal["B2C", "B2B"]
Language = Literal["it", "en"]
Stage = Literal["suspect", "prospect", "lead", "customer", "churned"]
DeviceKind = Literal["desktop", "mobile", "tablet", "bot"]


@dataclass(slots=True)
class Device:
    """One browser on one device: the website knows it only by its anonymous id."""

    kind: DeviceKind
    user_agent: int
    anonymous_id: str
    user_id: str | None = None
    """Set once the website identified the person on this browser."""


@dataclass(slots=True)
class Person:
    """One human (or crawler) and what the generator knows about them."""

    index: int
    person_id: str
    persona: Persona
    language: Language
    first_name: str
    last_name: str
    city: str
    email: str
    phone: str
    """E.164, as the truth file holds it."""
    company: str | None = None
    vat_number: str | None = None
    alt_email: str | None = None
    handle: str | None = None
    devices: list[Device] = field(default_factory=list)
    crm_id: str | None = None
    erp_id: str | None = None
    stage: Stage = "suspect"
    churned_at: int | None = None
    won_back: bool = False
    subscribed_at: int | None = None
    unsubscribed_at: int | None = None
    origin: Literal["web", "agente"] = "web"
    """`agente`: a B2B account a sales agent brought in by phone, known only to the ERP."""
    list_email: str | None = None
    """The address the newsletter goes to."""
    reachable: bool = False
    """Some system holds one of the person's emails, so surveys can reach them."""
    satisfaction: float = 0.0
    """Temperament: how well disposed the person is before anything happens."""
    experiences: list[tuple[int, float]] = field(default_factory=list)
    """(when, effect) of good (+) and bad (-) experiences; they drive scores and churn."""

    @property
    def segment(self) -> Segment | None:
        if self.persona == "bot":
            return None
        return "B2C" if self.persona == "privato" else "B2B"

    @property
    def rhythm(self) -> Literal["b2c", "b2b"]:
        return "b2c" if self.persona == "privato" else "b2b"

    def mood(self, moment: int) -> float:
        """Temperament plus every experience up to `moment`."""
        return self.satisfaction + sum(
            effect for when, effect in self.experiences if when <= moment
        )

    def experience(self, moment: int, effect: float) -> None:
        self.experiences.append((moment, effect))

    def promote(self, stage: Stage) -> None:
        """Lifecycle stages only move forward (churned is set by its own rule)."""
        order = ("suspect", "prospect", "lead", "customer")
        if stage in order and self.stage in order and order.index(stage) > order.index(self.stage):
            self.stage = stage


def ascii_slug(text: str, sep: str = "") -> str:
    """'Nicolò D'Angelo' -> 'nicolodangelo': what people type in an email address."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return sep.join("".join(c for c in word if c.isalnum()) for word in plain.lower().split())


def vat_number(rng: random.Random) -> str:
    """An Italian partita IVA: 7-digit number, 3-digit office code, Luhn-style check digit."""
    digits = [rng.randrange(10) for _ in range(7)] + [
        int(c) for c in f"{rng.randrange(1, 101):03d}"
    ]
    total = 0
    for position, digit in enumerate(digits):
        if position % 2:
            doubled = digit * 2
            total += doubled - 9 if doubled > 9 else doubled
        else:
            total += digit
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _email(rng: random.Random, first: str, last: str, number: int, domain: str) -> str:
    f, ln = ascii_slug(first), ascii_slug(last)
    # The person's index keeps every address unique, as a birth year or a counter would.
    local = rng.choice(
        (
            f"{f}.{ln}{number}",
            f"{f[0]}{ln}{number}",
            f"{ln}.{f}{number}",
            f"{f}{ln}.{number}",
            f"{f}_{ln}{number}",
        )
    )
    return f"{local}@{domain}"


def _b2c_domain(rng: random.Random) -> str:
    return rng.choices(B2C_DOMAINS, B2C_DOMAIN_WEIGHTS)[0]


def new_person(rng: random.Random, index: int, persona: Persona) -> Person:
    # Expats and international offices: about a quarter of the feedback is in English.
    english = rng.random() < {"privato": 0.3, "ufficio": 0.36, "bar": 0.12, "bot": 0.0}[persona]
    language: Language = "en" if english else "it"
    first = rng.choice(EN_FIRST if english else IT_FIRST)
    last = rng.choice(EN_LAST if english else IT_LAST)
    city, area = rng.choice(CITIES)
    company: str | None = None
    vat: str | None = None
    if persona == "ufficio":
        company = f"{rng.choice(OFFICE_KINDS)} {rng.choice(IT_LAST)}" + rng.choice(
            ("", " S.r.l.", " & Associati", " S.p.A.")
        )
        vat = vat_number(rng)
    elif persona == "bar":
        company = f"{rng.choice(BAR_KINDS)} {rng.choice(BAR_NAMES)}" + rng.choice(
            ("", " di " + last, " S.n.c.")
        )
        vat = vat_number(rng)
    number = index + 1
    if company is not None:
        domain = (
            ascii_slug(company.replace("S.r.l.", "").replace("S.p.A.", "").replace("S.n.c.", ""))
            + ".it"
        )
        email = _email(rng, first, last, number, domain)
    else:
        email = _email(rng, first, last, number, _b2c_domain(rng))
    if persona in ("ufficio", "bar") and rng.random() < 0.5:
        phone = "+39" + area + "".join(str(rng.randrange(10)) for _ in range(9 - len(area) + 1))
    else:
        phone = "+39" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10_000_000):07d}"
    person = Person(
        index=index,
        person_id=f"P{index + 1:07d}",
        persona=persona,
        language=language,
        first_name=first,
        last_name=last,
        city=city,
        email=email,
        phone=phone,
        company=company,
        vat_number=vat,
        satisfaction=rng.gauss(0.0, 0.6),
    )
    if rng.random() < 0.06:
        # A second address: work and personal, or an old provider kept alive.
        person.alt_email = _email(rng, first, last, number + 7_000_000, _b2c_domain(rng))
    return person


def new_bot(index: int) -> Person:
    """A crawler: no name, no contacts, numbered apart from people."""
    return Person(
        index=index,
        person_id=f"BOT{index + 1:06d}",
        persona="bot",
        language="it",
        first_name="",
        last_name="",
        city="",
        email="",
        phone="",
    )


def email_as_typed(rng: random.Random, email: str, sloppy: float) -> str:
    """The address as a person or a clerk typed it: capitals here and there, sometimes a space."""
    if rng.random() >= sloppy:
        return email
    local, _, domain = email.partition("@")
    pick = rng.random()
    if pick < 0.45:
        local = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
        typed = f"{local}@{domain.capitalize()}"
    elif pick < 0.7:
        typed = email.upper()
    elif pick < 0.85:
        typed = f" {email} "
    else:
        typed = f"{local.capitalize()}@{domain} "
    return typed


def phone_as_typed(rng: random.Random, e164: str) -> str:
    """An Italian number the way forms, CRMs and ERPs hold it (all normalise to E.164)."""
    national = e164.removeprefix("+39")
    pick = rng.random()
    if pick < 0.3:
        return national
    if pick < 0.55:
        return f"+39 {national[:3]} {national[3:6]} {national[6:]}"
    if pick < 0.7:
        return f"0039 {national}"
    if pick < 0.85:
        return f"{national[:3]} {national[3:]}"
    return e164


def social_handle(rng: random.Random, person: Person, network: str) -> str:
    name = ascii_slug(person.first_name) + rng.choice(("", ".", "_")) + ascii_slug(person.last_name)
    return f"{network}:{name}{rng.choice(('', '_', '.'))}{person.index + 1}"


def new_anonymous_id(rng: random.Random) -> str:
    """A random UUID, as analytics.js makes one for each browser."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"
