"""The social connector (`social`): likes and comments by handle, ad clicks, lead ads.

Social networks know people by their handle (`user_id` "instagram:..."),
not by email. An ad click also carries the browser's anonymous id that the
site's pixel shares with the network (as conversion APIs do), which is the
only bridge from a handle to a website visitor; a lead ad hands over an email.
"""

from __future__ import annotations

from percorso.demo.calendar import DAY, MIDNIGHTS, at, day_of, evening_hour, office_hour
from percorso.demo.people import Device, Person, social_handle
from percorso.demo.rows import dumps
from percorso.demo.world import World

KINDS = ("like", "comment", "share", "follow", "message")
KIND_WEIGHTS = (55, 15, 10, 15, 5)


def network_for(world: World, person: Person) -> str:
    if person.persona == "privato":
        return world.rng.choice(("instagram", "instagram", "facebook"))
    return world.rng.choice(("linkedin", "linkedin", "facebook"))


def handle(world: World, person: Person) -> str:
    if person.handle is None:
        person.handle = social_handle(world.rng, person, network_for(world, person))
    return person.handle


def interactions(world: World, person: Person, around: int, count: int, *, before: bool) -> None:
    """A few likes, comments or follows in the weeks before (or after) `around`."""
    rng = world.rng
    user_id = handle(world, person)
    network = user_id.split(":", 1)[0]
    for _ in range(count):
        offset = int(rng.uniform(0.5, 30.0) * DAY)
        day = day_of(around - offset if before else around + offset)
        hour = office_hour(rng) if network == "linkedin" else evening_hour(rng)
        moment = max(at(day, hour), MIDNIGHTS[0])
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        world.rows.add(
            person,
            moment,
            "social",
            "track",
            "social_interaction",
            channel=world.channel("social"),
            user_id=user_id,
            properties=dumps(
                {
                    "network": network,
                    "kind": kind,
                    "post_id": f"{network[:2]}-{rng.randrange(10**9):09d}",
                }
            ),
        )


def ad_click(
    world: World, person: Person, device: Device, moment: int, network: str, campaign: str
) -> None:
    """The click on a sponsored post, a moment before the landing page loads."""
    rng = world.rng
    world.rows.add(
        person,
        moment,
        "social",
        "track",
        "ad_clicked",
        channel=world.channel("social"),
        user_id=handle(world, person),
        anonymous_id=device.anonymous_id,
        properties=dumps(
            {"network": network, "campaign": campaign, "ad_id": f"ad-{rng.randrange(10**6):06d}"}
        ),
    )


def lead_ad(world: World, person: Person, moment: int) -> None:
    """A lead form filled in on the network: the handle comes with an email."""
    user_id = handle(world, person)
    email = person.email
    world.rows.add(
        person,
        moment,
        "social",
        "identify",
        "identify",
        channel=world.channel("social"),
        user_id=user_id,
        traits=dumps({"email": email, "first_name": person.first_name}),
        identifiers=(("email", email),),
    )
