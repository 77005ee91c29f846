"""The help desk (`helpdesk`): tickets opened, answered and closed, by email address.

The help desk knows people by the address they wrote from, as they typed it
(capitals and all), and sometimes that is an address no other system knows.
Tickets right after a B2B deal is won wait longer: service was not told
what sales promised (the sales -> service hand-off).
"""

from __future__ import annotations

from dataclasses import dataclass

from percorso.demo.calendar import DAY, HOUR, MINUTE, at, day_of, evening_hour, office_time
from percorso.demo.catalogue import AGENTS, TICKET_SUBJECTS, TicketTopic
from percorso.demo.people import Person, email_as_typed
from percorso.demo.rows import dumps
from percorso.demo.world import World


@dataclass(frozen=True)
class TicketOutcome:
    topic: TicketTopic
    closed_at: int | None
    resolved: bool
    effect: float
    """How the experience changed the customer's mood (negative: worse)."""


def open_ticket(
    world: World,
    person: Person,
    moment: int,
    topic: TicketTopic,
    number: int,
    *,
    handoff: bool = False,
) -> TicketOutcome | None:
    """One ticket from first email to closure (or to nowhere); None past the end of history."""
    rng = world.rng
    rows = world.rows
    channel = world.channel("helpdesk")
    wrote_from = person.alt_email if person.alt_email and rng.random() < 0.5 else person.email
    typed = email_as_typed(rng, wrote_from, 0.3).strip()
    ticket_id = f"T-{person.index + 1:07d}-{number:02d}"
    opened = (
        at(day_of(moment), evening_hour(rng))
        if person.persona == "privato"
        else office_time(rng, moment)
    )
    opened = max(opened, moment)
    via = rng.choices(("email", "telefono", "chat"), (60, 25, 15))[0]
    subject = rng.choice(TICKET_SUBJECTS[person.language][topic])
    if not rows.add(
        person,
        opened,
        "helpdesk",
        "track",
        "ticket_opened",
        channel=channel,
        user_id=typed,
        properties=dumps({"ticket_id": ticket_id, "topic": topic, "subject": subject, "via": via}),
        identifiers=(("email", wrote_from),),
    ):
        return None
    slow = 2.5 if handoff else 1.0
    replies = rng.choices((1, 2, 3, 4), (50, 28, 15, 7))[0]
    waiting_since = opened
    first_response = 0
    for reply in range(replies):
        wait = rng.lognormvariate(4.6, 1.0) * slow  # median ~100 minutes of office time
        moment = office_time(rng, waiting_since + int(wait * MINUTE))
        minutes = (moment - waiting_since) // MINUTE
        if reply == 0:
            first_response = int(minutes)
        if not rows.add(
            person,
            moment,
            "helpdesk",
            "track",
            "ticket_replied",
            channel=channel,
            user_id=typed,
            properties=dumps(
                {
                    "ticket_id": ticket_id,
                    "topic": topic,
                    "response_minutes": int(minutes),
                    "agent": rng.choice(AGENTS),
                }
            ),
        ):
            return TicketOutcome(topic, None, False, -0.3)
        waiting_since = moment + int(rng.uniform(2, 48) * HOUR)  # the customer writes back
    resolved = rng.random() < (0.72 if handoff else 0.89)
    if not resolved:
        # Nobody closes it: the customer gives up, and remembers.
        return TicketOutcome(topic, None, False, -1.3)
    closed = office_time(rng, moment)
    fcr = replies == 1
    rows.add(
        person,
        closed,
        "helpdesk",
        "track",
        "ticket_closed",
        channel=channel,
        user_id=typed,
        properties=dumps(
            {
                "ticket_id": ticket_id,
                "topic": topic,
                "first_contact_resolution": fcr,
                "response_minutes": first_response,
                "replies": replies,
            }
        ),
    )
    waited_long = first_response > 24 * 60
    effect = (
        (0.35 if fcr else 0.1)
        - (0.6 if waited_long else 0.0)
        - (0.25 if topic == "guasto" else 0.0)
    )
    return TicketOutcome(topic, closed, True, effect)


def ticket_delay(world: World, topic: TicketTopic) -> int:
    """How long after an order a problem of this kind shows up."""
    rng = world.rng
    days = {
        "consegna": rng.uniform(2, 9),
        "guasto": rng.uniform(10, 160),
        "fatturazione": rng.uniform(5, 40),
        "prodotto": rng.uniform(3, 30),
        "reso": rng.uniform(3, 20),
        "sito": rng.uniform(0, 3),
    }[topic]
    return int(days * DAY)
