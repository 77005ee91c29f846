"""The survey tool (`surveys`): NPS after orders and twice a year, CSAT after tickets,
and Google reviews from the promoters who accept its invitation.

Answers are keyed by the email the survey was sent to. Scores follow the
person's mood at that moment (temperament plus what happened to them), and
about two answers in three come with a comment in the person's language.
"""

from __future__ import annotations

import random
from typing import Literal

from percorso.demo.calendar import HOUR, MINUTE, at, day_of, evening_hour
from percorso.demo.comments import Topic, compose, csat_sentiment, nps_sentiment, pick_topic
from percorso.demo.people import Person
from percorso.demo.rows import dumps
from percorso.demo.world import World

Trigger = Literal["ordine", "ticket", "periodico"]
REVIEW_CHANCE = 0.3
COMMENT_CHANCE = {"positive": 0.55, "mixed": 0.7, "negative": 0.85}


def _answer(
    world: World,
    person: Person,
    moment: int,
    survey: Literal["nps", "csat"],
    score: int,
    topic: Topic | None,
    trigger: Trigger,
) -> bool:
    rng = world.rng
    sentiment = nps_sentiment(score) if survey == "nps" else csat_sentiment(score)
    props: dict[str, object] = {
        "survey": survey,
        "score": score,
        "language": person.language,
        "trigger": trigger,
    }
    if rng.random() < COMMENT_CHANCE[sentiment]:
        about = topic if topic is not None and rng.random() < 0.75 else pick_topic(rng)
        props["comment"] = compose(rng, person.language, sentiment, about)
    address = person.list_email or person.email
    # People answer in their own time, mostly in the evening, within a few days.
    answered = at(day_of(moment + int(rng.uniform(2, 96) * HOUR)), evening_hour(rng))
    answered = max(answered, moment + 10 * MINUTE)
    return world.rows.add(
        person,
        answered,
        "surveys",
        "track",
        "survey_answered",
        channel=world.channel("surveys"),
        user_id=address,
        properties=dumps(props),
        identifiers=(("email", address),),
    )


def nps(
    world: World, person: Person, moment: int, trigger: Trigger, topic: Topic | None = None
) -> int | None:
    """An NPS answer (0-10) if the person answers; their score either way when they do."""
    rng = world.rng
    if not person.reachable or rng.random() >= (0.28 if trigger != "periodico" else 0.2):
        return None
    score = round(8.2 + 1.7 * person.mood(moment) + rng.gauss(0.0, 1.1))
    score = min(10, max(0, score))
    if not _answer(world, person, moment, "nps", score, topic, trigger):
        return None
    if score <= 6:
        person.experience(moment, -0.4)  # saying it out loud does not make it better
    if score >= 9:
        _review(world, person, moment)
    return score


def _review(world: World, person: Person, moment: int) -> None:
    """Some promoters accept the survey's invitation to review the shop on Google.

    Drawn from a generator of its own, so adding reviews left every other
    event of the demo as it was.
    """
    rng = random.Random(f"review:{person.person_id}:{moment}")
    if rng.random() >= REVIEW_CHANCE:
        return
    address = person.list_email or person.email
    props = {
        "platform": "google",
        "rating": 5 if rng.random() < 0.8 else 4,
        "language": person.language,
    }
    world.rows.add(
        person,
        moment + int(rng.uniform(24, 120) * HOUR),
        "surveys",
        "track",
        "review_posted",
        channel=world.channel("surveys"),
        user_id=address,
        properties=dumps(props),
        identifiers=(("email", address),),
    )


def csat(world: World, person: Person, moment: int, topic: Topic, effect: float) -> int | None:
    """A CSAT answer (1-5) after a ticket, driven by how the ticket went."""
    rng = world.rng
    if rng.random() >= 0.38:
        return None
    score = round(3.9 + 1.6 * effect + 0.4 * person.mood(moment) + rng.gauss(0.0, 0.6))
    score = min(5, max(1, score))
    return score if _answer(world, person, moment, "csat", score, topic, "ticket") else None
