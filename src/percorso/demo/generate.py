"""The demo company's people and events, chunk by chunk, deterministically.

People are simulated in fixed-size chunks, each with random sources seeded
from (seed, chunk number) alone: the same seed and size give byte-identical
tables, a bigger size only appends chunks, and memory stays bounded by one
chunk however many people are asked for.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from percorso.demo.journeys import live
from percorso.demo.people import Person, Persona, new_bot, new_person
from percorso.demo.world import World

PEOPLE_PER_CHUNK = 1_000
DEFAULT_PEOPLE = 9_000
"""About 208,000 events: a few seconds to generate and store."""
MAX_PEOPLE = 5_000_000
"""Identifier formats (7-digit ERP codes and ids) hold this many people."""

PERSONAS: tuple[tuple[Persona, ...], tuple[int, ...]] = (
    ("privato", "ufficio", "bar"),
    (72, 15, 13),
)
AGENT_SHARE = {"ufficio": 0.12, "bar": 0.3}
"""Share of offices and bars an agent signed up by phone (ERP only, never on the website)."""
BOTS_PER_PERSON = 0.015

PEOPLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("persona", pa.string()),
        ("segment", pa.string()),
        ("language", pa.string()),
        ("origin", pa.string()),
        ("stage", pa.string()),
        ("churned", pa.bool_()),
        ("churned_at", pa.timestamp("us")),
        ("won_back", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class Chunk:
    """One chunk's output: events (`INCOMING`), identifiers truth, people."""

    index: int
    people: int
    events: pa.Table
    truth: pa.Table
    persons: pa.Table


def chunk_count(people: int) -> int:
    return -(-people // PEOPLE_PER_CHUNK)


def _bots_before(people: int) -> int:
    return int(people * BOTS_PER_PERSON)


def generate_chunk(seed: int, index: int, people: int) -> Chunk:
    """Chunk `index` of a company of `people` people (and its crawlers)."""
    first = index * PEOPLE_PER_CHUNK
    last = min(people, first + PEOPLE_PER_CHUNK)
    rng = random.Random(f"percorso-demo:{seed}:{index}")
    world = World(rng)
    persons: list[Person] = []
    for number in range(first, last):
        persona = rng.choices(*PERSONAS)[0]
        person = new_person(rng, number, persona)
        if rng.random() < AGENT_SHARE.get(persona, 0.0):
            person.origin = "agente"
        persons.append(person)
    for number in range(_bots_before(first), _bots_before(last)):
        persons.append(new_bot(number))
    for person in persons:
        live(world, person)
    events = world.rows.table(np.random.default_rng([seed, index]))
    truth = world.rows.truth_table({p.person_id: p for p in persons})
    return Chunk(index, last - first, events, truth, people_table(persons))


def generate(people: int, seed: int) -> Iterator[Chunk]:
    for index in range(chunk_count(people)):
        yield generate_chunk(seed, index, people)


def people_table(persons: list[Person]) -> pa.Table:
    return pa.table(
        {
            "person_id": [p.person_id for p in persons],
            "persona": [p.persona for p in persons],
            "segment": [p.segment for p in persons],
            "language": [p.language if p.persona != "bot" else None for p in persons],
            "origin": [p.origin if p.persona != "bot" else None for p in persons],
            "stage": [p.stage for p in persons],
            "churned": [p.stage == "churned" for p in persons],
            "churned_at": pa.array([p.churned_at for p in persons], pa.int64()).cast(
                pa.timestamp("us")
            ),
            "won_back": [p.won_back for p in persons],
        },
        schema=PEOPLE_SCHEMA,
    )
