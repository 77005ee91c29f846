"""Life after the first order: reorders, cross-sell, tickets, surveys, churn and win-back.

Consumers reorder coffee on the web shop as they run out (or take a monthly
subscription the ERP renews by itself); offices and bars order through
their agent or by phone. After every order something may go wrong (a late
courier, a leaking machine, a wrong invoice); bad experiences and low
scores make the next reorder less likely. A customer who stops is
`churned` from the moment their next order was due; some come back after
a win-back email or a call from sales.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from percorso.demo import crm, erp, helpdesk, mailer, social, surveys
from percorso.demo.calendar import (
    DATES,
    DAY,
    END,
    MINUTE,
    at,
    browse_time,
    day_of,
    later,
    office_time,
)
from percorso.demo.catalogue import (
    ACCESSORIES,
    BY_SKU,
    COFFEE_FOR,
    HOME,
    PRODUCT_PAGES,
    SUBSCRIPTION_FOR,
    TOPIC_OF_TICKET,
    TicketTopic,
    winback_campaign,
)
from percorso.demo.people import Person
from percorso.demo.rows import dumps
from percorso.demo.traffic import ENTRIES, ENTRY, RETURN_ENTRIES
from percorso.demo.website import Line, land
from percorso.demo.world import World

ABANDON_CHECKOUT = {"mobile": 0.36, "tablet": 0.27, "desktop": 0.17}
CYCLE_DAYS = {"privato": 38.0, "ufficio": 30.0, "bar": 14.0}


@dataclass
class Account:
    """What the company sells to one customer and how it has gone so far."""

    machine: str = ""
    coffee: str = ""
    orders: int = 0
    tickets: int = 0
    subscription: str = ""
    discount: float = 0.0
    last_descaler: int = 0
    last_nps: int = 0
    handoff_until: int = 0
    gifts: set[int] = field(default_factory=set)


def _line(sku: str, qty: int, discount: float = 0.0) -> Line:
    product = BY_SKU[sku]
    return (sku, product.name, round(product.price * (1 - discount), 2), qty)


def basket(
    world: World, person: Person, account: Account, moment: int, *, machine: bool = False
) -> list[Line]:
    """The next order: the machine first if wanted, then its coffee, accessories, gifts."""
    rng = world.rng
    lines: list[Line] = []
    if person.persona == "privato":
        if (machine or (account.orders and rng.random() < 0.04)) and not account.machine:
            account.machine = rng.choice(("MAC-AUR-01", "MAC-AUR-01", "MAC-AUR-02"))
            account.coffee = ""
            lines.append(_line(account.machine, 1))
        if not account.coffee:
            account.coffee = rng.choice(COFFEE_FOR[account.machine])
        lines.append(_line(account.coffee, rng.choice((1, 2, 2, 3, 4))))
        if (
            account.machine
            and moment - account.last_descaler > 120 * DAY
            and account.orders
            and rng.random() < 0.5
        ):
            account.last_descaler = moment
            lines.append(_line("ACC-DEC", rng.choice((1, 2))))
        elif rng.random() < 0.12:
            lines.append(_line(rng.choice(ACCESSORIES[1:]), 1))
        when = DATES[min(day_of(moment), len(DATES) - 1)]
        if when.month in (11, 12) and when.year not in account.gifts and rng.random() < 0.3:
            account.gifts.add(when.year)
            lines.append(_line("REG-NAT", rng.choice((1, 1, 2, 3))))
        return lines
    office = person.persona == "ufficio"
    if machine:
        account.machine = "MAC-AUR-UFF" if office else "MAC-AUR-PRO"
        if rng.random() < (0.7 if office else 0.4):
            lines.append(_line(account.machine, 1, account.discount))
    account.coffee = "CAP-UFF-300" if office else "GRA-BAR-5K"
    lines.append(
        _line(account.coffee, rng.randint(1, 4) if office else rng.randint(2, 8), account.discount)
    )
    if rng.random() < 0.08:
        lines.append(
            _line(
                rng.choice(("ACC-DEC", "ACC-FIL", "ACC-TAZ-6")), rng.randint(1, 3), account.discount
            )
        )
    return lines


def record_order(
    world: World,
    person: Person,
    account: Account,
    moment: int,
    lines: list[Line],
    channel: erp.OrderChannel,
    *,
    web_order_id: str | None = None,
) -> bool:
    """The ERP side of an order (opening the account on the first one), then its aftermath."""
    rng = world.rng
    if person.erp_id is None:
        opened = (
            moment + int(rng.uniform(1, 5) * MINUTE)
            if channel == "web"
            else office_time(rng, moment)
        )
        web = person.origin == "web"
        if not erp.create_customer(
            world,
            person,
            opened,
            email=1.0 if channel == "web" else (0.8 if web else 0.45),
            crm=0.5 if channel == "web" else 0.85,
        ):
            return False
        moment = max(moment, opened + MINUTE)
    account.orders += 1
    order_id = f"OV-{person.index + 1:07d}-{account.orders:03d}"
    if not erp.place_order(
        world, person, moment, order_id, lines, channel, web_order_id=web_order_id
    ):
        return False
    person.promote("customer")
    if channel == "web" and person.crm_id is None and rng.random() < 0.7:
        # The shop's buyers are synced to the CRM overnight, most of them.
        crm.create_contact(world, person, moment, "web-shop")
    aftercare(world, person, account, moment, lines, web=channel == "web")
    return True


def aftercare(
    world: World, person: Person, account: Account, moment: int, lines: list[Line], *, web: bool
) -> None:
    """What may follow an order: tickets (and their CSAT), an NPS survey."""
    rng = world.rng
    b2c = person.persona == "privato"
    chances: dict[TicketTopic, float] = {
        "consegna": 0.05 if b2c else 0.02,
        "guasto": 0.22 if any(BY_SKU[sku].category == "macchina" for sku, *_ in lines) else 0.008,
        "fatturazione": 0.01 if b2c else 0.04,
        "prodotto": 0.02,
        "reso": 0.015 if b2c else 0.0,
        "sito": 0.01 if web else 0.0,
    }
    for topic, chance in chances.items():
        if rng.random() >= chance:
            continue
        account.tickets += 1
        start = moment + helpdesk.ticket_delay(world, topic)
        outcome = helpdesk.open_ticket(
            world, person, start, topic, account.tickets, handoff=start < account.handoff_until
        )
        if outcome is None:
            continue
        felt = outcome.closed_at or start + 5 * DAY
        person.experience(felt, outcome.effect)
        if outcome.closed_at is not None:
            surveys.csat(world, person, outcome.closed_at, TOPIC_OF_TICKET[topic], outcome.effect)
        if person.alt_email and rng.random() < 0.3:
            crm.add_email(world, person, felt, person.alt_email)
    if account.orders == 1:
        surveys.nps(world, person, moment + int(rng.uniform(10, 20) * DAY), "ordine")
        account.last_nps = moment
    elif moment - account.last_nps > 180 * DAY:
        surveys.nps(world, person, moment + int(rng.uniform(3, 10) * DAY), "periodico")
        account.last_nps = moment


def shop(
    world: World,
    person: Person,
    account: Account,
    start: int,
    entry: int,
    *,
    campaign: str | None = None,
    machine: bool = False,
    retries: int = 1,
) -> int | None:
    """Buy on the web shop (again after an abandoned checkout, sometimes); the order's moment."""
    rng = world.rng
    for attempt in range(retries + 1):
        device = world.device(person, "desktop" if attempt and rng.random() < 0.5 else None)
        ajs = (person.list_email or person.email) if ENTRIES[entry].kind == "email" else None
        tentative = replace(account, gifts=set(account.gifts))
        lines = basket(world, person, tentative, start, machine=machine)
        page = HOME if rng.random() < 0.4 else PRODUCT_PAGES[lines[0][0]]
        visit = land(world, person, device, start, entry, page=page, campaign=campaign, ajs_uid=ajs)
        if visit.over:
            return None
        visit.wander(rng.randrange(0, 3))
        order = f"AUR-{person.index + 1:07d}-{account.orders + 1:03d}"
        email = person.email
        traits = {"email": email, "first_name": person.first_name, "last_name": person.last_name}
        scale = 0.5 if account.orders else 1.0  # returning buyers know the way
        if visit.checkout(order, lines, ABANDON_CHECKOUT[device.kind] * scale, email, traits):
            vars(account).update(vars(tentative))  # the basket's choices hold only if it was bought
            if not record_order(
                world, person, account, visit.now + 2 * MINUTE, lines, "web", web_order_id=order
            ):
                return None
            if person.subscribed_at is None and rng.random() < 0.3:
                mailer.subscribe(world, person, visit.now, "checkout")
            return visit.now
        if visit.over or rng.random() < 0.5:
            return None
        start = later(rng, visit.now, 3.0, "b2c")
        entry = rng.choices(*RETURN_ENTRIES)[0]
    return None


def _next_due(world: World, person: Person, account: Account, moment: int) -> int:
    rng = world.rng
    if account.subscription:
        return at(day_of(moment) + 30, 6.0)  # the ERP renews subscriptions at dawn
    cycle = CYCLE_DAYS[person.persona]
    days = max(5.0, rng.gauss(cycle, cycle * 0.25))
    if person.persona == "privato":
        return browse_time(rng, day_of(moment) + int(days), "b2c")
    return office_time(rng, moment + int(days * DAY))


def _reorder(world: World, person: Person, account: Account, due: int) -> int | None:
    rng = world.rng
    if person.persona != "privato":
        channel: erp.OrderChannel = "agente" if rng.random() < 0.6 else "telefono"
        lines = basket(world, person, account, due)
        return due if record_order(world, person, account, due, lines, channel) else None
    if account.subscription:
        lines = [_line(account.subscription, 1)]
        return due if record_order(world, person, account, due, lines, "abbonamento") else None
    entry = rng.choices(*RETURN_ENTRIES)[0] if rng.random() < 0.85 else ENTRY["gmail"]
    return shop(world, person, account, due, entry)


def _win_back(world: World, person: Person, account: Account, churned: int) -> int | None:
    """A win-back email (consumers) or a call from sales (accounts); the return, if any."""
    rng = world.rng
    day = day_of(churned) + rng.randint(45, 120)
    if at(day, 0) >= END:
        return None
    if person.persona == "privato":
        if person.list_email is None or (person.unsubscribed_at or END) < at(day, 0):
            return None
        campaign = winback_campaign(day)
        clicked = mailer.deliver(
            world, person, campaign, open_rate=0.4, click_rate=0.35, visit=False
        )
        if clicked is None or rng.random() >= 0.45:
            return None
        return shop(
            world,
            person,
            account,
            clicked + 2_000_000,
            ENTRY["newsletter"],
            campaign=campaign.name,
            retries=0,
        )
    if person.crm_id is None or rng.random() >= 0.5:
        return None
    call = office_time(rng, at(day, 0))
    if not world.rows.add(
        person,
        call,
        "crm",
        "track",
        "meeting_held",
        channel=world.channel("crm"),
        user_id=person.crm_id,
        properties=dumps({"kind": "recupero cliente", "minutes": rng.choice((15, 30))}),
    ):
        return None
    if rng.random() >= 0.35:
        return None
    due = office_time(rng, call, 48)
    return _reorder(world, person, account, due)


def _christmas(world: World, person: Person, account: Account, moment: int, due: int) -> None:
    """December brings gift orders on top of the usual reorders."""
    rng = world.rng
    for day in range(day_of(moment) + 1, day_of(due)):
        when = DATES[min(day, len(DATES) - 1)]
        if when.month == 12 and 1 <= when.day <= 20 and when.year not in account.gifts:
            if rng.random() < 0.4:
                shop(
                    world,
                    person,
                    account,
                    browse_time(rng, day, "b2c"),
                    rng.choices(*RETURN_ENTRIES)[0],
                    retries=0,
                )
            return


def customer_life(world: World, person: Person, account: Account, first_order: int) -> None:
    """Reorders until the end of history or until the customer stops for good."""
    rng = world.rng
    moment = first_order
    base = {"privato": 0.035, "ufficio": 0.02, "bar": 0.014}[person.persona]
    if person.persona == "privato" and rng.random() < 0.1:
        social.interactions(world, person, moment, rng.randint(1, 4), before=False)
    while moment < END:
        if (
            person.persona == "privato"
            and not account.subscription
            and account.orders >= 2
            and account.coffee in SUBSCRIPTION_FOR
            and rng.random() < 0.12
        ):
            account.subscription = SUBSCRIPTION_FOR[account.coffee]
        due = _next_due(world, person, account, moment)
        if due >= END:
            return
        hazard = base * (0.6 if account.subscription else 1.0) + 0.22 * max(0.0, -person.mood(due))
        if rng.random() < hazard:
            person.churned_at = due
            back = _win_back(world, person, account, due)
            if back is None:
                return
            person.churned_at = None
            person.won_back = True
            person.experience(back, 0.8)
            moment = back
            continue
        if person.persona == "privato" and not account.subscription:
            _christmas(world, person, account, moment, due)
        ordered = _reorder(world, person, account, due)
        if ordered is None:
            # The reorder fell through (abandoned checkout): try again a week later.
            moment = due + 7 * DAY
            continue
        moment = ordered
