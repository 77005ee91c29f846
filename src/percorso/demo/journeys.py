"""One person's journey, from the first anonymous visit to whatever they became.

Most visitors look around once or twice and leave (suspects). Those who
engage want something: the newsletter (prospects), a contact or a quote
(leads, who reach the CRM unless the form's webhook fails), or to buy
(customers). Every hand-off loses people: mobile visitors give up on forms
more often, visitors from social media engage less, subscribers mostly
never talk to sales, and sales do not win every deal.
"""

from __future__ import annotations

from typing import Literal

from percorso.demo import crm, customers, mailer, social
from percorso.demo.calendar import (
    DAY,
    DAYS,
    MIDNIGHTS,
    SECOND,
    arrival_day,
    at,
    browse_time,
    later,
    office_time,
)
from percorso.demo.catalogue import CAMPAIGNS, CONTENT, PRODUCT_PAGES, FormId
from percorso.demo.customers import Account
from percorso.demo.people import Person, email_as_typed, phone_as_typed
from percorso.demo.rows import IdentifierKind, dumps
from percorso.demo.traffic import ENTRIES, ENTRY, FIRST_ENTRIES, RETURN_ENTRIES
from percorso.demo.website import land
from percorso.demo.world import World

ENGAGE = {"privato": 0.40, "ufficio": 0.5, "bar": 0.45}
"""Chance a first-time visitor comes back with something in mind, by persona..."""
ENTRY_FACTOR = {
    "direct": 1.25,
    "search": 1.0,
    "paid": 0.95,
    "social": 0.45,
    "paid-social": 0.5,
    "referral": 0.9,
    "email": 1.0,
}
"""...and by how they arrived: social media bring curious people, not buyers."""
Intent = Literal["newsletter", "shop", "contatti", "preventivo"]
INTENTS: dict[str, tuple[tuple[Intent, ...], tuple[int, ...]]] = {
    "privato": (("newsletter", "shop", "contatti"), (45, 42, 13)),
    "ufficio": (("preventivo", "newsletter", "contatti"), (58, 27, 15)),
    "bar": (("preventivo", "newsletter", "contatti"), (62, 20, 18)),
}
ABANDON_FORM = {"mobile": 0.42, "tablet": 0.3, "desktop": 0.13, "bot": 1.0}
CRM_GAP = 0.09
"""Share of contact and quote forms whose webhook to the CRM silently fails."""
MESSAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("B2C", "it"): (
        "Vorrei informazioni sull'abbonamento.",
        "Mi richiamate per favore?",
        "Che macchina mi consigliate per le capsule?",
        "Fate spedizioni in Sardegna?",
    ),
    ("B2C", "en"): (
        "Could you tell me more about the subscription?",
        "Which machine do you recommend?",
        "Please call me back.",
        "Do you ship to the islands?",
    ),
    ("B2B", "it"): (
        "Vorrei un preventivo per la macchina da ufficio.",
        "Siamo in 15, quante capsule servono al mese?",
        "Avete un listino per bar?",
        "Richiesta di degustazione in sede.",
        "Ci serve una macchina a due gruppi per il locale.",
    ),
    ("B2B", "en"): (
        "Could you send me a quote for our office?",
        "Do you deliver to Milan offices?",
        "We are 20 people, what would you suggest?",
    ),
}


def live(world: World, person: Person) -> None:
    """Play one person's whole story into the chunk's rows."""
    if person.persona == "bot":
        crawl(world, person)
    elif person.origin == "agente":
        account_by_agent(world, person)
    else:
        converted = acquire(world, person)
        mailer.newsletter(world, person, converted)
    if person.stage == "customer" and person.churned_at is not None:
        person.stage = "churned"


def acquire(world: World, person: Person) -> int | None:
    """First visits and what they lead to; the newsletter campaign that turned into a sale, if any."""
    rng = world.rng
    rhythm = person.rhythm
    start = browse_time(rng, arrival_day(rng, rhythm), rhythm)
    entries, weights = FIRST_ENTRIES[rhythm]
    entry = rng.choices(entries, weights)[0]
    kind = ENTRIES[entry].kind
    if kind in ("social", "paid-social") or rng.random() < 0.06:
        social.interactions(world, person, start, rng.randint(1, 3), before=True)
        if rng.random() < 0.1:
            # A lead ad on the network: an email for the newsletter, no website visit needed.
            signed = max(start - int(rng.uniform(0.1, 5) * DAY), MIDNIGHTS[0])
            social.lead_ad(world, person, signed)
            mailer.subscribe(world, person, signed, "lead-ad")
    visit = land(world, person, world.device(person), start, entry)
    visit.wander(rng.choice((0, 0, 1, 1, 2, 3)))
    if rng.random() >= ENGAGE[person.persona] * ENTRY_FACTOR[kind]:
        if rng.random() < 0.35:
            again = land(
                world,
                person,
                world.device(person),
                later(rng, visit.now, 12, rhythm),
                rng.choices(*RETURN_ENTRIES)[0],
            )
            again.wander(rng.randint(0, 2))
        return None
    moment = visit.now
    for _ in range(rng.randint(0, 2)):
        moment = later(rng, moment, 5, rhythm)
        browse = land(world, person, world.device(person), moment, rng.choices(*RETURN_ENTRIES)[0])
        browse.wander(rng.randint(1, 4), (*PRODUCT_PAGES.values(), *CONTENT))
        moment = browse.now
    names, odds = INTENTS[person.persona]
    intent = rng.choices(names, odds)[0]
    moment = later(rng, moment, 4, rhythm)
    if intent == "shop":
        account = Account()
        first = customers.shop(
            world,
            person,
            account,
            moment,
            rng.choices(*RETURN_ENTRIES)[0],
            machine=rng.random() < 0.45,
        )
        if first is not None:
            customers.customer_life(world, person, account, first)
        return None
    if intent != "newsletter":
        lead(world, person, moment, intent)
        return None
    submitted = form(world, person, moment, "newsletter")
    if submitted is None:
        return None
    mailer.subscribe(world, person, submitted, "sito")
    if person.persona == "privato" and rng.random() < 0.22:
        return _buy_from_newsletter(world, person, submitted)
    if rng.random() < 0.07:
        lead(
            world,
            person,
            later(rng, submitted, 40, rhythm),
            "contatti" if person.persona == "privato" else "preventivo",
        )
    return None


def _buy_from_newsletter(world: World, person: Person, subscribed: int) -> int | None:
    """A subscriber who buys after a campaign: the campaign's index if they did."""
    rng = world.rng
    upcoming = list(mailer.campaigns_after(subscribed))
    if not upcoming or person.list_email is None:
        return None
    index = upcoming[min(len(upcoming) - 1, int(rng.expovariate(1 / 3)))]
    if (
        person.unsubscribed_at is not None
        and at(CAMPAIGNS[index].day, 10) >= person.unsubscribed_at
    ):
        return None
    campaign = CAMPAIGNS[index]
    clicked = mailer.deliver(
        world, person, campaign, open_rate=1.0, click_rate=1.0, visit=False, force_click=True
    )
    if clicked is None:
        return None
    account = Account()
    first = customers.shop(
        world,
        person,
        account,
        clicked + 2 * SECOND,
        ENTRY["newsletter"],
        campaign=campaign.name,
        retries=0,
    )
    if first is not None:
        customers.customer_life(world, person, account, first)
    return index


def form(world: World, person: Person, moment: int, form_id: FormId) -> int | None:
    """Fill in a form on the website (giving up and retrying, sometimes); when it was sent."""
    rng = world.rng
    for attempt in range(3):
        device = world.device(person, "desktop" if attempt and rng.random() < 0.5 else None)
        visit = land(world, person, device, moment, rng.choices(*RETURN_ENTRIES)[0])
        visit.wander(rng.randint(0, 2))
        if visit.submit_form(form_id, ABANDON_FORM[device.kind]):
            typed = email_as_typed(rng, person.email, 0.15)
            traits: dict[str, object] = {"email": typed.strip()}
            if form_id != "newsletter":
                traits |= {"first_name": person.first_name, "last_name": person.last_name}
            visit.identify(person.email, traits)
            if form_id != "newsletter":
                _form_tool(world, person, visit.now, form_id, typed, device.anonymous_id)
            return visit.now
        if visit.over or rng.random() >= 0.45:
            return None
        moment = later(rng, visit.now, 4, person.rhythm)
    return None


def _form_tool(
    world: World, person: Person, moment: int, form_id: FormId, typed: str, anonymous_id: str
) -> None:
    """The form tool's webhook: the fields as typed; its hidden field carries the browser id half the time."""
    rng = world.rng
    traits: dict[str, object] = {
        "email": typed,
        "first_name": person.first_name,
        "last_name": person.last_name,
    }
    identifiers: list[tuple[IdentifierKind, str]] = [("email", person.email)]
    if rng.random() < 0.85:
        traits["phone"] = phone_as_typed(rng, person.phone)
        identifiers.append(("phone", person.phone))
    if person.company:
        traits["company"] = person.company
    world.rows.add(
        person,
        moment + int(rng.uniform(1, 6) * SECOND),
        "forms",
        "track",
        "form_submitted",
        channel=world.channel("forms"),
        user_id=typed.strip(),
        anonymous_id=anonymous_id if rng.random() < 0.5 else None,
        properties=dumps(
            {
                "form_id": form_id,
                "message": rng.choice(MESSAGES[person.segment or "B2C", person.language]),
            }
        ),
        traits=dumps(traits),
        identifiers=tuple(identifiers),
    )


def lead(
    world: World, person: Person, moment: int, form_id: Literal["contatti", "preventivo"]
) -> None:
    """A contact or quote request, the CRM, the sales process, and the first order if won."""
    rng = world.rng
    submitted = form(world, person, moment, form_id)
    if submitted is None:
        return
    person.promote("lead")
    if rng.random() < CRM_GAP:
        return
    created = crm.create_contact(world, person, submitted, f"form-{form_id}")
    if created is None:
        return
    b2b = person.persona != "privato"
    if form_id == "preventivo":
        won = crm.run_deal(world, person, created, qualify=0.75, win=0.5)
    else:
        won = crm.run_deal(world, person, created, qualify=0.5 if b2b else 0.35, win=0.45)
    account = Account()
    if not b2b:
        if won is not None or rng.random() < 0.25:
            # The salesperson's email links to the shop; the consumer buys there.
            start = later(rng, won or created, 2, "b2c")
            first = customers.shop(world, person, account, start, ENTRY["gmail"], machine=True)
            if first is not None:
                customers.customer_life(world, person, account, first)
        return
    if won is None:
        return
    account.discount = round(rng.uniform(0.08, 0.2), 2)
    account.handoff_until = won + 45 * DAY
    first = office_time(rng, won, rng.uniform(24, 240))
    lines = customers.basket(world, person, account, first, machine=True)
    if customers.record_order(world, person, account, first, lines, "agente"):
        customers.customer_life(world, person, account, first)


def account_by_agent(world: World, person: Person) -> None:
    """A bar or office an agent signed up by phone: ERP only, a CRM record rarely and late."""
    rng = world.rng
    # Not in the last days of history: every person leaves at least one trace.
    first = office_time(rng, at(arrival_day(rng, "b2b", last=DAYS - 10), 0))
    account = Account(discount=round(rng.uniform(0.1, 0.22), 2))
    lines = customers.basket(world, person, account, first, machine=rng.random() < 0.3)
    if not customers.record_order(world, person, account, first, lines, "agente"):
        return
    if rng.random() < 0.2:
        crm.create_contact(world, person, first + int(rng.uniform(10, 120) * DAY), "telefono")
    customers.customer_life(world, person, account, first)


def crawl(world: World, person: Person) -> None:
    """A crawler that keeps its cookie: bursts of many pages at any hour."""
    rng = world.rng
    device = world.new_device(person, "bot")
    for _ in range(rng.randint(1, 6)):
        start = at(rng.randrange(DAYS), rng.uniform(0, 24))
        visit = land(world, person, device, start, ENTRY["direct"])
        visit.wander(rng.randint(3, 25))
