"""The newsletter tool (`mailer`): subscriptions, sends, opens, clicks, unsubscriptions.

The mailer knows people by the address they subscribed with (lower case:
it normalises on the way in). A click opens the website on whatever device
the person read the email on, and the link's `ajs_uid` identifies that browser.
"""

from __future__ import annotations

import bisect

from percorso.demo.calendar import DAY, END, HOUR, SECOND, at, day_of
from percorso.demo.catalogue import CAMPAIGN_DAYS, CAMPAIGNS, Campaign
from percorso.demo.people import Device, Person
from percorso.demo.rows import dumps
from percorso.demo.traffic import ENTRY, USER_AGENTS
from percorso.demo.website import Visit
from percorso.demo.world import World


def subscribe(world: World, person: Person, moment: int, origin: str) -> None:
    """Sign up to the newsletter (from the site's form or at checkout)."""
    if person.subscribed_at is not None:
        return
    rng = world.rng
    address = person.alt_email if person.alt_email and rng.random() < 0.4 else person.email
    if world.rows.add(
        person,
        moment + int(rng.uniform(2, 40) * SECOND),
        "mailer",
        "track",
        "subscribed",
        channel=world.channel("mailer"),
        user_id=address,
        properties=dumps({"list": "newsletter", "origin": origin}),
        identifiers=(("email", address),),
    ):
        person.subscribed_at = moment
        person.list_email = address
        person.promote("prospect")
        # Most people stay subscribed for more than a year.
        leave = moment + int(rng.expovariate(1 / 480) * DAY)
        person.unsubscribed_at = leave if leave < END else None


def campaigns_after(moment: int) -> range:
    first = bisect.bisect_right(CAMPAIGN_DAYS, day_of(moment))
    return range(first, len(CAMPAIGNS))


def _reader(world: World, person: Person) -> Device:
    """The browser an email is read in: one of the person's, as a detached copy.

    The newsletter is played after the rest of a person's story, out of time
    order, so it must not change the state (cookie, identity) their browsers
    have in the story's timeline.
    """
    rng = world.rng
    mobile = rng.random() < 0.55  # most newsletters are read on a phone
    pool = [d for d in person.devices if d.kind == "mobile"] if mobile else []
    pool = pool or [d for d in person.devices if d.kind != "bot"]
    if not pool:
        return world.new_device(person, "mobile" if mobile else "desktop")
    base = rng.choice(pool)
    return Device(base.kind, base.user_agent, base.anonymous_id)


def _mail_client_context(world: World, device: Device) -> tuple[str, str | None]:
    """Opens and clicks report the reader's user agent, so they have a device too."""
    context = dumps(
        {
            "library": {"name": "aurora-mailer-webhooks", "version": "2.1.3"},
            "userAgent": USER_AGENTS[device.user_agent],
        }
    )
    return context, world.classifier.device(device.user_agent)


def deliver(
    world: World,
    person: Person,
    campaign: Campaign,
    *,
    open_rate: float,
    click_rate: float,
    visit: bool = True,
    force_click: bool = False,
) -> int | None:
    """One campaign to one subscriber; the moment they clicked through, if they did."""
    rng = world.rng
    rows = world.rows
    address = person.list_email or person.email
    email = world.channel("mailer")
    sent = at(campaign.day, 10.0) + int(rng.uniform(0, 45 * 60) * SECOND)
    props = dumps({"campaign": campaign.name, "subject": campaign.subject, "list": "newsletter"})
    if not rows.add(
        person,
        sent,
        "mailer",
        "track",
        "email_delivered",
        channel=email,
        user_id=address,
        properties=props,
    ):
        return None
    if not force_click and rng.random() >= open_rate:
        return None
    opened = sent + int(rng.expovariate(1 / 5.0) * HOUR) + 30 * SECOND
    reader = _reader(world, person)
    context, device = _mail_client_context(world, reader)
    small = dumps({"campaign": campaign.name})
    rows.add(
        person,
        opened,
        "mailer",
        "track",
        "email_opened",
        channel=email,
        user_id=address,
        device=device,
        properties=small,
        context=context,
    )
    if not force_click and rng.random() >= click_rate:
        return None
    clicked = opened + int(rng.uniform(5, 180) * SECOND)
    if not rows.add(
        person,
        clicked,
        "mailer",
        "track",
        "email_clicked",
        channel=email,
        user_id=address,
        device=device,
        properties=dumps({"campaign": campaign.name, "url": campaign.page.url}),
        context=context,
    ):
        return None
    if visit:
        landing = Visit(
            world,
            person,
            reader,
            clicked + 2 * SECOND,
            ENTRY["newsletter"],
            campaign=campaign.name,
            ajs_uid=address.lower(),
        )
        if landing.page(campaign.page):
            landing.wander(rng.randrange(0, 4))
    return clicked


def newsletter(world: World, person: Person, converted: int | None = None) -> None:
    """Every campaign from subscription to unsubscription (or the end of history).

    `converted` is the campaign whose click became a purchase: its visit was
    already played by the shop, so only the mail events are written here.
    """
    if person.subscribed_at is None or person.list_email is None:
        return
    rng = world.rng
    # Each reader has their habits; offices read less than consumers.
    open_rate = min(0.85, max(0.03, rng.gauss(0.38 if person.persona == "privato" else 0.27, 0.15)))
    stop = person.unsubscribed_at or END
    for index in campaigns_after(person.subscribed_at):
        campaign = CAMPAIGNS[index]
        if at(campaign.day, 10.0) >= stop:
            break
        churned = person.churned_at is not None and at(campaign.day, 0) > person.churned_at
        deliver(
            world,
            person,
            campaign,
            open_rate=open_rate * (0.4 if churned else 1.0),
            click_rate=0.18,
            force_click=index == converted,
            visit=index != converted,
        )
        if churned and person.unsubscribed_at is None and rng.random() < 0.05:
            stop = at(campaign.day, 10.0) + int(rng.uniform(1, 48) * HOUR)
            person.unsubscribed_at = stop
    if person.unsubscribed_at is not None:
        world.rows.add(
            person,
            person.unsubscribed_at,
            "mailer",
            "track",
            "unsubscribed",
            channel=world.channel("mailer"),
            user_id=person.list_email,
            properties=dumps(
                {
                    "list": "newsletter",
                    "reason": rng.choice(("troppe email", "non interessato", "", "")),
                }
            ),
        )
