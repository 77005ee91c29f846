"""The CRM (`crm`): contacts, lead qualification and deals, in the sales team's hours.

The CRM knows people by its own id ("CRM-000123"); email and phone are in
the traits as the salesperson or the form typed them.
"""

from __future__ import annotations

from percorso.demo.calendar import MINUTE, SECOND, office_time
from percorso.demo.catalogue import DEAL_STAGES
from percorso.demo.people import Person, email_as_typed, phone_as_typed
from percorso.demo.rows import IdentifierKind, dumps
from percorso.demo.world import World

SALES = ("andrea.colombo", "paola.greco", "stefano.riva", "marta.fontana")

# Whether contacts arrive by webhook within minutes or are typed by a salesperson.
AUTOMATIC_ORIGINS = frozenset({"form-contatti", "form-preventivo", "web-shop"})


def crm_id(person: Person) -> str:
    return f"CRM-{person.index + 1:06d}"


def _track(world: World, person: Person, moment: int, event: str, props: dict[str, object]) -> bool:
    assert person.crm_id is not None
    return world.rows.add(
        person,
        moment,
        "crm",
        "track",
        event,
        channel=world.channel("crm"),
        user_id=person.crm_id,
        properties=dumps(props),
    )


def create_contact(world: World, person: Person, moment: int, origin: str) -> int | None:
    """A contact record (track + identify with traits); the moment, or None past the end."""
    rng = world.rng
    if person.crm_id is not None:
        return moment
    if origin in AUTOMATIC_ORIGINS:
        when = moment + int(rng.uniform(1, 15) * MINUTE)
        if origin == "web-shop":
            when = office_time(rng, moment, 12)  # the shop's customers are synced overnight
    else:
        when = office_time(rng, moment)
    person.crm_id = crm_id(person)
    owner = rng.choice(SALES)
    if not _track(world, person, when, "contact_created", {"origin": origin, "owner": owner}):
        person.crm_id = None
        return None
    traits: dict[str, object] = {
        "crm_id": person.crm_id,
        "email": email_as_typed(rng, person.email, 0.25),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "city": person.city,
    }
    identifiers: list[tuple[IdentifierKind, str]] = [
        ("crm_id", person.crm_id),
        ("email", person.email),
    ]
    if rng.random() < 0.8:
        traits["phone"] = phone_as_typed(rng, person.phone)
        identifiers.append(("phone", person.phone))
    if person.company:
        traits["company"] = person.company
    world.rows.add(
        person,
        when + SECOND,
        "crm",
        "identify",
        "identify",
        channel=world.channel("crm"),
        user_id=person.crm_id,
        traits=dumps(traits),
        identifiers=tuple(identifiers),
    )
    return when


def add_email(world: World, person: Person, moment: int, address: str) -> None:
    """The salesperson records a second address the person wrote from."""
    if person.crm_id is None:
        return
    world.rows.add(
        person,
        office_time(world.rng, moment),
        "crm",
        "identify",
        "identify",
        channel=world.channel("crm"),
        user_id=person.crm_id,
        traits=dumps({"crm_id": person.crm_id, "email_2": address}),
        identifiers=(("email", address),),
    )


def _stage(world: World, person: Person, moment: int, deal: str, old: str, new: str) -> bool:
    return _track(
        world,
        person,
        moment,
        "deal_stage_changed",
        {"deal_id": deal, "from_stage": old, "to_stage": new},
    )


def run_deal(
    world: World, person: Person, created: int, *, qualify: float, win: float
) -> int | None:
    """From a fresh lead to a won deal; the moment it was won, or None (lost, stalled, not yet)."""
    rng = world.rng
    deal = f"D-{person.index + 1:07d}"
    moment = office_time(rng, created, rng.uniform(2, 72))
    if rng.random() >= qualify:
        # Not every lead is worth a call: it stays a lead.
        return None
    score = rng.randrange(55, 100)
    if not _track(
        world, person, moment, "lead_qualified", {"score": score, "owner": rng.choice(SALES)}
    ):
        return None
    if not _stage(world, person, moment + MINUTE, deal, DEAL_STAGES[0], DEAL_STAGES[1]):
        return None
    b2b = person.persona != "privato"
    if b2b and rng.random() < 0.75:
        moment = office_time(rng, moment, rng.uniform(1, 10) * 24)
        kind = rng.choice(("visita in sede", "videochiamata", "degustazione"))
        if not _track(
            world,
            person,
            moment,
            "meeting_held",
            {"deal_id": deal, "kind": kind, "minutes": rng.choice((30, 45, 60, 90))},
        ):
            return None
    moment = office_time(rng, moment, rng.uniform(4, 96))
    amount = {"ufficio": rng.uniform(1200, 4800), "bar": rng.uniform(4500, 14000)}.get(
        person.persona, rng.uniform(190, 700)
    )
    if not _stage(world, person, moment, deal, DEAL_STAGES[1], DEAL_STAGES[2]):
        return None
    if not _track(
        world,
        person,
        moment + 5 * MINUTE,
        "quote_sent",
        {
            "deal_id": deal,
            "quote_id": f"Q-{person.index + 1:07d}",
            "amount": round(amount, 2),
            "currency": "EUR",
        },
    ):
        return None
    stage = DEAL_STAGES[2]
    if rng.random() < 0.6:
        moment = office_time(rng, moment, rng.uniform(3, 14) * 24)
        if not _stage(world, person, moment, deal, stage, DEAL_STAGES[3]):
            return None
        stage = DEAL_STAGES[3]
    moment = office_time(rng, moment, rng.uniform(2, 21) * 24)
    won = rng.random() < win
    if not _stage(world, person, moment, deal, stage, "vinto" if won else "perso"):
        return None
    return moment if won else None
