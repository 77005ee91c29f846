"""A small demo company, generated once per test session and shared (it is read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from percorso.demo.generate import Chunk, generate

SEED = 7
PEOPLE = 2_500
"""Three chunks (the last one partial): enough for every path of the journey to show up."""


@dataclass(frozen=True)
class Demo:
    chunks: list[Chunk]
    events: pa.Table
    truth: pa.Table
    people: pa.Table
    db: duckdb.DuckDBPyConnection
    """In-memory DuckDB with `events`, `truth` and `people` registered, for the shape queries."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.db.execute(sql).fetchall()

    def value(self, sql: str) -> Any:
        return self.rows(sql)[0][0]


@pytest.fixture(scope="session")
def demo() -> Demo:
    chunks = list(generate(PEOPLE, SEED))
    events = pa.concat_tables(c.events for c in chunks)
    truth = pa.concat_tables(c.truth for c in chunks)
    people = pa.concat_tables(c.persons for c in chunks)
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")  # timestamps are naive UTC; local hours via timezone()
    db.register("events", events)
    db.register("truth", truth)
    db.register("people", people)
    # Which person sent each event, from the truth: every event names a user_id or anonymous_id.
    db.execute(
        """
        CREATE TEMP VIEW owned AS
        SELECT e.*, coalesce(u.person_id, a.person_id) AS person_id
        FROM events e
        LEFT JOIN truth u ON u.identifier_kind = 'user_id' AND u.identifier_value = e.user_id
        LEFT JOIN truth a ON a.identifier_kind = 'anonymous_id' AND a.identifier_value = e.anonymous_id
        """
    )
    return Demo(chunks, events, truth, people, db)
